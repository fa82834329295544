package cli

import (
	"context"
	"os"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/chaos"
)

// chaosCmd runs every part as its own process, injects faults, kills the
// worker and drops database connections while dossiers flow, then checks
// that nothing was lost, doubled or left inconsistent (chaos.Run).
type chaosCmd struct {
	config.Log
	config.Database

	Dossiers       int           `name:"dossiers" default:"2000" help:"mixed birth and death dossiers to submit"`
	Kills          int           `name:"kills" default:"3" help:"times the worker is killed with SIGKILL and restarted"`
	Outage         time.Duration `name:"outage" default:"60s" help:"length of the full Police outage"`
	Seed           int64         `name:"seed" default:"0" help:"seed for the schedule, the faults and the load; 0 picks one (printed)"`
	Keep           bool          `name:"keep" help:"keep the temporary directory (logs, SQLite) and the database"`
	Transient      float64       `name:"transient" default:"0.2" help:"share of agency calls answered UNAVAILABLE while faults are on"`
	BurstEvery     int           `name:"unauth-every" default:"60" help:"after this many calls an agency answers a burst of UNAUTHENTICATED"`
	BurstLength    int           `name:"unauth-length" default:"6" help:"calls in each UNAUTHENTICATED burst"`
	Rate           float64       `name:"rate" default:"20" help:"submissions per second; 0 submits as fast as possible"`
	Concurrency    int           `name:"concurrency" default:"16" help:"submissions in flight at once"`
	Settle         time.Duration `name:"settle" default:"15m" help:"bound on the wait for every dossier to finish"`
	Binary         string        `name:"binary" help:"run this lienthong binary instead of building one"`
	AgencyMaxDelay time.Duration `name:"agency-delay" default:"500ms" help:"longest auto decision delay of the agencies"`
}

func (c *chaosCmd) Run(ctx context.Context) error {
	_, err := chaos.Run(ctx, chaos.Options{
		Dossiers: c.Dossiers, Kills: c.Kills, Outage: c.Outage, Seed: c.Seed, Keep: c.Keep,
		Transient: c.Transient, BurstEvery: c.BurstEvery, BurstLength: c.BurstLength,
		Rate: c.Rate, Concurrency: c.Concurrency, Settle: c.Settle, Binary: c.Binary,
		AgencyMaxDelay: c.AgencyMaxDelay, BaseURL: c.DatabaseURL, LogLevel: c.LogLevel,
	}, os.Stdout)
	return err
}
