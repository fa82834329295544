package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/loadgen"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// defaultBenchDatabase is where bench and chaos make their fresh databases
// when neither --database-url nor DATABASE_URL says otherwise.
const defaultBenchDatabase = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// The goals docs/BENCHMARKS.md reports against.
const (
	goalThroughput   = 20.0 // dossiers per second, end to end
	goalSubmitP99    = 100 * time.Millisecond
	goalSyncLagP99   = time.Second
	goalRatioOfLimit = 0.7
)

type benchFlags struct {
	dossiers    int
	warmup      int
	concurrency int
	rate        float64
	birthShare  float64
	timeout     time.Duration
	out         string
	profile     string
}

func (f *benchFlags) bind(fs *flag.FlagSet) {
	fs.IntVar(&f.dossiers, "dossiers", 400, "dossiers in the measured run (the bare-engine run starts as many workflows)")
	fs.IntVar(&f.warmup, "warmup", 20, "dossiers submitted and finished before measuring")
	fs.IntVar(&f.concurrency, "concurrency", 16, "submissions (and bare workflow starts) in flight at once")
	fs.Float64Var(&f.rate, "rate", 0, "submissions per second; 0 is as fast as --concurrency allows")
	fs.Float64Var(&f.birthShare, "birth-share", 0.7, "share of birth dossiers")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "bound on each measured run")
	fs.StringVar(&f.out, "out", "", "write the Markdown report here (e.g. docs/BENCHMARKS.md); empty prints it")
	fs.StringVar(&f.profile, "profile", "", "keep the CPU profile of the measured run here (default: a temporary file)")
}

// runBench measures lienthong against the embedded stack in one process and,
// in the same run, the bare engine's limit for the same amount of work.
func runBench(ctx context.Context, args []string) error {
	var f benchFlags
	cfg, rest, err := parseCLI("bench", args, "lienthong bench [--dossiers 400] [--concurrency 16] [--out docs/BENCHMARKS.md]", f.bind)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("bench: unexpected argument %q", rest[0])
	}
	if f.dossiers <= 0 || f.concurrency <= 0 || f.warmup < 0 {
		return errors.New("--dossiers and --concurrency must be positive, --warmup zero or more")
	}
	res, err := bench(ctx, cfg, f)
	if err != nil {
		return err
	}
	var notes string
	if f.out != "" {
		if old, err := os.ReadFile(f.out); err == nil {
			notes = keptNotes(string(old))
		}
	}
	doc := renderBenchmarks(res, notes)
	if f.out == "" {
		_, err = io.WriteString(os.Stdout, doc)
		return err
	}
	if err := os.WriteFile(f.out, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", f.out)
	return nil
}

// benchResult is everything docs/BENCHMARKS.md shows.
type benchResult struct {
	At       time.Time
	Machine  machineInfo
	Database string
	Flags    benchFlags
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
func (r benchResult) Ratio() float64 {
	if r.Bare.Throughput <= 0 {
		return 0
	}
	return r.Ours.Throughput / r.Bare.Throughput
}

type machineInfo struct {
	CPUs      int
	CPUModel  string
	Memory    string
	GoVersion string
	Kernel    string
	Postgres  string
}

func readMachine(ctx context.Context, pool *pgxpool.Pool) machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
					m.Memory = loadgen.FormatBytes(kb * 1024)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	var v string
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err == nil {
		m.Postgres = "PostgreSQL " + v
	}
	return m
}

// bench runs the stack, the measured load, and the bare-engine run.
func bench(ctx context.Context, base config.Config, f benchFlags) (benchResult, error) {
	res := benchResult{At: time.Now(), Flags: f, Workers: base.WorkerRate}
	var logger *slog.Logger
	tmp, err := os.MkdirTemp("", "lienthong-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)

	baseURL := base.DatabaseURL
	if baseURL == "" {
		baseURL = defaultBenchDatabase
	}
	dbURL, dropDB, err := freshDatabase(ctx, baseURL, "lienthong_bench")
	if err != nil {
		return res, err
	}
	defer dropDB()
	res.Database = redactURL(baseURL) + " (a fresh database, dropped afterwards)"

	cfg := base
	cfg.DataDir = tmp
	cfg.Ephemeral, cfg.TemporalDB = true, "memory"
	cfg.DatabaseURL = dbURL
	cfg.TemporalUIPort = 0
	if cfg.TemporalPort, err = freeLoopbackPort(); err != nil {
		return res, err
	}
	any0 := "127.0.0.1:0"
	cfg.APIGRPCAddr, cfg.APIHTTPAddr = any0, any0
	cfg.JusticeAddr, cfg.PoliceAddr, cfg.InsuranceAddr, cfg.PortalAddr = any0, any0, any0, any0
	cfg.SMSAddr, cfg.SMTPAddr = any0, any0
	cfg.AgencyMode, cfg.AgencyMinDelay, cfg.AgencyMaxDelay = "auto", 0, 0
	cfg.CodecKey, cfg.TokenKey = randomKey(), randomKey()
	if cfg.LogLevel != "debug" {
		cfg.LogLevel = "error"
	}
	logger = newLogger(cfg)

	stackCtx, stopStack := context.WithCancel(ctx)
	ready := make(chan devAddrs, 1)
	stackDone := make(chan error, 1)
	go func() {
		stackDone <- devStack(stackCtx, cfg, io.Discard, devOptions{NoWorker: true, Ready: func(a devAddrs) { ready <- a }})
	}()
	defer func() {
		stopStack()
		<-stackDone //nolint:errcheck // the stack's result was reported when it mattered
	}()
	var addrs devAddrs
	select {
	case addrs = <-ready:
	case err := <-stackDone:
		stackDone <- err
		return res, fmt.Errorf("starting the stack: %w", err)
	case <-time.After(3 * time.Minute):
		return res, errors.New("the stack was not ready within 3 minutes")
	}
	scfg := addrs.Config
	fmt.Fprintf(os.Stderr, "bench: stack ready (temporal %s, api %s)\n", addrs.Temporal, addrs.API)

	pool, err := openPool(ctx, scfg.DatabaseURL, 8)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	res.Machine = readMachine(ctx, pool)
	// The real worker, exactly as `lienthong worker` builds it, metrics included.
	reg := newRegistry()
	tc, err := newTemporalClient(ctx, scfg, logger, reg, nil)
	if err != nil {
		return res, err
	}
	defer tc.Close()

	tr, err := engineTransport(scfg, logger)
	if err != nil {
		return res, err
	}
	agencies, closeAgencies, err := dialAgencies(scfg, tr, nil)
	if err != nil {
		return res, err
	}
	apiCreds, err := apiCredentials(scfg)
	if err != nil {
		return res, err
	}
	defer closeAgencies()
	acts := &activities.Activities{Store: store.New(pool), Agencies: agencies, Logger: logger.With("component", "worker"),
		Metrics: activities.NewMetrics(reg)}
	ws := newWorkers(tc, acts, scfg.WorkerRate)
	if err := startWorkers(ws); err != nil {
		return res, err
	}
	defer startPortalFeed(acts)()
	workersStopped := false
	defer func() {
		if !workersStopped {
			stopWorkers(ws)
		}
	}()

	pop := population.Generate(scfg.AgencySeed, scfg.SeedPeople)
	load := func(n, offset int, progress io.Writer) (loadgen.Report, error) {
		return loadgen.Run(ctx, loadgen.Config{
			Addr: addrs.API, Transport: apiCreds, TokenKey: scfg.TokenKeyBytes(), Population: pop,
			Dossiers: n, BirthShare: f.birthShare, AllowanceShare: 0.5, Offset: offset, Seed: 1,
			Rate: f.rate, Concurrency: f.concurrency, Timeout: f.timeout, DB: pool,
			Processes: []loadgen.Process{{Name: "lienthong bench (every part in one process)"}},
			Progress:  progress, ProgressTTY: loadgen.IsTerminal(os.Stderr), Logger: logger.With("component", "loadgen"),
		})
	}
	if f.warmup > 0 {
		fmt.Fprintf(os.Stderr, "bench: warm-up, %d dossiers\n", f.warmup)
		if _, err := load(f.warmup, 0, nil); err != nil {
			return res, fmt.Errorf("warm-up: %w", err)
		}
	}

	profilePath := f.profile
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
	fmt.Fprintf(os.Stderr, "bench: measured run, %d dossiers\n", f.dossiers)
	cpu0 := processCPU()
	rep, runErr := load(f.dossiers, f.warmup, os.Stderr)
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

	stopWorkers(ws)
	workersStopped = true
	fmt.Fprintf(os.Stderr, "bench: bare engine, %d workflows with %.1f activities and %.1f local activities each\n",
		f.dossiers, cost.ActivitiesPerDossier(), cost.LocalPerDossier())
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

// workflowCost is what the measured dossiers asked of the engine, counted
// from their histories.
type workflowCost struct {
	Workflows int
	// Activities counts scheduled activity tasks by task queue.
	Activities map[string]int
	Local      int
	Signals    int
	Tasks      int
	Events     int
	LastClose  time.Time
}

func (c workflowCost) per(n int) float64 {
	if c.Workflows == 0 {
		return 0
	}
	return float64(n) / float64(c.Workflows)
}

func (c workflowCost) totalActivities() int {
	n := 0
	for _, v := range c.Activities {
		n += v
	}
	return n
}

func (c workflowCost) ActivitiesPerDossier() float64 { return c.per(c.totalActivities()) }
func (c workflowCost) LocalPerDossier() float64      { return c.per(c.Local) }

// measureCost reads the histories of the given workflows.
func measureCost(ctx context.Context, tc client.Client, workflowIDs []string) (workflowCost, error) {
	cost := workflowCost{Activities: map[string]int{}}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range workflowIDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := historyCost(ctx, tc, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("reading the history of %s: %w", id, err)
				}
				return
			}
			cost.Workflows++
			for q, n := range c.Activities {
				cost.Activities[q] += n
			}
			cost.Local += c.Local
			cost.Signals += c.Signals
			cost.Tasks += c.Tasks
			cost.Events += c.Events
			if c.LastClose.After(cost.LastClose) {
				cost.LastClose = c.LastClose
			}
		}()
	}
	wg.Wait()
	return cost, firstErr
}

const localActivityMarker = "LocalActivity"

func historyCost(ctx context.Context, tc client.Client, workflowID string) (workflowCost, error) {
	c := workflowCost{Activities: map[string]int{}, Workflows: 1}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return c, err
		}
		c.Events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			c.Activities[ev.GetActivityTaskScheduledEventAttributes().GetTaskQueue().GetName()]++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				c.Local++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			c.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			c.Tasks++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			c.LastClose = ev.GetEventTime().AsTime()
		}
	}
	return c, nil
}

// The bare engine: a workflow that only runs no-op activities, as many per
// run and on the same kinds of task queue as the measured dossiers used.
const (
	bareWorkflowName = "BenchBare"
	bareActivityName = "BenchNoop"
	bareTaskQueue    = "lienthong-bench-bare"
)

// bareQueue is the bare twin of one of lienthong's task queues.
func bareQueue(q string) string { return "bench-bare-" + q }

// BareInput lists one bare workflow's activities, by task queue, and how
// many local activities run between them.
type BareInput struct {
	Queues []string
	Local  int
}

// BareResult says when the workflow finished, by its own clock, as a
// dossier's completed_at does.
type BareResult struct {
	Ended time.Time
}

func bareNoop(context.Context) error { return nil }

func bareWorkflow(ctx workflow.Context, in BareInput) (BareResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 20 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 15 * time.Second})
	steps := max(len(in.Queues), 1)
	done := 0
	for i := range steps {
		if i < len(in.Queues) {
			if err := workflow.ExecuteActivity(workflow.WithTaskQueue(actx, in.Queues[i]), bareActivityName).Get(ctx, nil); err != nil {
				return BareResult{}, err
			}
		}
		// Local activities are spread evenly among the activities.
		for due := (i + 1) * in.Local / steps; done < due; done++ {
			if err := workflow.ExecuteLocalActivity(lctx, bareNoop).Get(ctx, nil); err != nil {
				return BareResult{}, err
			}
		}
	}
	return BareResult{Ended: workflow.Now(ctx)}, nil
}

// bareInputs gives workflow i of n its share of the measured totals, so
// that n bare workflows run exactly the activities n dossiers did.
func bareInputs(cost workflowCost, n int) []BareInput {
	queues := keysOf(cost.Activities)
	share := func(total, i int) int {
		if cost.Workflows == 0 {
			return 0
		}
		// Scale the measured total to n workflows, then spread it.
		scaled := total * n / cost.Workflows
		return (i+1)*scaled/n - i*scaled/n
	}
	out := make([]BareInput, n)
	for i := range out {
		for _, q := range queues {
			for range share(cost.Activities[q], i) {
				out[i].Queues = append(out[i].Queues, bareQueue(q))
			}
		}
		out[i].Local = share(cost.Local, i)
	}
	return out
}

type bareResult struct {
	// IDs are the measured bare workflows.
	IDs          []string
	Cost         workflowCost
	Workflows    int
	Activities   int
	Local        int
	Duration     time.Duration
	Throughput   float64
	StartLatency loadgen.Summary
	EndToEnd     loadgen.Summary
}

// bareRun starts the bare workflows at the load's concurrency and rate on
// workers built with the real worker's options, and times them from the
// first start to the last workflow's end.
func bareRun(ctx context.Context, tc client.Client, rate float64, cost workflowCost, f benchFlags) (bareResult, time.Duration, error) {
	var res bareResult
	wf := worker.New(tc, bareTaskQueue, workflowWorkerOptions())
	wf.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	wf.RegisterActivity(bareNoop)
	ws := []worker.Worker{wf}
	for q := range cost.Activities {
		// The same options newWorkers gives each agency queue.
		w := worker.New(tc, bareQueue(q), agencyWorkerOptions(rate))
		w.RegisterActivityWithOptions(bareNoop, activity.RegisterOptions{Name: bareActivityName})
		ws = append(ws, w)
	}
	if err := startWorkers(ws); err != nil {
		return res, 0, err
	}
	defer stopWorkers(ws)

	run := func(inputs []BareInput, prefix string) (bareResult, error) {
		var out bareResult
		var (
			mu      sync.Mutex
			runs    = make([]client.WorkflowRun, len(inputs))
			starts  = make([]time.Time, len(inputs))
			latency []time.Duration
			errs    []error
		)
		began := time.Now()
		work := make(chan int)
		var wg sync.WaitGroup
		for range f.concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					t0 := time.Now()
					sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					r, err := tc.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
						ID: fmt.Sprintf("%s-%05d", prefix, i), TaskQueue: bareTaskQueue,
					}, bareWorkflowName, inputs[i])
					cancel()
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						runs[i], starts[i] = r, t0
						latency = append(latency, time.Since(t0))
					}
					mu.Unlock()
				}
			}()
		}
		for i := range inputs {
			if f.rate > 0 {
				if d := time.Until(began.Add(time.Duration(float64(i) / f.rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			work <- i
		}
		close(work)
		wg.Wait()
		if len(errs) > 0 {
			return out, fmt.Errorf("starting bare workflows: %d failed, first: %w", len(errs), errs[0])
		}
		wctx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		ends := make([]time.Time, len(inputs))
		idx := make(chan int)
		var wg2 sync.WaitGroup
		for range 32 {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				for i := range idx {
					var r BareResult
					err := runs[i].Get(wctx, &r)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						ends[i] = r.Ended
					}
					mu.Unlock()
				}
			}()
		}
		for i := range inputs {
			idx <- i
		}
		close(idx)
		wg2.Wait()
		if len(errs) > 0 {
			return out, fmt.Errorf("bare workflows: %d failed, first: %w", len(errs), errs[0])
		}
		var last time.Time
		var e2e []time.Duration
		for i, end := range ends {
			e2e = append(e2e, end.Sub(starts[i]))
			if end.After(last) {
				last = end
			}
			out.Activities += len(inputs[i].Queues)
			out.Local += inputs[i].Local
		}
		out.Workflows = len(inputs)
		for i := range inputs {
			out.IDs = append(out.IDs, fmt.Sprintf("%s-%05d", prefix, i))
		}
		out.Duration = last.Sub(began)
		if s := out.Duration.Seconds(); s > 0 {
			out.Throughput = float64(out.Workflows) / s
		}
		out.StartLatency = loadgen.Summarize(latency)
		out.EndToEnd = loadgen.Summarize(e2e)
		return out, nil
	}

	id := hex.EncodeToString(randomBytes(4))
	if f.warmup > 0 {
		if _, err := run(bareInputs(cost, f.warmup), "bench-bare-warmup-"+id); err != nil {
			return res, 0, fmt.Errorf("bare warm-up: %w", err)
		}
	}
	cpu0 := processCPU()
	res, err := run(bareInputs(cost, f.dossiers), "bench-bare-"+id)
	return res, processCPU() - cpu0, err
}

// processCPU is this process's CPU time so far, user and system, from
// /proc/self/stat (Linux; zero elsewhere). The kernel counts in USER_HZ
// ticks, which are 1/100 s on every Linux lienthong runs on.
func processCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces; fields follow it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(b[i+1:]))
	// utime and stime are the 14th and 15th fields; fields[0] is the 3rd.
	if len(fields) < 13 {
		return 0
	}
	var utime, stime int64
	if _, err := fmt.Sscan(fields[11], &utime); err != nil {
		return 0
	}
	if _, err := fmt.Sscan(fields[12], &stime); err != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func summarizeProfile(path string) (loadgen.ProfileSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return loadgen.ProfileSummary{}, err
	}
	defer f.Close()
	return loadgen.SummarizeCPUProfile(f)
}

// profileTop asks `go tool pprof` for the functions with the most flat time,
// without the header lines that only name the file.
func profileTop(ctx context.Context, path string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=15", path)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go tool pprof: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var keep []string
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && slices.Contains([]string{"File", "Build ID", "Type", "Time"}, k) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), nil
}

// freshDatabase creates an empty database next to baseURL's and returns its
// URL and a function that drops it.
func freshDatabase(ctx context.Context, baseURL, prefix string) (string, func(), error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("--database-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to %s (set --database-url or DATABASE_URL): %w", redactURL(baseURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := prefix + "_" + hex.EncodeToString(randomBytes(5))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, baseURL)
		if err != nil {
			slog.Warn("dropping database", "database", name, "error", err)
			return
		}
		defer c.Close(dctx)
		if _, err := c.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			slog.Warn("dropping database", "database", name, "error", err)
		}
	}
	return u.String(), drop, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomKey() string { return base64.StdEncoding.EncodeToString(randomBytes(32)) }

// ---- the report -----------------------------------------------------------

const (
	notesBegin = "<!-- notes:begin -->"
	notesEnd   = "<!-- notes:end -->"
)

// keptNotes returns the hand-written findings of an earlier report, so a
// rerun refreshes the figures without losing the analysis.
func keptNotes(doc string) string {
	i := strings.Index(doc, notesBegin)
	j := strings.Index(doc, notesEnd)
	if i < 0 || j < i {
		return ""
	}
	return strings.TrimSpace(doc[i+len(notesBegin) : j])
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

// renderBenchmarks writes docs/BENCHMARKS.md.
func renderBenchmarks(r benchResult, notes string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	o := r.Ours
	ms := loadgen.FormatDuration

	p("# Benchmarks\n\n")
	p("Generated by `make bench` (`lienthong bench`) on %s. Every figure below comes from that one run;\n", r.At.Format("2006-01-02 15:04 MST"))
	p("run it again to refresh them. The findings section is written by hand and kept across runs.\n\n")

	p("## Machine\n\n| | |\n|---|---|\n")
	p("| CPU | %s, %d logical CPUs (`nproc`) |\n", orUnknown(r.Machine.CPUModel), r.Machine.CPUs)
	p("| Memory | %s |\n", orUnknown(r.Machine.Memory))
	p("| Go | %s |\n", r.Machine.GoVersion)
	p("| OS | %s |\n", orUnknown(r.Machine.Kernel))
	p("| Database | %s, %s |\n", orUnknown(r.Machine.Postgres), r.Database)
	p("\nOther work on the machine slows the figures down: treat them as a floor, and compare runs made side by side.\n\n")

	p("## Configuration\n\n")
	p("- One process runs everything: the embedded Temporal server (in-memory SQLite, one history shard),\n")
	p("  the engine API, the four mock agencies and the worker.\n")
	p("- Agencies decide in auto mode with no delay (`--agency-min-delay 0 --agency-max-delay 0`) and no faults;\n")
	p("  the deciders approve every case the agencies' business rules allow (funeral-allowance eligibility still\n")
	p("  refuses some, as in production).\n")
	p("- The worker is built as `lienthong worker` builds it: one workflow worker with default options and one\n")
	p("  worker per agency task queue, each limited to %g activities/s and 200 concurrent activities.\n", r.Workers)
	p("- Load: %d dossiers after a warm-up of %d (%d birth, %d death; half the deaths with the funeral\n", r.Flags.dossiers, r.Flags.warmup, o.Births, o.Deaths)
	p("  allowance), submitted %s with %d in flight; each submission carries a realistic form drawn from the\n", rateWords(r.Flags.rate), r.Flags.concurrency)
	p("  seeded population, and a clerk token of the form's commune.\n\n")

	p("## Results\n\n")
	p("| figure | measured | goal | |\n|---|---|---|---|\n")
	p("| throughput, end to end (first submission → last `completed_at`) | %.1f dossiers/s (%d in %s) | ≥ %g/s | %s |\n",
		o.Throughput, o.Finished, ms(o.Duration), goalThroughput, verdict(o.Throughput >= goalThroughput))
	p("| submission latency | p50 %s, p99 %s | p99 < %s | %s |\n", ms(o.SubmitLatency.P50), ms(o.SubmitLatency.P99), ms(goalSubmitP99),
		verdict(o.SubmitLatency.Count > 0 && o.SubmitLatency.P99 < goalSubmitP99))
	p("| status-sync lag, decision → read model | p50 %s, p99 %s (n=%d) | p99 < %s | %s |\n", ms(o.ReadModelLag.P50), ms(o.ReadModelLag.P99),
		o.ReadModelLag.Count, ms(goalSyncLagP99), verdict(o.ReadModelLag.Count > 0 && o.ReadModelLag.P99 < goalSyncLagP99))
	p("| status-sync lag, decision → portal | p50 %s, p99 %s (n=%d) | | |\n", ms(o.PortalLag.P50), ms(o.PortalLag.P99), o.PortalLag.Count)
	p("| end to end per dossier (`received_at` → `completed_at`) | p50 %s, p99 %s | | |\n", ms(o.EndToEnd.P50), ms(o.EndToEnd.P99))
	p("| submission rate reached | %.1f/s (%d in %s) | | |\n", o.SubmitRate, o.Accepted, ms(o.SubmitDuration))
	p("| bare-engine limit, same run | %.1f workflows/s (%d in %s) | | |\n", r.Bare.Throughput, r.Bare.Workflows, ms(r.Bare.Duration))
	p("| our throughput ÷ bare limit | %.2f | ≥ %g | %s |\n", r.Ratio(), goalRatioOfLimit, verdict(r.Ratio() >= goalRatioOfLimit))
	p("| CPU time per dossier / per bare workflow | %s / %s | | |\n", ms(perItem(r.OursCPU, o.Finished)), ms(perItem(r.BareCPU, r.Bare.Workflows)))
	p("| peak RSS (VmHWM), the one process | %s | | |\n", loadgen.FormatBytes(r.PeakRSS))
	errs := "none"
	if len(o.Errors) > 0 {
		var parts []string
		for _, k := range keysOf(o.Errors) {
			parts = append(parts, fmt.Sprintf("%s × %d", k, o.Errors[k]))
		}
		errs = strings.Join(parts, ", ")
	}
	p("| errors (submission calls, by gRPC code) | %s | | |\n", errs)
	p("| outcome | %s | | |\n\n", statusWords(o.ByStatus))
	p("By the workflows' close events (after the final version reached the read model) our\n")
	p("throughput was %.1f dossiers/s.\n\n", r.OursClosed)

	c := r.Cost
	p("## What one dossier costs the engine\n\n")
	p("Counted from the histories of the %d measured dossiers and of the %d bare workflows:\n\n", c.Workflows, r.Bare.Cost.Workflows)
	bc := r.Bare.Cost
	p("| mean per workflow | dossier | bare workflow |\n|---|---|---|\n")
	for _, q := range keysOf(c.Activities) {
		p("| activity tasks on `%s` | %.2f | %.2f |\n", q, c.per(c.Activities[q]), bc.per(bc.Activities[bareQueue(q)]))
	}
	p("| activity tasks, all queues | %.2f | %.2f |\n", c.ActivitiesPerDossier(), bc.ActivitiesPerDossier())
	p("| local activities (read-model sync) | %.2f | %.2f |\n", c.LocalPerDossier(), bc.LocalPerDossier())
	p("| signals (agency pushes) | %.2f | %.2f |\n", c.per(c.Signals), bc.per(bc.Signals))
	p("| workflow tasks completed | %.2f | %.2f |\n", c.per(c.Tasks), bc.per(bc.Tasks))
	p("| history events (what Temporal persists) | %.1f | %.1f |\n\n", c.per(c.Events), bc.per(bc.Events))

	p("## The bare-engine limit\n\n")
	p("In the same process, on the same Temporal server and with workers built with the same options, %d\n", r.Bare.Workflows)
	p("workflows that do nothing but run no-op activities were started at the same concurrency (%d) and rate.\n", r.Flags.concurrency)
	p("Together they ran exactly the activity tasks the measured dossiers ran, queue by queue (%d activities,\n", r.Bare.Activities)
	p("%d local activities), one after another within each workflow. The real worker was stopped first.\n", r.Bare.Local)
	p("They are timed like the dossiers: from the first start to the last workflow's own clock at its end.\n")
	p("Start latency p50 %s, p99 %s; per workflow p50 %s, p99 %s. The bare workflows carry no signals, no\n",
		ms(r.Bare.StartLatency.P50), ms(r.Bare.StartLatency.P99), ms(r.Bare.EndToEnd.P50), ms(r.Bare.EndToEnd.P99))
	p("search-attribute updates, no side effects, no PostgreSQL and no agency work: the difference is lienthong's own cost.\n\n")

	p("## CPU profile of the measured run\n\n")
	if r.ProfileErr != "" {
		p("The profile could not be read: %s\n\n", r.ProfileErr)
	} else {
		pr := r.Profile
		p("%s of CPU in %s of wall time (%.2f of the %d CPUs). The profile covers the one process, so the load\n",
			ms(pr.Total), ms(o.Duration), pr.Total.Seconds()/max(o.Duration.Seconds(), 1e-9), r.Machine.CPUs)
		p("generator's own work is in it too. Each sample is counted once, for the innermost frame that belongs\n")
		p("to a known component (runtime and standard-library frames are charged to their caller):\n\n")
		p("| component | CPU | share |\n|---|---|---|\n")
		for _, s := range pr.Owners {
			p("| %s | %s | %.1f%% |\n", s.Name, ms(s.CPU), s.Share*100)
		}
		p("\nUnder `runtime.mallocgc` (allocation, any owner): %s (%.1f%%); background GC marking: %s (%.1f%%).\n\n",
			ms(pr.Alloc), pct(pr.Alloc, pr.Total), ms(pr.GC), pct(pr.GC, pr.Total))
		if len(pr.Lienthong) > 0 {
			p("Samples with a lienthong frame on the stack, each charged to the innermost one (with what it called\n")
			p("outside lienthong, such as pgx or gRPC):\n\n")
			p("| function | CPU | share |\n|---|---|---|\n")
			for i, s := range pr.Lienthong {
				if i == 12 {
					break
				}
				p("| `%s` | %s | %.1f%% |\n", strings.TrimPrefix(s.Name, "github.com/lienthong/lienthong/"), ms(s.CPU), s.Share*100)
			}
			p("\n")
		}
		if r.ProfileTop != "" {
			p("`go tool pprof -top` (flat):\n\n```text\n%s\n```\n\n", r.ProfileTop)
		}
	}

	p("## Findings\n\n%s\n", notesBegin)
	if notes == "" {
		notes = "(Add the analysis of this run here; `lienthong bench` keeps this section when it rewrites the file.)"
	}
	p("%s\n%s\n\n", notes, notesEnd)

	p("## Reproduce\n\n")
	p("```sh\nmake bench                      # = go run ./cmd/lienthong bench --out docs/BENCHMARKS.md\n")
	p("go run ./cmd/lienthong bench --dossiers %d --concurrency %d --profile cpu.pprof --out docs/BENCHMARKS.md\n", r.Flags.dossiers, r.Flags.concurrency)
	p("go tool pprof -http 127.0.0.1:8000 cpu.pprof  # browse the profile\n```\n\n")
	p("It needs a PostgreSQL server (`DATABASE_URL`, default `%s`) where it may create and drop a database.\n", defaultBenchDatabase)
	p("Against a running stack, `lienthong loadgen` gives the same figures for any mix and rate (see `-h`).\n")
	return b.String()
}

func perItem(d time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

func pct(part, total time.Duration) float64 {
	if total <= 0 {
		return 0
	}
	return float64(part) / float64(total) * 100
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func rateWords(rate float64) string {
	if rate <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("at %g/s", rate)
}

func statusWords(by map[string]int) string {
	var parts []string
	for _, k := range keysOf(by) {
		parts = append(parts, fmt.Sprintf("%s %d", k, by[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// keysOf returns a map's keys in order.
func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// freeLoopbackPort finds a port nobody listens on right now.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
