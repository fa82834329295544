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
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/lienthong/lienthong/internal/freeport"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// The goals docs/BENCHMARKS.md reports against.
const (
	goalThroughput   = 20.0 // dossiers per second, end to end
	goalSubmitP99    = 100 * time.Millisecond
	goalSyncLagP99   = time.Second
	goalRatioOfLimit = 0.7
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
	var logger *slog.Logger
	tmp, err := os.MkdirTemp("", "lienthong-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)

	baseURL := base.DatabaseURL
	if baseURL == "" {
		baseURL = loadgen.DefaultDatabase
	}
	dbURL, dropDB, err := loadgen.FreshDatabase(ctx, baseURL, "lienthong_bench")
	if err != nil {
		return res, err
	}
	defer dropDB()
	res.Database = stack.RedactURL(baseURL) + " (a fresh database, dropped afterwards)"

	cfg := base
	cfg.DataDir = tmp
	cfg.TemporalDB = "memory"
	cfg.DatabaseURL = dbURL
	port, err := freeport.On("127.0.0.1")
	if err != nil {
		return res, err
	}
	stack.OnLoopback(&cfg, port)
	cfg.AgencyMode, cfg.AgencyMinDelay, cfg.AgencyMaxDelay = "auto", 0, 0
	cfg.CodecKey, cfg.TokenKey = loadgen.RandomKey(), loadgen.RandomKey()
	if cfg.LogLevel != "debug" {
		cfg.LogLevel = "error"
	}
	logger = stack.NewLogger(cfg)

	running, err := stack.Start(ctx, cfg, io.Discard, stack.DevOptions{NoWorker: true}, 3*time.Minute)
	if err != nil {
		return res, err
	}
	defer func() { _ = running.Stop(time.Minute) }() // the stack's result was reported when it mattered
	addrs := running.Addrs
	scfg := addrs.Config
	fmt.Fprintf(os.Stderr, "bench: stack ready (temporal %s, api %s)\n", addrs.Temporal, addrs.API)

	pool, err := stack.OpenPool(ctx, scfg.DatabaseURL, 8)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	res.Machine = readMachine(ctx, pool)
	// The real worker, exactly as `lienthong worker` builds it, metrics included.
	reg := stack.NewRegistry()
	tc, err := stack.NewTemporalClient(ctx, scfg, logger, reg, nil)
	if err != nil {
		return res, err
	}
	defer tc.Close()

	tr, err := stack.EngineTransport(scfg, logger)
	if err != nil {
		return res, err
	}
	agencies, closeAgencies, err := stack.DialAgencies(scfg, tr, nil)
	if err != nil {
		return res, err
	}
	apiCreds, err := stack.APICredentials(scfg)
	if err != nil {
		return res, err
	}
	defer closeAgencies()
	acts := &activities.Activities{Store: store.New(pool), Agencies: agencies, Logger: logger.With("component", "worker"),
		Metrics: activities.NewMetrics(reg)}
	ws := stack.NewWorkers(tc, acts, scfg.WorkerRate)
	if err := stack.StartWorkers(ws); err != nil {
		return res, err
	}
	defer stack.StartPortalFeed(acts)()
	workersStopped := false
	defer func() {
		if !workersStopped {
			stack.StopWorkers(ws)
		}
	}()

	pop := population.Generate(scfg.AgencySeed, scfg.SeedPeople)
	load := func(n, offset int, progress io.Writer) (loadgen.Report, error) {
		return loadgen.Run(ctx, loadgen.Config{
			Addr: addrs.API, Transport: apiCreds, TokenKey: scfg.TokenKeyBytes(), Population: pop,
			Dossiers: n, BirthShare: f.BirthShare, AllowanceShare: 0.5, Offset: offset, Seed: 1,
			Rate: f.Rate, Concurrency: f.Concurrency, Timeout: f.Timeout, DB: pool,
			Processes: []loadgen.Process{{Name: "lienthong bench (every part in one process)"}},
			Progress:  progress, ProgressTTY: loadgen.IsTerminal(os.Stderr), Logger: logger.With("component", "loadgen"),
		})
	}
	if f.Warmup > 0 {
		fmt.Fprintf(os.Stderr, "bench: warm-up, %d dossiers\n", f.Warmup)
		if _, err := load(f.Warmup, 0, nil); err != nil {
			return res, fmt.Errorf("warm-up: %w", err)
		}
	}

	profilePath := f.Profile
	if profilePath == "" {
		profilePath = filepath.Join(tmp, "cpu.pprof")
	}
	pf, err := os.Create(profilePath)
	if err != nil {
		return res, fmt.Errorf("--profile: %w", err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		_ = pf.Close()
		return res, fmt.Errorf("starting the CPU profile: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: measured run, %d dossiers\n", f.Dossiers)
	cpu0 := processCPU()
	rep, runErr := load(f.Dossiers, f.Warmup, os.Stderr)
	res.OursCPU = processCPU() - cpu0
	pprof.StopCPUProfile()
	_ = pf.Close()
	res.Ours = rep
	if runErr != nil {
		return res, fmt.Errorf("measured run: %w", runErr)
	}
	if res.Profile, err = summarizeProfile(profilePath); err != nil {
		res.ProfileErr = err.Error()
	}
	// The flat listing is a convenience; without the go tool it is left out.
	res.ProfileTop, _ = profileTop(ctx, profilePath)

	ids := make([]string, len(rep.Codes))
	for i, code := range rep.Codes {
		ids[i] = workflows.WorkflowID(code)
	}
	cost, err := measureCost(ctx, tc, ids)
	if err != nil {
		return res, err
	}
	res.Cost = cost
	if !cost.LastClose.IsZero() {
		res.OursClosed = float64(len(rep.Codes)) / cost.LastClose.Sub(rep.Started).Seconds()
	}

	stack.StopWorkers(ws)
	workersStopped = true
	fmt.Fprintf(os.Stderr, "bench: bare engine, %d workflows with %.1f activities and %.1f local activities each\n",
		f.Dossiers, cost.ActivitiesPerDossier(), cost.LocalPerDossier())
	res.Bare, res.BareCPU, err = bareRun(ctx, tc, scfg.WorkerRate, cost, f)
	if err != nil {
		return res, err
	}
	if res.Bare.Cost, err = measureCost(ctx, tc, res.Bare.IDs); err != nil {
		return res, err
	}
	res.PeakRSS, _ = loadgen.PeakRSS(0)
	return res, nil
}
