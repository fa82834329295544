package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/loadgen"
)

// loadgenCmd submits a mix of birth and death dossiers to a running system,
// waits for them to finish and reports throughput, latencies, status-sync
// lag and memory (loadgen.Command). It reaches the API as the operator
// commands do, mints tokens from the token key unless given one, and reads
// completion and lag from the read model when it has --database-url.
type loadgenCmd struct {
	config.Log
	config.Data
	config.Database
	config.APIGRPC
	config.TLS
	config.Tokens
	config.Population

	Dossiers       int           `name:"dossiers" default:"100" help:"dossiers to submit"`
	BirthShare     float64       `name:"birth-share" default:"0.7" help:"share of birth dossiers; the rest are deaths (nationally ~1.4 M births to 0.6-0.7 M deaths a year; Nghệ An's 21 days were 1,406 to 127, i.e. 0.92)"`
	AllowanceShare float64       `name:"allowance-share" default:"0.5" help:"share of deaths in the three-procedure bundle (with the funeral allowance)"`
	Rate           float64       `name:"rate" default:"0" help:"submissions per second; 0 submits as fast as --concurrency allows"`
	Concurrency    int           `name:"concurrency" default:"16" help:"submissions in flight at once"`
	Timeout        time.Duration `name:"timeout" default:"10m" help:"bound on the whole run, submitting and waiting"`
	Offset         int           `name:"offset" default:"0" help:"first form index; a person dies once, so repeat runs on one database need a new offset"`
	Seed           int64         `name:"seed" default:"1" help:"orders births and deaths; the same seed gives the same run"`
	Token          string        `name:"token" env:"LIENTHONG_TOKEN" secret:"" help:"API bearer token for every call; without it tokens are minted from --token-key"`
	As             string        `name:"as" default:"clerk" enum:"clerk,admin" help:"with --token-key: mint a clerk token per commune (clerk) or one admin token (admin)"`
	JSON           bool          `name:"json" help:"print the report as JSON"`
	PIDs           []string      `name:"pid" help:"name=pid of a process whose peak RSS to report (repeatable)"`
}

func (c *loadgenCmd) Run(ctx context.Context) error {
	o := loadgen.Options{
		Dossiers: c.Dossiers, BirthShare: c.BirthShare, AllowanceShare: c.AllowanceShare,
		Rate: c.Rate, Concurrency: c.Concurrency, Timeout: c.Timeout, Offset: c.Offset, Seed: c.Seed,
		Token: c.Token, As: c.As, JSON: c.JSON,
	}
	for _, p := range c.PIDs {
		if err := o.PIDs.Set(p); err != nil {
			return fmt.Errorf("--pid: %w", err)
		}
	}
	return loadgen.Command(ctx, config.From(c), o, os.Stdout)
}
