package cli

import (
	"context"
	"errors"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/bench"
	"github.com/lienthong/lienthong/stack/embedded"
)

// benchCmd measures lienthong against the embedded stack in one process
// and, in the same run, the bare engine's limit for the same amount of work
// (bench.Run); with --backlog, the drain of a backlog after a Police outage
// against the bare engine's (bench.RunBacklog). The stack runs on the
// defaults but for the settings below.
type benchCmd struct {
	config.Log
	config.Database
	config.Rate
	config.Population

	Dossiers    int           `name:"dossiers" default:"400" help:"dossiers in the measured run (the bare-engine run starts as many workflows)"`
	Warmup      int           `name:"warmup" default:"20" help:"dossiers submitted and finished before measuring"`
	Concurrency int           `name:"concurrency" default:"16" help:"submissions (and bare workflow starts) in flight at once"`
	SubmitRate  float64       `name:"rate" default:"0" help:"submissions per second; 0 is as fast as --concurrency allows"`
	BirthShare  float64       `name:"birth-share" default:"0.7" help:"share of birth dossiers"`
	Timeout     time.Duration `name:"timeout" default:"10m" help:"bound on each measured run"`
	Out         string        `name:"out" help:"write the Markdown report here (e.g. docs/BENCHMARKS.md); empty prints it"`
	Profile     string        `name:"profile" help:"keep the CPU profile of the measured run here (default: a temporary file)"`
	Backlog     int           `name:"backlog" default:"0" help:"instead, drain a backlog of this many dossiers submitted while Police is down, and write its section of --out"`
}

func (c *benchCmd) Run(ctx context.Context) error {
	if c.Dossiers <= 0 || c.Concurrency <= 0 || c.Warmup < 0 {
		return errors.New("--dossiers and --concurrency must be positive, --warmup zero or more")
	}
	if c.Backlog < 0 {
		return errors.New("--backlog must be zero or more")
	}
	o := bench.Options{
		Dossiers: c.Dossiers, Warmup: c.Warmup, Concurrency: c.Concurrency, Rate: c.SubmitRate,
		BirthShare: c.BirthShare, Timeout: c.Timeout, Out: c.Out, Profile: c.Profile,
		Temporal: embedded.Temporal,
	}
	if c.Backlog > 0 {
		o.Dossiers, o.Warmup = c.Backlog, 0
		return bench.RunBacklog(ctx, config.From(c), o)
	}
	return bench.Run(ctx, config.From(c), o)
}
