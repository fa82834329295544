package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc/credentials"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/store"
)

// harness is what a scenario measures: the embedded stack in this process,
// on a fresh database, with the real worker built as `lienthong worker`
// builds it, metrics included.
type harness struct {
	tmp      string // the stack's data directory, removed on close
	machine  machineInfo
	cfg      config.Config // as the stack resolved it, keys and addresses included
	addrs    stack.Addrs
	database string // where the fresh database lives, without credentials
	logger   *slog.Logger
	pool     *pgxpool.Pool
	tc       client.Client
	tr       *stack.Transport
	apiCreds credentials.TransportCredentials
	pop      *population.Population
	ws       []worker.Worker
	running  bool // the real worker
	closers  []func()
}

// startHarness starts the stack with the agencies deciding at once, and the
// real worker. Whatever it started is stopped by close, also on error.
func startHarness(ctx context.Context, base config.Config, temporal stack.EmbeddedTemporal) (h *harness, err error) {
	h = &harness{}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	if h.tmp, err = os.MkdirTemp("", "lienthong-bench-"); err != nil {
		return h, err
	}
	h.defer_(func() { _ = os.RemoveAll(h.tmp) })
	baseURL := base.DatabaseURL
	if baseURL == "" {
		baseURL = loadgen.DefaultDatabase
	}
	dbURL, dropDB, err := loadgen.FreshDatabase(ctx, baseURL, "lienthong_bench")
	if err != nil {
		return h, err
	}
	h.defer_(dropDB)
	h.database = stack.RedactURL(baseURL) + " (a fresh database, dropped afterwards)"

	cfg := base
	cfg.DataDir = h.tmp
	cfg.TemporalDB = "memory"
	cfg.DatabaseURL = dbURL
	port, err := freeport.On("127.0.0.1")
	if err != nil {
		return h, err
	}
	stack.OnLoopback(&cfg, port)
	cfg.AgencyMode, cfg.AgencyMinDelay, cfg.AgencyMaxDelay = "auto", 0, 0
	cfg.CodecKey, cfg.TokenKey = loadgen.RandomKey(), loadgen.RandomKey()
	if cfg.LogLevel != "debug" {
		cfg.LogLevel = "error"
	}
	h.logger = stack.NewLogger(cfg)

	running, err := stack.Start(ctx, cfg, io.Discard, stack.DevOptions{NoWorker: true, Temporal: temporal}, 3*time.Minute)
	if err != nil {
		return h, err
	}
	h.defer_(func() { _ = running.Stop(time.Minute) }) // the stack's result was reported when it mattered
	h.addrs, h.cfg = running.Addrs, running.Addrs.Config
	fmt.Fprintf(os.Stderr, "bench: stack ready (temporal %s, api %s)\n", h.addrs.Temporal, h.addrs.API)

	if h.pool, err = stack.OpenPool(ctx, h.cfg.DatabaseURL, 8); err != nil {
		return h, err
	}
	h.defer_(h.pool.Close)
	h.machine = readMachine(ctx, h.pool)
	reg := stack.NewRegistry()
	// The SDK logs every failed activity as an error: a scenario's outage
	// would bury its progress under them. The report counts the failures.
	sdkLogger := slog.New(slog.DiscardHandler)
	if cfg.LogLevel == "debug" {
		sdkLogger = h.logger
	}
	var lat *stack.TaskLatency
	if h.tc, lat, err = stack.NewWorkerClient(ctx, h.cfg, sdkLogger, reg, nil); err != nil {
		return h, err
	}
	h.defer_(h.tc.Close)
	if h.tr, err = stack.EngineTransport(h.cfg, h.logger); err != nil {
		return h, err
	}
	agencies, closeAgencies, err := stack.DialAgencies(h.cfg, h.tr, nil)
	if err != nil {
		return h, err
	}
	h.defer_(closeAgencies)
	if h.apiCreds, err = stack.APICredentials(h.cfg); err != nil {
		return h, err
	}
	acts := &activities.Activities{Store: store.New(h.pool), Agencies: agencies, Logger: h.logger.With("component", "worker"),
		Metrics: activities.NewMetrics(reg), Availability: &activities.Availability{}}
	h.ws = stack.NewWorkers(h.tc, acts, h.cfg.WorkerRate)
	if err := stack.StartWorkers(h.ws); err != nil {
		return h, err
	}
	h.running = true
	h.defer_(stack.StartPortalFeed(acts))
	h.defer_(stack.StartResumeSweep(h.tc, lat, h.cfg.TemporalNamespace, acts, h.cfg.ResumeRate))
	h.defer_(h.stopWorkers)
	h.pop = population.Generate(h.cfg.AgencySeed, h.cfg.SeedPeople)
	return h, nil
}

// defer_ runs fn when the harness closes, the last one given first.
func (h *harness) defer_(fn func()) { h.closers = append(h.closers, fn) }

func (h *harness) close() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
}

// stopWorkers stops the real worker, once; the bare runs need the machine
// to themselves.
func (h *harness) stopWorkers() {
	if h.running {
		stack.StopWorkers(h.ws)
		h.running = false
	}
}

// profilePath is where a run's CPU profile goes: where the operator chose,
// or in the data directory.
func (h *harness) profilePath(chosen string) string {
	if chosen != "" {
		return chosen
	}
	return filepath.Join(h.tmp, "cpu.pprof")
}

// load submits n dossiers through the API, from form offset, and waits for
// them; adjust, when set, changes the load's configuration first.
func (h *harness) load(ctx context.Context, f Options, n, offset int, progress io.Writer, adjust func(*loadgen.Config)) (loadgen.Report, error) {
	c := loadgen.Config{
		Addr: h.addrs.API, Transport: h.apiCreds, TokenKey: h.cfg.TokenKeyBytes(), Population: h.pop,
		Dossiers: n, BirthShare: f.BirthShare, AllowanceShare: 0.5, Offset: offset, Seed: 1,
		Rate: f.Rate, Concurrency: f.Concurrency, Timeout: f.Timeout, DB: h.pool,
		Processes: []loadgen.Process{{Name: "lienthong bench (every part in one process)"}},
		Progress:  progress, ProgressTTY: loadgen.IsTerminal(os.Stderr), Logger: h.logger.With("component", "loadgen"),
	}
	if adjust != nil {
		adjust(&c)
	}
	return loadgen.Run(ctx, c)
}
