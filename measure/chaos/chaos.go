// Package chaos owns `lienthong chaos`: it runs every part of lienthong as
// its own process, as a deployment does (mutual TLS included), supervises
// them, injects agency faults, kills the worker and drops database
// connections while dossiers flow, and then asks the oracle whether anything
// was lost, doubled or left inconsistent.
//
// It is a tool for measuring lienthong, not part of it: it may import stack,
// the other measure packages and the engine's data packages; no production
// package may import it.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/credentials"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/measure/oracle"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/stack"
)

// Options shape one chaos run.
type Options struct {
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

// Outcome is what a run found.
type Outcome struct {
	Seed     int64
	Load     loadgen.Report
	Injected []Injection
	Verdict  oracle.Verdict
}

// run is one chaos run's state, from its plan to its verdict.
type run struct {
	o    Options
	out  io.Writer
	plan plan
	tmp  string
	// cleanups run in reverse order when the run ends.
	cleanups []func()

	dbURL string
	addrs addrs
	certs harnessTLS
	keys  config.Config
	// apiCreds reach the API as the load generator does.
	apiCreds credentials.TransportCredentials
	env      []string
	procs    []*proc
	byName   map[string]*proc
	tc       client.Client
	pool     *pgxpool.Pool
	admins   map[string]agencyv1.AdminServiceClient

	// t0 is the first submission, which the plan's offsets count from.
	t0       time.Time
	mu       sync.Mutex
	injected []Injection
	errs     []error
}

// Run runs the harness and writes its tables to out: it plans the faults,
// starts the parts, injects the faults while the load runs, and verifies
// the invariants. It returns an error when an invariant broke or the
// harness itself could not run.
func Run(ctx context.Context, o Options, out io.Writer) (Outcome, error) {
	r, err := newRun(o, out)
	if err != nil {
		return Outcome{Seed: o.Seed}, err
	}
	defer r.cleanup()
	if err := r.start(ctx); err != nil {
		return r.outcome(loadgen.Report{}), err
	}
	rep, loadErr := r.inject(ctx)
	return r.verify(ctx, rep, loadErr)
}

// newRun checks the options, fills in defaults and draws the plan.
func newRun(o Options, out io.Writer) (*run, error) {
	if o.Dossiers <= 0 || o.Kills < 0 || o.Outage < 0 || o.Transient < 0 || o.Transient >= 1 {
		return nil, errors.New("chaos: --dossiers must be positive, --kills and --outage zero or more, --transient in [0, 1)")
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()%999_999 + 1
	}
	if o.BaseURL == "" {
		o.BaseURL = loadgen.DefaultDatabase
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Settle <= 0 {
		o.Settle = 15 * time.Minute
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.AgencyMaxDelay <= 0 {
		o.AgencyMaxDelay = 500 * time.Millisecond
	}
	r := &run{o: o, out: out, plan: planChaos(o.Seed, o.Dossiers, o.Rate, o.Kills, o.Outage)}
	r.logf("seed %d (rerun with --seed %d)", o.Seed, o.Seed)
	return r, nil
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.out, "chaos: "+format+"\n", args...)
}

// deferred registers what the end of the run undoes.
func (r *run) deferred(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *run) cleanup() {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
}

func (r *run) outcome(rep loadgen.Report) Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Outcome{Seed: r.o.Seed, Load: rep, Injected: slices.Clone(r.injected)}
}

// start makes the run's directory, binary, database and certificates, and
// starts every part as its own process.
func (r *run) start(ctx context.Context) error {
	if err := r.prepare(ctx); err != nil {
		return err
	}
	if err := runOnce(ctx, r.bin(), r.env, filepath.Join(r.tmp, "migrate.log"), "migrate"); err != nil {
		return fmt.Errorf("lienthong migrate: %w (see %s)", err, filepath.Join(r.tmp, "migrate.log"))
	}
	if err := r.startParts(ctx); err != nil {
		return err
	}
	pool, err := stack.OpenPool(ctx, r.dbURL, 8)
	if err != nil {
		return err
	}
	r.pool = pool
	r.deferred(pool.Close)
	admins, closeAdmins, err := dialAdmins(r.addrs, r.keys)
	if err != nil {
		return err
	}
	r.admins = admins
	r.deferred(closeAdmins)
	r.sampleMemory(ctx)
	return nil
}

// prepare makes the temporary directory, builds the binary, and makes the
// database, the ports, the certificates and the children's environment.
func (r *run) prepare(ctx context.Context) error {
	tmp, err := os.MkdirTemp("", "lienthong-chaos-")
	if err != nil {
		return err
	}
	r.tmp = tmp
	if r.o.Keep {
		r.logf("keeping %s", tmp)
	} else {
		r.deferred(func() { _ = os.RemoveAll(tmp) })
	}
	if r.o.Binary == "" {
		r.o.Binary = filepath.Join(tmp, "lienthong")
		began := time.Now()
		r.logf("building %s", r.o.Binary)
		if err := BuildBinary(ctx, r.o.Binary); err != nil {
			return err
		}
		r.logf("built in %s", loadgen.FormatDuration(time.Since(began)))
	}
	dbURL, dropDB, err := loadgen.FreshDatabase(ctx, r.o.BaseURL, "lienthong_chaos")
	if err != nil {
		return err
	}
	r.dbURL = dbURL
	if r.o.Keep {
		r.logf("keeping database %s", stack.RedactURL(dbURL))
	} else {
		r.deferred(dropDB)
	}
	if r.addrs, err = pickAddrs(); err != nil {
		return err
	}
	if r.certs, err = newHarnessTLS(filepath.Join(tmp, "tls")); err != nil {
		return err
	}
	r.keys = r.certs.config(config.Defaults())
	r.keys.CodecKey, r.keys.TokenKey = loadgen.RandomKey(), loadgen.RandomKey()
	r.keys.AgencyAPIKey, r.keys.AgencyAdminKey = "engine-"+loadgen.RandomHex(12), "admin-"+loadgen.RandomHex(12)
	r.keys.TemporalAddress, r.keys.DatabaseURL, r.keys.APIGRPCAddr = r.addrs.temporal, dbURL, r.addrs.apiGRPC
	if r.apiCreds, err = stack.APICredentials(r.keys); err != nil {
		return err
	}
	r.env = r.childEnv()
	return nil
}

func (r *run) bin() string { return r.o.Binary }

// childEnv is every part's environment: the run's database, keys and
// ports, as LIENTHONG_* settings.
func (r *run) childEnv() []string {
	a, k := r.addrs, r.keys
	return childEnv(map[string]string{
		"DATABASE_URL": r.dbURL, "CODEC_KEY": k.CodecKey, "TOKEN_KEY": k.TokenKey,
		"AGENCY_API_KEY": k.AgencyAPIKey, "AGENCY_ADMIN_KEY": k.AgencyAdminKey,
		// No UI, and no server metrics on a fixed port that anything else on the machine may hold.
		"TEMPORAL_ADDRESS": a.temporal, "TEMPORAL_PORT": strconv.Itoa(a.temporalPort), "TEMPORAL_UI_PORT": "0", "TEMPORAL_METRICS_PORT": "0",
		"DATA_DIR": r.tmp, "LISTEN_IP": "127.0.0.1",
		"API_GRPC_ADDR": a.apiGRPC, "API_HTTP_ADDR": a.apiHTTP, "CALLBACK_ADDR": a.apiGRPC,
		"WORKER_HTTP_ADDR": a.workerHTTP, "AGENCY_HTTP_ADDR": a.agencyHTTP,
		"JUSTICE_ADDR": a.justice, "POLICE_ADDR": a.police, "INSURANCE_ADDR": a.insurance, "PORTAL_ADDR": a.portal,
		"SMS_ADDR": a.sms, "SMTP_ADDR": a.smtp,
		"AGENCY_MODE": "auto", "AGENCY_MIN_DELAY": "0s", "AGENCY_MAX_DELAY": r.o.AgencyMaxDelay.String(),
		"AGENCY_SEED": strconv.FormatInt(k.AgencySeed, 10), "SEED_PEOPLE": strconv.Itoa(k.SeedPeople),
		"LOG_LEVEL": r.o.LogLevel,
	})
}

// startParts starts Temporal, the agencies, the worker and the API, each
// once the one before answers.
func (r *run) startParts(ctx context.Context) error {
	newProc := func(name string, ready string, tlsEnv []string, args ...string) *proc {
		return &proc{name: name, bin: r.bin(), args: args, env: append(slices.Clone(r.env), tlsEnv...),
			logPath: filepath.Join(r.tmp, name+".log"), readyURL: ready, client: r.certs.client}
	}
	r.procs = []*proc{
		newProc("temporal", "", r.certs.temporalEnv(), "temporal", "--db", "sqlite", "--data-dir", r.tmp),
		newProc("agency", "https://"+r.addrs.agencyHTTP+"/readyz", r.certs.agencyEnv(), "agency", "--name", "all"),
		newProc("worker", "https://"+r.addrs.workerHTTP+"/readyz", r.certs.engineEnv(), "worker"),
		newProc("api", "https://"+r.addrs.apiHTTP+"/readyz", r.certs.engineEnv(), "api"),
	}
	r.byName = map[string]*proc{}
	for _, p := range r.procs {
		r.byName[p.name] = p
	}
	// Stop in reverse order: nothing is left pushing to a stopped part.
	r.deferred(func() {
		for _, p := range slices.Backward(r.procs) {
			p.stop(15 * time.Second)
		}
	})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, p := range r.procs {
		if err := p.start(); err != nil {
			return err
		}
		if p.name == "temporal" {
			tc, err := waitTemporal(ctx, r.keys, logger, p)
			if err != nil {
				return err
			}
			r.tc = tc
			r.deferred(tc.Close)
		} else if err := p.waitReady(ctx, 2*time.Minute); err != nil {
			return err
		}
		r.logf("%s running (pid %d)", p.name, p.pid())
	}
	return nil
}

// sampleMemory samples every part's peak memory while it lives; a killed
// worker's peak is taken just before the kill.
func (r *run) sampleMemory(ctx context.Context) {
	sampleCtx, stopSampling := context.WithCancel(ctx)
	r.deferred(stopSampling)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
				for _, p := range r.procs {
					p.sample()
				}
			}
		}
	}()
}
