package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/loadgen"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// chaosOptions shape one chaos run.
type chaosOptions struct {
	Dossiers    int
	Kills       int
	Outage      time.Duration
	Seed        int64
	Keep        bool
	Transient   float64
	BurstEvery  int
	BurstLength int
	Rate        float64
	Concurrency int
	// Settle bounds the wait for every dossier to finish once submission ends.
	Settle time.Duration
	// Binary skips the build and runs this lienthong binary.
	Binary string
	// AgencyMaxDelay bounds how long the auto deciders take per case.
	AgencyMaxDelay time.Duration
	// BaseURL is the PostgreSQL server the fresh database is made on.
	BaseURL  string
	LogLevel string
}

func (o *chaosOptions) bind(fs *flag.FlagSet) {
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

// runChaos runs every part as its own process, injects faults, kills the
// worker and drops database connections while dossiers flow, then checks
// that nothing was lost, doubled or left inconsistent.
func runChaos(ctx context.Context, args []string) error {
	opts := chaosOptions{}
	cfg, rest, err := parseCLI("chaos", args, "lienthong chaos [--dossiers 2000] [--kills 3] [--outage 60s] [--seed N] [--keep]", opts.bind)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("chaos: unexpected argument %q", rest[0])
	}
	opts.BaseURL, opts.LogLevel = cfg.DatabaseURL, cfg.LogLevel
	_, err = chaos(ctx, opts, os.Stdout)
	return err
}

// chaosPlan is when each fault happens, as offsets from the first submission.
type chaosPlan struct {
	Window   time.Duration // expected submission time
	OutageAt time.Duration
	Outage   time.Duration
	Kills    []time.Duration
	Downtime []time.Duration
	DropAt   time.Duration
	ClearAt  time.Duration
}

// planChaos draws the schedule from the seed. Kills fall one in each equal
// slice of the chaos window, so they are random but never bunched; faults
// are cleared once the last kill, the outage and the submission are over.
func planChaos(seed int64, dossiers int, rate float64, kills int, outage time.Duration) chaosPlan {
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0x6b696c6c))
	window := 60 * time.Second
	if rate > 0 {
		window = time.Duration(float64(dossiers) / rate * float64(time.Second))
	}
	window = max(window, 20*time.Second)
	p := chaosPlan{Window: window, Outage: outage}
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	p.OutageAt = between(window/10, window/2)
	span := max(window, p.OutageAt+outage)
	for i := range kills {
		lo := max(span*time.Duration(i)/time.Duration(kills), 5*time.Second)
		hi := span * time.Duration(i+1) / time.Duration(kills)
		p.Kills = append(p.Kills, between(lo, hi))
		p.Downtime = append(p.Downtime, between(time.Second, 8*time.Second))
	}
	p.DropAt = between(span/5, span*4/5)
	p.ClearAt = span + 5*time.Second
	if n := len(p.Kills); n > 0 {
		p.ClearAt = max(p.ClearAt, p.Kills[n-1]+p.Downtime[n-1]+10*time.Second)
	}
	return p
}

// chaosOutcome is what a run found.
type chaosOutcome struct {
	Seed     int64
	Load     loadgen.Report
	Injected []loadgen.Injection
	Verdict  loadgen.Verdict
}

// chaosAddrs are the free loopback ports the parts listen on.
type chaosAddrs struct {
	temporalPort                                 int
	apiGRPC, apiHTTP, workerHTTP, agencyHTTP     string
	justice, police, insurance, portal, temporal string
	sms, smtp                                    string
}

func pickChaosAddrs() (chaosAddrs, error) {
	var a chaosAddrs
	var err error
	next := func() string {
		if err != nil {
			return ""
		}
		var p int
		p, err = freeLoopbackPort()
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	a.apiGRPC, a.apiHTTP, a.workerHTTP, a.agencyHTTP = next(), next(), next(), next()
	a.justice, a.police, a.insurance, a.portal = next(), next(), next(), next()
	a.temporal = next()
	a.sms, a.smtp = next(), next()
	if err != nil {
		return a, err
	}
	_, port, _ := net.SplitHostPort(a.temporal)
	a.temporalPort, _ = strconv.Atoi(port)
	return a, nil
}

func (a chaosAddrs) agencies() map[string]string {
	return map[string]string{dossier.AgencyJustice: a.justice, dossier.AgencyPolice: a.police,
		dossier.AgencyInsurance: a.insurance, dossier.AgencyPortal: a.portal}
}

// chaos runs the harness and writes its tables to out. It returns an error
// when an invariant broke or the harness itself could not run.
func chaos(ctx context.Context, o chaosOptions, out io.Writer) (chaosOutcome, error) {
	res := chaosOutcome{Seed: o.Seed}
	if o.Dossiers <= 0 || o.Kills < 0 || o.Outage < 0 || o.Transient < 0 || o.Transient >= 1 {
		return res, errors.New("chaos: --dossiers must be positive, --kills and --outage zero or more, --transient in [0, 1)")
	}
	if res.Seed == 0 {
		res.Seed = time.Now().UnixNano()%999_999 + 1
	}
	o.Seed = res.Seed
	if o.BaseURL == "" {
		o.BaseURL = defaultBenchDatabase
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Settle <= 0 {
		o.Settle = 15 * time.Minute
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "chaos: "+format+"\n", args...)
	}
	logf("seed %d (rerun with --seed %d)", o.Seed, o.Seed)

	tmp, err := os.MkdirTemp("", "lienthong-chaos-")
	if err != nil {
		return res, err
	}
	if o.Keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := o.Binary
	if bin == "" {
		bin = filepath.Join(tmp, "lienthong")
		began := time.Now()
		logf("building %s", bin)
		if err := buildBinary(ctx, bin); err != nil {
			return res, err
		}
		logf("built in %s", loadgen.FormatDuration(time.Since(began)))
	}

	dbURL, dropDB, err := freshDatabase(ctx, o.BaseURL, "lienthong_chaos")
	if err != nil {
		return res, err
	}
	if o.Keep {
		logf("keeping database %s", redactURL(dbURL))
	} else {
		defer dropDB()
	}

	addrs, err := pickChaosAddrs()
	if err != nil {
		return res, err
	}
	certs, err := newHarnessTLS(filepath.Join(tmp, "tls"))
	if err != nil {
		return res, err
	}
	keys := certs.config(config.Defaults())
	keys.CodecKey, keys.TokenKey = randomKey(), randomKey()
	keys.AgencyAPIKey, keys.AgencyAdminKey = "engine-"+hex.EncodeToString(randomBytes(12)), "admin-"+hex.EncodeToString(randomBytes(12))
	keys.TemporalAddress, keys.DatabaseURL, keys.APIGRPCAddr = addrs.temporal, dbURL, addrs.apiGRPC
	apiCreds, err := apiCredentials(keys)
	if err != nil {
		return res, err
	}
	logLevel := o.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	maxDelay := o.AgencyMaxDelay
	if maxDelay <= 0 {
		maxDelay = 500 * time.Millisecond
	}
	env := chaosEnv(map[string]string{
		"DATABASE_URL": dbURL, "CODEC_KEY": keys.CodecKey, "TOKEN_KEY": keys.TokenKey,
		"AGENCY_API_KEY": keys.AgencyAPIKey, "AGENCY_ADMIN_KEY": keys.AgencyAdminKey,
		// No UI, and no server metrics on a fixed port that anything else on the machine may hold.
		"TEMPORAL_ADDRESS": addrs.temporal, "TEMPORAL_PORT": strconv.Itoa(addrs.temporalPort), "TEMPORAL_UI_PORT": "0", "TEMPORAL_METRICS_PORT": "0",
		"DATA_DIR": tmp, "LISTEN_IP": "127.0.0.1",
		"API_GRPC_ADDR": addrs.apiGRPC, "API_HTTP_ADDR": addrs.apiHTTP, "CALLBACK_ADDR": addrs.apiGRPC,
		"WORKER_HTTP_ADDR": addrs.workerHTTP, "AGENCY_HTTP_ADDR": addrs.agencyHTTP,
		"JUSTICE_ADDR": addrs.justice, "POLICE_ADDR": addrs.police, "INSURANCE_ADDR": addrs.insurance, "PORTAL_ADDR": addrs.portal,
		"SMS_ADDR": addrs.sms, "SMTP_ADDR": addrs.smtp,
		"AGENCY_MODE": "auto", "AGENCY_MIN_DELAY": "0s", "AGENCY_MAX_DELAY": maxDelay.String(),
		"AGENCY_SEED": strconv.FormatInt(keys.AgencySeed, 10), "SEED_PEOPLE": strconv.Itoa(keys.SeedPeople),
		"LOG_LEVEL": logLevel,
	})

	if err := runOnce(ctx, bin, env, filepath.Join(tmp, "migrate.log"), "migrate"); err != nil {
		return res, fmt.Errorf("lienthong migrate: %w (see %s)", err, filepath.Join(tmp, "migrate.log"))
	}
	newProc := func(name string, ready string, tlsEnv []string, args ...string) *proc {
		return &proc{name: name, bin: bin, args: args, env: append(slices.Clone(env), tlsEnv...), logPath: filepath.Join(tmp, name+".log"),
			readyURL: ready, client: certs.client}
	}
	procs := []*proc{
		newProc("temporal", "", certs.temporalEnv(), "temporal", "--db", "sqlite", "--data-dir", tmp),
		newProc("agency", "https://"+addrs.agencyHTTP+"/readyz", certs.agencyEnv(), "agency", "--name", "all"),
		newProc("worker", "https://"+addrs.workerHTTP+"/readyz", certs.engineEnv(), "worker"),
		newProc("api", "https://"+addrs.apiHTTP+"/readyz", certs.engineEnv(), "api"),
	}
	byName := map[string]*proc{}
	for _, p := range procs {
		byName[p.name] = p
	}
	defer func() {
		// Stop in reverse order: nothing is left pushing to a stopped part.
		for _, p := range slices.Backward(procs) {
			p.stop(15 * time.Second)
		}
	}()

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var tc client.Client
	for _, p := range procs {
		if err := p.start(); err != nil {
			return res, err
		}
		switch p.name {
		case "temporal":
			tc, err = waitTemporal(ctx, keys, logger, p)
			if err != nil {
				return res, err
			}
			defer tc.Close()
		default:
			if err := p.waitReady(ctx, 2*time.Minute); err != nil {
				return res, err
			}
		}
		logf("%s running (pid %d)", p.name, p.pid())
	}

	pool, err := openPool(ctx, dbURL, 8)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	admins, closeAdmins, err := dialAdmins(addrs, keys)
	if err != nil {
		return res, err
	}
	defer closeAdmins()

	// Sample every part's peak memory while it lives; a killed worker's
	// peak is taken just before the kill.
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
				for _, p := range procs {
					p.sample()
				}
			}
		}
	}()

	plan := planChaos(o.Seed, o.Dossiers, o.Rate, o.Kills, o.Outage)
	var injMu sync.Mutex
	inject := func(in loadgen.Injection) {
		injMu.Lock()
		res.Injected = append(res.Injected, in)
		injMu.Unlock()
	}
	t0 := time.Now()
	at := func(t time.Time) string { return "+" + loadgen.FormatDuration(t.Sub(t0).Round(100*time.Millisecond)) }

	// Faults go on before the first submission; the outage is scheduled by time.
	faults := func(name string) *agencyv1.Faults {
		f := &agencyv1.Faults{
			Seed:                       o.Seed*10 + int64(len(name)),
			UnavailableRatio:           o.Transient,
			UnauthenticatedBurstEvery:  int32(o.BurstEvery),
			UnauthenticatedBurstLength: int32(o.BurstLength),
		}
		if name == dossier.AgencyPolice && o.Outage > 0 {
			f.OutageFrom = timestamppb.New(t0.Add(plan.OutageAt))
			f.OutageUntil = timestamppb.New(t0.Add(plan.OutageAt + o.Outage))
		}
		return f
	}
	for _, name := range agency.Names() {
		if err := setFaults(ctx, admins[name], faults(name)); err != nil {
			return res, fmt.Errorf("setting %s faults: %w", name, err)
		}
	}
	until := loadgen.FormatDuration(plan.ClearAt.Round(100 * time.Millisecond))
	seeTraces := "see the trace rows below"
	inject(loadgen.Injection{Fault: fmt.Sprintf("%.0f%% UNAVAILABLE at every agency", o.Transient*100), When: "+0 … +" + until, Effect: seeTraces})
	if o.BurstEvery > 0 && o.BurstLength > 0 {
		inject(loadgen.Injection{Fault: fmt.Sprintf("UNAUTHENTICATED bursts (%d calls after every %d)", o.BurstLength, o.BurstEvery),
			When: "+0 … +" + until, Effect: seeTraces})
	}
	if o.Outage > 0 {
		inject(loadgen.Injection{Fault: "Police full outage (" + loadgen.FormatDuration(o.Outage) + ")",
			When:   "+" + loadgen.FormatDuration(plan.OutageAt.Round(100*time.Millisecond)) + " … +" + loadgen.FormatDuration((plan.OutageAt + o.Outage).Round(100*time.Millisecond)),
			Effect: seeTraces})
	}

	// The schedule of kills, the connection drop and the end of faults.
	var harnessErrs []error
	var errMu sync.Mutex
	scheduleDone := make(chan struct{})
	go func() {
		defer close(scheduleDone)
		type event struct {
			at time.Duration
			do func()
		}
		var events []event
		for i, k := range plan.Kills {
			events = append(events, event{k, func() {
				w := byName["worker"]
				killedAt := time.Now()
				pid, peak := w.kill()
				time.Sleep(plan.Downtime[i])
				if err := w.start(); err != nil {
					errMu.Lock()
					harnessErrs = append(harnessErrs, err)
					errMu.Unlock()
					return
				}
				restarted := time.Now()
				effect := fmt.Sprintf("pid %d killed (peak RSS %s); restarted after %s", pid, loadgen.FormatBytes(peak), loadgen.FormatDuration(restarted.Sub(killedAt).Round(100*time.Millisecond)))
				if err := w.waitReady(ctx, 2*time.Minute); err != nil {
					effect += "; not ready: " + err.Error()
				} else {
					effect += fmt.Sprintf(", ready %s later", loadgen.FormatDuration(time.Since(restarted).Round(100*time.Millisecond)))
				}
				inject(loadgen.Injection{Fault: fmt.Sprintf("worker SIGKILL #%d", i+1), When: at(killedAt), Effect: effect})
			}})
		}
		events = append(events, event{plan.DropAt, func() {
			when := time.Now()
			n, err := dropConnections(ctx, dbURL)
			effect := fmt.Sprintf("%d backends terminated", n)
			if err != nil {
				effect = "failed: " + err.Error()
			}
			inject(loadgen.Injection{Fault: "PostgreSQL connections dropped (pg_terminate_backend)", When: at(when), Effect: effect})
		}})
		events = append(events, event{plan.ClearAt, func() {
			when := time.Now()
			for _, name := range agency.Names() {
				if err := setFaults(ctx, admins[name], &agencyv1.Faults{}); err != nil {
					errMu.Lock()
					harnessErrs = append(harnessErrs, fmt.Errorf("clearing %s faults: %w", name, err))
					errMu.Unlock()
				}
			}
			inject(loadgen.Injection{Fault: "all faults cleared", When: at(when)})
		}})
		slices.SortStableFunc(events, func(a, b event) int { return int(a.at - b.at) })
		for _, ev := range events {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(t0.Add(ev.at))):
			}
			ev.do()
		}
	}()

	// Parts that die on their own are restarted, as a supervisor would, and counted.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-t.C:
				for _, p := range procs {
					if p.diedOnItsOwn() {
						logf("%s exited on its own; restarting it", p.name)
						_ = p.start()
					}
				}
			}
		}
	}()

	logf("submitting %d dossiers %s; faults until +%s, outage at +%s, %d kill(s), connection drop at +%s",
		o.Dossiers, rateWords(o.Rate), loadgen.FormatDuration(plan.ClearAt.Round(100*time.Millisecond)), loadgen.FormatDuration(plan.OutageAt.Round(100*time.Millisecond)),
		len(plan.Kills), loadgen.FormatDuration(plan.DropAt.Round(100*time.Millisecond)))
	rep, loadErr := loadgen.Run(ctx, loadgen.Config{
		Addr: addrs.apiGRPC, Transport: apiCreds, TokenKey: keys.TokenKeyBytes(),
		Population: population.Generate(keys.AgencySeed, keys.SeedPeople),
		Dossiers:   o.Dossiers, BirthShare: 0.7, AllowanceShare: 0.5, Seed: o.Seed,
		Rate: o.Rate, Concurrency: o.Concurrency, Timeout: time.Duration(float64(plan.ClearAt)*1.2) + o.Settle,
		DB:       pool,
		Progress: out, ProgressEvery: 15 * time.Second,
		RunID: fmt.Sprintf("chaos-%d", o.Seed),
	})
	res.Load = rep
	<-scheduleDone
	stopWatch()

	// The portal follows the read model, and a dossier a killed worker was
	// publishing waits for its lease: give the last versions time to get there.
	logf("waiting for the last versions to reach the read model and the portal")
	settleErr := waitSettled(ctx, pool, 3*time.Minute)

	logf("reading every store")
	facts, err := loadgen.ReadFacts(ctx, pool, rep.Codes)
	if err != nil {
		return res, err
	}
	facts.Workflows = queryWorkflows(ctx, tc, keysOf(facts.ReadModel))
	res.Verdict = loadgen.Verify(facts)

	// The parts' own health is a check too: none may die by itself.
	var crashes []string
	for _, p := range procs {
		crashes = append(crashes, p.crashes()...)
	}
	addCheck(&res.Verdict, loadgen.Check{Name: "no part died on its own", Rule: "only the harness kills processes", Checked: len(procs)}, crashes)
	// Kills and dropped connections mid-append must not break the audit chain.
	chain, err := store.New(pool).VerifyAudit(ctx)
	if err != nil {
		return res, err
	}
	var broken []string
	if chain.Break != nil {
		broken = append(broken, chain.Break.Detail)
	}
	addCheck(&res.Verdict, loadgen.Check{Name: "the audit chain holds", Rule: "audit verify finds no row changed or removed", Checked: int(chain.Rows)}, broken)

	res.Injected = append(res.Injected, observedFailures(ctx, pool)...)
	for _, p := range procs {
		p.sample()
	}
	rep.PeakRSS = nil
	for _, p := range procs {
		rep.PeakRSS = append(rep.PeakRSS, p.rss())
	}
	if self, err := loadgen.PeakRSS(0); err == nil {
		rep.PeakRSS = append(rep.PeakRSS, loadgen.ProcessRSS{Name: "chaos harness and load generator", PID: os.Getpid(), Bytes: self})
	}
	res.Load = rep

	fmt.Fprintln(out)
	_ = rep.WriteText(out)
	fmt.Fprintln(out)
	_ = loadgen.WriteChaosSummary(out, res.Injected, res.Verdict, 10)
	if o.Keep {
		logf("logs: %s/*.log", tmp)
	}

	var problems []error
	if loadErr != nil {
		problems = append(problems, fmt.Errorf("load: %w", loadErr))
	}
	if settleErr != nil {
		problems = append(problems, settleErr)
	}
	problems = append(problems, harnessErrs...)
	if !res.Verdict.OK() {
		problems = append(problems, fmt.Errorf("%d invariant violation(s)", len(res.Verdict.Violations)))
	}
	if err := errors.Join(problems...); err != nil {
		return res, fmt.Errorf("chaos (seed %d): %w", o.Seed, err)
	}
	logf("every invariant held (seed %d)", o.Seed)
	return res, nil
}

// chaosEnv is the children's environment: this process's, without any
// lienthong setting of its own, plus the run's.
func chaosEnv(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LIENTHONG_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range keysOf(settings) {
		env = append(env, "LIENTHONG_"+k+"="+settings[k])
	}
	return env
}

// buildBinary builds cmd/lienthong from the module this process runs in.
func buildBinary(ctx context.Context, out string) error {
	// Linking the Temporal server takes a minute or two on two cores.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the module: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return errors.New("building lienthong: run from inside the lienthong module, or pass --binary")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/lienthong")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building lienthong: %w\n%s", err, b)
	}
	return nil
}

// runOnce runs a one-shot subcommand to completion.
func runOnce(ctx context.Context, bin string, env []string, logPath string, args ...string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	return cmd.Run()
}

// waitTemporal waits until the frontend answers and the namespace carries
// lienthong's search attributes: `lienthong temporal` registers both.
func waitTemporal(ctx context.Context, keys config.Config, logger *slog.Logger, p *proc) (client.Client, error) {
	deadline := time.Now().Add(3 * time.Minute)
	tc, err := newTemporalClient(ctx, keys, logger, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("temporal (see %s): %w", p.logPath, err)
	}
	for {
		resp, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: keys.TemporalNamespace})
		if err == nil {
			if _, ok := resp.GetCustomAttributes()[workflows.SAStatus.GetName()]; ok {
				return tc, nil
			}
			err = fmt.Errorf("namespace %s has no search attribute %s yet", keys.TemporalNamespace, workflows.SAStatus.GetName())
		}
		if time.Now().After(deadline) || p.exitedNow() {
			tc.Close()
			return nil, fmt.Errorf("temporal not ready (see %s): %w", p.logPath, err)
		}
		select {
		case <-ctx.Done():
			tc.Close()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func dialAdmins(a chaosAddrs, keys config.Config) (map[string]agencyv1.AdminServiceClient, func(), error) {
	tr, err := engineTransport(keys, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	out := map[string]agencyv1.AdminServiceClient{}
	var conns []*grpc.ClientConn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}
	for name, addr := range a.agencies() {
		conn, err := tr.dialAgency(addr, name, keys.AgencyAdminKey, true, nil)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, conn)
		out[name] = agencyv1.NewAdminServiceClient(conn)
	}
	return out, closeAll, nil
}

// harnessTLS is how the harnesses' processes run mutual TLS, as a
// deployment does: a CA and the parts' certificates made in one directory,
// the engine's given to api and worker (for the agencies and for
// Temporal), each agency's to the agency process through
// config.AgencyPlaceholder, Temporal's to the temporal process.
type harnessTLS struct {
	engine, agencies, temporal pki.Files
	// client reaches the processes' HTTPS health endpoints.
	client *http.Client
}

func newHarnessTLS(dir string) (harnessTLS, error) {
	hosts := []string{"localhost", "127.0.0.1"}
	engine, agencies, err := issueLocalCertificates(dir, hosts)
	if err != nil {
		return harnessTLS{}, err
	}
	authority, err := pki.OpenAuthority(dir)
	if err != nil {
		return harnessTLS{}, err
	}
	temporal, err := authority.Issue("temporal", pki.Temporal(), hosts)
	if err != nil {
		return harnessTLS{}, err
	}
	b, err := os.ReadFile(engine.CA)
	if err != nil {
		return harnessTLS{}, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return harnessTLS{engine: engine, agencies: agencies, temporal: temporal, client: client}, nil
}

func tlsEnv(f pki.Files) []string {
	return []string{"LIENTHONG_TLS_CERT_FILE=" + f.Cert, "LIENTHONG_TLS_KEY_FILE=" + f.Key, "LIENTHONG_TLS_CA_FILE=" + f.CA}
}

func (h harnessTLS) engineEnv() []string {
	return append(tlsEnv(h.engine), "LIENTHONG_TEMPORAL_TLS_CERT_FILE="+h.engine.Cert, "LIENTHONG_TEMPORAL_TLS_KEY_FILE="+h.engine.Key,
		"LIENTHONG_TEMPORAL_TLS_CA_FILE="+h.engine.CA)
}
func (h harnessTLS) agencyEnv() []string   { return tlsEnv(h.agencies) }
func (h harnessTLS) temporalEnv() []string { return tlsEnv(h.temporal) }

// config is cfg with the engine's certificate, for the harness's own
// clients of the processes, Temporal's included.
func (h harnessTLS) config(cfg config.Config) config.Config {
	cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCAFile = h.engine.Cert, h.engine.Key, h.engine.CA
	cfg.TemporalTLSCertFile, cfg.TemporalTLSKeyFile, cfg.TemporalTLSCAFile = h.engine.Cert, h.engine.Key, h.engine.CA
	return cfg
}

func setFaults(ctx context.Context, c agencyv1.AdminServiceClient, f *agencyv1.Faults) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.SetFaults(cctx, &agencyv1.SetFaultsRequest{Faults: f})
	return err
}

// dropConnections terminates every other backend on the run's database.
func dropConnections(ctx context.Context, dbURL string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(cctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t`).Scan(&n)
	return n, err
}

// waitSettled waits until no terminal dossier's latest version is missing
// from the portal.
func waitSettled(ctx context.Context, pool *pgxpool.Pool, within time.Duration) error {
	deadline := time.Now().Add(within)
	var behind int
	for {
		err := pool.QueryRow(ctx, `SELECT count(*) FROM engine.dossiers d LEFT JOIN portal.statuses p ON p.dossier_code = d.code
			WHERE p.version IS DISTINCT FROM d.version`).Scan(&behind)
		if err == nil && behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("waiting for the portal: %w", err)
			}
			return fmt.Errorf("%d dossier(s) still behind at the portal after %s", behind, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// queryWorkflows asks each dossier's workflow for its state.
func queryWorkflows(ctx context.Context, tc client.Client, codes []string) map[string]loadgen.WorkflowState {
	out := make(map[string]loadgen.WorkflowState, len(codes))
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			st := queryWorkflow(ctx, tc, code)
			mu.Lock()
			out[code] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func queryWorkflow(ctx context.Context, tc client.Client, code string) loadgen.WorkflowState {
	var last error
	for attempt := range 4 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Second)
		}
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := tc.QueryWorkflow(qctx, workflows.WorkflowID(code), "", workflows.QueryState)
		cancel()
		if err == nil {
			var snap dossier.Snapshot
			if err := v.Get(&snap); err != nil {
				return loadgen.WorkflowState{Err: "decoding state: " + err.Error()}
			}
			return loadgen.WorkflowState{Snapshot: snap}
		}
		last = err
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return loadgen.WorkflowState{Err: "no workflow: " + err.Error()}
		}
	}
	return loadgen.WorkflowState{Err: last.Error()}
}

// observedFailures summarises the failed attempts the trace recorded, by
// cause and agency: the faults as the engine saw them.
func observedFailures(ctx context.Context, pool *pgxpool.Pool) []loadgen.Injection {
	rows, err := pool.Query(ctx, `SELECT step, error FROM engine.events WHERE kind = $1`, dossier.EventAttemptFailed)
	if err != nil {
		return []loadgen.Injection{{Fault: "failed attempts in the trace", Effect: "could not read: " + err.Error()}}
	}
	defer rows.Close()
	counts := map[string]map[string]int{}
	for rows.Next() {
		var step, msg string
		if rows.Scan(&step, &msg) != nil {
			continue
		}
		cause := failureCause(msg)
		if counts[cause] == nil {
			counts[cause] = map[string]int{}
		}
		counts[cause][dossier.StepKind(step).Agency()]++
	}
	var out []loadgen.Injection
	for _, cause := range keysOf(counts) {
		var parts []string
		total := 0
		for _, a := range keysOf(counts[cause]) {
			parts = append(parts, fmt.Sprintf("%s %d", a, counts[cause][a]))
			total += counts[cause][a]
		}
		fate := "each retried"
		if refusal(cause) {
			// The agency refused the request itself: the step machine
			// rejects the step without retrying. Under faults that are all
			// transient, a refusal points at a bug, not at the faults.
			fate = "REFUSED: the step was rejected, not retried"
		}
		out = append(out, loadgen.Injection{Fault: "seen in traces: " + cause, When: "whole run",
			Effect: fmt.Sprintf("%d failed attempts (%s), %s", total, strings.Join(parts, ", "), fate)})
	}
	return out
}

// refusal says a failure's gRPC code makes the step machine give up.
func refusal(cause string) bool {
	switch cause {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "OUT_OF_RANGE", "UNIMPLEMENTED":
		return true
	}
	return false
}

func failureCause(msg string) string {
	switch {
	case strings.Contains(msg, "agency outage"):
		return "outage"
	case strings.HasPrefix(msg, "UNAUTHENTICATED"):
		return "UNAUTHENTICATED"
	case strings.Contains(msg, "injected fault"):
		return "transient UNAVAILABLE"
	case strings.HasPrefix(msg, "TIMEOUT"), strings.HasPrefix(msg, "DEADLINE_EXCEEDED"):
		return "timeout (killed worker or slow call)"
	case strings.Contains(msg, "SQLSTATE 57P01"), strings.Contains(msg, "terminating connection"):
		return "PostgreSQL connection dropped"
	}
	if code, _, ok := strings.Cut(msg, ":"); ok && code == strings.ToUpper(code) && !strings.Contains(code, " ") {
		return code
	}
	return "other"
}

// ---- child processes ------------------------------------------------------

// proc is one lienthong part running as its own process, restartable.
type proc struct {
	name     string
	bin      string
	args     []string
	env      []string
	logPath  string
	readyURL string
	// client polls readyURL; nil is http.DefaultClient.
	client *http.Client

	mu         sync.Mutex
	cmd        *exec.Cmd
	exited     chan struct{}
	expectExit bool
	lives      int
	peak       int64
	died       []string
	pending    bool // died on its own, not yet restarted
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(f, "\n=== %s, life %d, %s ===\n", p.name, p.lives+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, f, f
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.cmd, p.lives, p.expectExit, p.pending = cmd, p.lives+1, false, false
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		p.mu.Lock()
		if !p.expectExit {
			p.died = append(p.died, fmt.Sprintf("%s (pid %d) exited on its own: %v; see %s", p.name, cmd.Process.Pid, err, p.logPath))
			p.pending = true
		}
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) exitedNow() bool {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// diedOnItsOwn reports, once, that the process exited without being asked.
func (p *proc) diedOnItsOwn() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		p.pending = false
		return true
	}
	return false
}

func (p *proc) crashes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.died)
}

// sample records the process's peak RSS so far.
func (p *proc) sample() {
	pid := p.pid()
	if pid == 0 || p.exitedNow() {
		return
	}
	if b, err := loadgen.PeakRSS(pid); err == nil {
		p.mu.Lock()
		p.peak = max(p.peak, b)
		p.mu.Unlock()
	}
}

func (p *proc) rss() loadgen.ProcessRSS {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := loadgen.ProcessRSS{Name: p.name, Bytes: p.peak}
	if p.cmd != nil {
		r.PID = p.cmd.Process.Pid
	}
	if p.lives > 1 {
		r.Note = fmt.Sprintf("max over %d lives", p.lives)
	}
	return r
}

// kill sends SIGKILL and waits for the exit; it returns the pid and the
// life's peak RSS.
func (p *proc) kill() (int, int64) {
	pid := p.pid()
	var peak int64
	if b, err := loadgen.PeakRSS(pid); err == nil {
		peak = b
		p.mu.Lock()
		p.peak = max(p.peak, b)
		p.mu.Unlock()
	}
	p.signal(syscall.SIGKILL)
	p.wait(30 * time.Second)
	return pid, peak
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.expectExit = true
	_ = p.cmd.Process.Signal(sig)
}

func (p *proc) wait(within time.Duration) bool {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}

// stop asks the process to stop, then kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exitedNow() {
		return
	}
	p.signal(syscall.SIGTERM)
	if !p.wait(grace) {
		p.signal(syscall.SIGKILL)
		p.wait(10 * time.Second)
	}
}

// dieWithParent makes a child die with the harness even when the harness
// is killed (a test's timeout, say) and cannot stop it. The field exists on
// Linux only; elsewhere children outlive a killed harness.
func dieWithParent() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL).Convert(f.Type()))
	}
	return attr
}

// waitReady polls the process's /readyz.
func (p *proc) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if p.exitedNow() {
			return fmt.Errorf("%s exited while starting; see %s", p.name, p.logPath)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.readyURL, nil)
		c := p.client
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s", resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s (see %s): %w", p.name, within, p.logPath, last)
}

// addCheck adds a check of the harness's own to the verdict, one violation
// per detail.
func addCheck(v *loadgen.Verdict, c loadgen.Check, details []string) {
	c.Violations = len(details)
	v.Checks = append(v.Checks, c)
	for _, d := range details {
		v.Violations = append(v.Violations, loadgen.Violation{Invariant: c.Name, Code: "-", Detail: d})
	}
}
