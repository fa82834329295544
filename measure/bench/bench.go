// Package bench owns `lienthong bench`: it runs the whole stack in one
// process, measures a realistic load through the API, then runs a bare
// workflow that does the same Temporal work and nothing else, and writes
// docs/BENCHMARKS.md comparing the two, with the machine, the cost per
// dossier and the CPU profile.
//
// It is a tool for measuring lienthong, not part of it: it may import stack,
// the other measure packages and the engine's packages; no production
// package may import it.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/workflows"
)

// The goals docs/BENCHMARKS.md reports against.
const (
	goalThroughput   = 20.0 // dossiers per second, end to end
	goalSubmitP99    = 100 * time.Millisecond
	goalSyncLagP99   = time.Second
	goalRatioOfLimit = 0.8 // the capacity work's goal 1: our throughput ÷ the bare engine's
)

// Options shape one benchmark run.
type Options struct {
	// Dossiers are measured; the bare-engine run starts as many workflows.
	Dossiers int
	// Warmup dossiers are submitted and finished before measuring.
	Warmup int
	// Concurrency is how many submissions (and bare workflow starts) are in flight at once.
	Concurrency int
	// Rate is submissions per second; 0 is as fast as Concurrency allows.
	Rate       float64
	BirthShare float64
	// Timeout bounds each measured run.
	Timeout time.Duration
	// Out is where the Markdown report is written; empty prints it.
	Out string
	// Profile keeps the measured run's CPU profile here; empty uses a temporary file.
	Profile string
	// Temporal starts the stack's embedded Temporal server: embedded.Temporal.
	Temporal stack.EmbeddedTemporal
}

// Run measures lienthong against the embedded stack in one process and,
// in the same run, the bare engine's limit for the same amount of work, and
// writes the report to f.Out, or else prints it.
func Run(ctx context.Context, cfg config.Config, f Options) error {
	res, err := measure(ctx, cfg, f)
	if err != nil {
		return err
	}
	var old kept
	if f.Out != "" {
		if b, err := os.ReadFile(f.Out); err == nil {
			old = keptFrom(string(b))
		}
	}
	doc := renderBenchmarks(res, old)
	if f.Out == "" {
		_, err = io.WriteString(os.Stdout, doc)
		return err
	}
	if err := os.WriteFile(f.Out, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", f.Out)
	return nil
}

// result is everything docs/BENCHMARKS.md shows.
type result struct {
	At       time.Time
	Machine  machineInfo
	Database string
	Flags    Options
	Workers  float64 // --worker-rate

	Ours loadgen.Report
	// OursClosed is our throughput by the workflows' close events, the
	// figure comparable with how the bare run is timed.
	OursClosed float64
	Cost       workflowCost
	Bare       bareResult
	PeakRSS    int64
	// OursCPU and BareCPU are the process's CPU time (user + system) during
	// each measured run.
	OursCPU, BareCPU time.Duration

	Profile    loadgen.ProfileSummary
	ProfileTop string
	ProfileErr string
}

// Ratio is our end-to-end throughput as a share of the bare engine's.
func (r result) Ratio() float64 {
	if r.Bare.Throughput <= 0 {
		return 0
	}
	return r.Ours.Throughput / r.Bare.Throughput
}

// measure runs the stack, the measured load, and the bare-engine run.
func measure(ctx context.Context, base config.Config, f Options) (result, error) {
	res := result{At: time.Now(), Flags: f, Workers: base.WorkerRate}
	h, err := startHarness(ctx, base, f.Temporal)
	if err != nil {
		return res, err
	}
	defer h.close()
	res.Database, res.Machine = h.database, h.machine

	if f.Warmup > 0 {
		fmt.Fprintf(os.Stderr, "bench: warm-up, %d dossiers\n", f.Warmup)
		if _, err := h.load(ctx, f, f.Warmup, 0, nil, nil); err != nil {
			return res, fmt.Errorf("warm-up: %w", err)
		}
	}

	profilePath := h.profilePath(f.Profile)
	stopProfile, err := startProfile(profilePath)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "bench: measured run, %d dossiers\n", f.Dossiers)
	cpu0 := processCPU()
	rep, runErr := h.load(ctx, f, f.Dossiers, f.Warmup, os.Stderr, nil)
	res.OursCPU = processCPU() - cpu0
	stopProfile()
	res.Ours = rep
	if runErr != nil {
		return res, fmt.Errorf("measured run: %w", runErr)
	}
	res.Profile, res.ProfileTop, res.ProfileErr = readProfile(ctx, profilePath)

	cost, err := measureCost(ctx, h.tc, workflowIDs(rep.Codes), time.Time{})
	if err != nil {
		return res, err
	}
	res.Cost = cost
	if !cost.LastClose.IsZero() {
		res.OursClosed = float64(len(rep.Codes)) / cost.LastClose.Sub(rep.Started).Seconds()
	}

	h.stopWorkers()
	fmt.Fprintf(os.Stderr, "bench: bare engine, %d workflows with %.1f activities and %.1f local activities each\n",
		f.Dossiers, cost.ActivitiesPerDossier(), cost.LocalPerDossier())
	res.Bare, res.BareCPU, err = bareRun(ctx, h.tc, h.cfg.WorkerRate, cost, f)
	if err != nil {
		return res, err
	}
	if res.Bare.Cost, err = measureCost(ctx, h.tc, res.Bare.IDs, time.Time{}); err != nil {
		return res, err
	}
	res.PeakRSS, _ = loadgen.PeakRSS(0)
	return res, nil
}

// workflowIDs are the dossiers' workflows.
func workflowIDs(codes []string) []string {
	ids := make([]string, len(codes))
	for i, code := range codes {
		ids[i] = workflows.WorkflowID(code)
	}
	return ids
}

// startProfile writes this process's CPU profile to path until stop.
func startProfile(path string) (stop func(), err error) {
	pf, err := os.Create(path) //nolint:gosec // a path the operator chose
	if err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		_ = pf.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = pf.Close()
	}, nil
}

// readProfile summarises the profile at path by component; the flat
// listing is a convenience, left out without the go tool.
func readProfile(ctx context.Context, path string) (sum loadgen.ProfileSummary, top, problem string) {
	sum, err := summarizeProfile(path)
	if err != nil {
		problem = err.Error()
	}
	top, _ = profileTop(ctx, path)
	return sum, top, problem
}
