package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/lienthong/lienthong/measure/chaos"
)

// runChaos runs every part as its own process, injects faults, kills the
// worker and drops database connections while dossiers flow, then checks
// that nothing was lost, doubled or left inconsistent (chaos.Run).
// chaosCmd hands its arguments to runChaos, which still parses its own flags.
type chaosCmd struct {
	Args []string `arg:"" optional:"" help:"chaos's flags; chaos -h lists them"`
}

func (c *chaosCmd) Run(ctx context.Context) error { return runChaos(ctx, c.Args) }

func runChaos(ctx context.Context, args []string) error {
	var o chaos.Options
	cfg, rest, err := parseCLI("chaos", args, "lienthong chaos [--dossiers 2000] [--kills 3] [--outage 60s] [--seed N] [--keep]",
		func(fs *flag.FlagSet) { bindChaos(fs, &o) })
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("chaos: unexpected argument %q", rest[0])
	}
	o.BaseURL, o.LogLevel = cfg.DatabaseURL, cfg.LogLevel
	_, err = chaos.Run(ctx, o, os.Stdout)
	return err
}

func bindChaos(fs *flag.FlagSet, o *chaos.Options) {
	fs.IntVar(&o.Dossiers, "dossiers", 2000, "mixed birth and death dossiers to submit")
	fs.IntVar(&o.Kills, "kills", 3, "times the worker is killed with SIGKILL and restarted")
	fs.DurationVar(&o.Outage, "outage", 60*time.Second, "length of the full Police outage")
	fs.Int64Var(&o.Seed, "seed", 0, "seed for the schedule, the faults and the load; 0 picks one (printed)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (logs, SQLite) and the database")
	fs.Float64Var(&o.Transient, "transient", 0.2, "share of agency calls answered UNAVAILABLE while faults are on")
	fs.IntVar(&o.BurstEvery, "unauth-every", 60, "after this many calls an agency answers a burst of UNAUTHENTICATED")
	fs.IntVar(&o.BurstLength, "unauth-length", 6, "calls in each UNAUTHENTICATED burst")
	fs.Float64Var(&o.Rate, "rate", 20, "submissions per second; 0 submits as fast as possible")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "submissions in flight at once")
	fs.DurationVar(&o.Settle, "settle", 15*time.Minute, "bound on the wait for every dossier to finish")
	fs.StringVar(&o.Binary, "binary", "", "run this lienthong binary instead of building one")
	fs.DurationVar(&o.AgencyMaxDelay, "agency-delay", 500*time.Millisecond, "longest auto decision delay of the agencies")
}
