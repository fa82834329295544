package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/lienthong/lienthong/measure/loadgen"
)

// runLoadgen submits a mix of birth and death dossiers to a running system,
// waits for them to finish and reports throughput, latencies, status-sync
// lag and memory (loadgen.Command).
// loadgenCmd hands its arguments to runLoadgen, which still parses its own flags.
type loadgenCmd struct {
	Args []string `arg:"" optional:"" help:"loadgen's flags; loadgen -h lists them"`
}

func (c *loadgenCmd) Run(ctx context.Context) error { return runLoadgen(ctx, c.Args) }

func runLoadgen(ctx context.Context, args []string) error {
	var o loadgen.Options
	cfg, rest, err := parseCLI("loadgen", args,
		"lienthong loadgen [--dossiers 100] [--rate 0] [--concurrency 16] [--birth-share 0.7] [--database-url URL] [--json]",
		func(fs *flag.FlagSet) { bindLoadgen(fs, &o) })
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("loadgen: unexpected argument %q", rest[0])
	}
	return loadgen.Command(ctx, cfg, o, os.Stdout)
}

func bindLoadgen(fs *flag.FlagSet, o *loadgen.Options) {
	fs.IntVar(&o.Dossiers, "dossiers", 100, "dossiers to submit")
	fs.Float64Var(&o.BirthShare, "birth-share", 0.7, "share of birth dossiers; the rest are deaths (nationally ~1.4 M births to 0.6-0.7 M deaths a year; Nghệ An's 21 days were 1,406 to 127, i.e. 0.92)")
	fs.Float64Var(&o.AllowanceShare, "allowance-share", 0.5, "share of deaths in the three-procedure bundle (with the funeral allowance)")
	fs.Float64Var(&o.Rate, "rate", 0, "submissions per second; 0 submits as fast as --concurrency allows")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "submissions in flight at once")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "bound on the whole run, submitting and waiting")
	fs.IntVar(&o.Offset, "offset", 0, "first form index; a person dies once, so repeat runs on one database need a new offset")
	fs.Int64Var(&o.Seed, "seed", 1, "orders births and deaths; the same seed gives the same run")
	fs.StringVar(&o.Token, "token", "", "API bearer token for every call (env LIENTHONG_TOKEN); without it tokens are minted from --token-key")
	fs.StringVar(&o.As, "as", "clerk", "with --token-key: mint a clerk token per commune (clerk) or one admin token (admin)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.Var(&o.PIDs, "pid", "name=pid of a process whose peak RSS to report (repeatable)")
}
