package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/lienthong/lienthong/measure/bench"
)

// runBench measures lienthong against the embedded stack in one process
// and, in the same run, the bare engine's limit for the same amount of work
// (bench.Run).
// benchCmd hands its arguments to runBench, which still parses its own flags.
type benchCmd struct {
	Args []string `arg:"" optional:"" help:"bench's flags; bench -h lists them"`
}

func (c *benchCmd) Run(ctx context.Context) error { return runBench(ctx, c.Args) }

func runBench(ctx context.Context, args []string) error {
	var o bench.Options
	cfg, rest, err := parseCLI("bench", args, "lienthong bench [--dossiers 400] [--concurrency 16] [--out docs/BENCHMARKS.md]",
		func(fs *flag.FlagSet) { bindBench(fs, &o) })
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("bench: unexpected argument %q", rest[0])
	}
	if o.Dossiers <= 0 || o.Concurrency <= 0 || o.Warmup < 0 {
		return errors.New("--dossiers and --concurrency must be positive, --warmup zero or more")
	}
	return bench.Run(ctx, cfg, o)
}

func bindBench(fs *flag.FlagSet, o *bench.Options) {
	fs.IntVar(&o.Dossiers, "dossiers", 400, "dossiers in the measured run (the bare-engine run starts as many workflows)")
	fs.IntVar(&o.Warmup, "warmup", 20, "dossiers submitted and finished before measuring")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "submissions (and bare workflow starts) in flight at once")
	fs.Float64Var(&o.Rate, "rate", 0, "submissions per second; 0 is as fast as --concurrency allows")
	fs.Float64Var(&o.BirthShare, "birth-share", 0.7, "share of birth dossiers")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "bound on each measured run")
	fs.StringVar(&o.Out, "out", "", "write the Markdown report here (e.g. docs/BENCHMARKS.md); empty prints it")
	fs.StringVar(&o.Profile, "profile", "", "keep the CPU profile of the measured run here (default: a temporary file)")
}
