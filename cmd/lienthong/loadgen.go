package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/loadgen"
)

// loadFlags are the load generator's own flags; addresses, keys and the
// seeded population come from the shared configuration.
type loadFlags struct {
	dossiers       int
	birthShare     float64
	allowanceShare float64
	rate           float64
	concurrency    int
	timeout        time.Duration
	offset         int
	seed           int64
	token          string
	as             string
	asJSON         bool
	pids           pidFlag
}

func (f *loadFlags) bind(fs *flag.FlagSet) {
	fs.IntVar(&f.dossiers, "dossiers", 100, "dossiers to submit")
	fs.Float64Var(&f.birthShare, "birth-share", 0.7, "share of birth dossiers; the rest are deaths (nationally ~1.4 M births to 0.6-0.7 M deaths a year; Nghệ An's 21 days were 1,406 to 127, i.e. 0.92)")
	fs.Float64Var(&f.allowanceShare, "allowance-share", 0.5, "share of deaths in the three-procedure bundle (with the funeral allowance)")
	fs.Float64Var(&f.rate, "rate", 0, "submissions per second; 0 submits as fast as --concurrency allows")
	fs.IntVar(&f.concurrency, "concurrency", 16, "submissions in flight at once")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "bound on the whole run, submitting and waiting")
	fs.IntVar(&f.offset, "offset", 0, "first form index; a person dies once, so repeat runs on one database need a new offset")
	fs.Int64Var(&f.seed, "seed", 1, "orders births and deaths; the same seed gives the same run")
	fs.StringVar(&f.token, "token", "", "API bearer token for every call (env LIENTHONG_TOKEN); without it tokens are minted from --token-key")
	fs.StringVar(&f.as, "as", "clerk", "with --token-key: mint a clerk token per commune (clerk) or one admin token (admin)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.Var(&f.pids, "pid", "name=pid of a process whose peak RSS to report (repeatable)")
}

// pidFlag collects --pid name=pid.
type pidFlag []loadgen.Process

func (p *pidFlag) String() string {
	parts := make([]string, len(*p))
	for i, pr := range *p {
		parts[i] = pr.Name + "=" + strconv.Itoa(pr.PID)
	}
	return strings.Join(parts, ",")
}

func (p *pidFlag) Set(s string) error {
	name, v, ok := strings.Cut(s, "=")
	pid, err := strconv.Atoi(v)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("got %q, expected name=pid, e.g. worker=1234", s)
	}
	*p = append(*p, loadgen.Process{Name: name, PID: pid})
	return nil
}

// runLoadgen submits a mix of birth and death dossiers, waits for them to
// finish and reports throughput, latencies, status-sync lag and memory.
func runLoadgen(ctx context.Context, args []string) error {
	var f loadFlags
	cfg, rest, err := parseCLI("loadgen", args,
		"lienthong loadgen [--dossiers 100] [--rate 0] [--concurrency 16] [--birth-share 0.7] [--database-url URL] [--json]", f.bind)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("loadgen: unexpected argument %q", rest[0])
	}
	lc, cleanup, err := f.config(ctx, cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	rep, runErr := loadgen.Run(ctx, lc)
	if rep.RunID == "" {
		return runErr
	}
	if f.asJSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	return errors.Join(runErr, err)
}

// config turns flags into a run: tokens, the population the agencies seeded,
// and, with --database-url, the read model for completion and lag.
func (f loadFlags) config(ctx context.Context, cfg config.Config) (loadgen.Config, func(), error) {
	lc := loadgen.Config{
		Addr: cfg.APIGRPCAddr, Dossiers: f.dossiers, BirthShare: f.birthShare, AllowanceShare: f.allowanceShare,
		Rate: f.rate, Concurrency: f.concurrency, Timeout: f.timeout, Offset: f.offset, Seed: f.seed,
		Processes: append([]loadgen.Process{{Name: "loadgen"}}, f.pids...),
		Progress:  os.Stderr, ProgressTTY: loadgen.IsTerminal(os.Stderr),
		Logger: newLogger(cfg).With("component", "loadgen"),
	}
	creds, err := apiCredentials(cfg)
	if err != nil {
		return lc, nil, err
	}
	lc.Transport = creds
	switch f.as {
	case "clerk":
	case "admin":
		lc.AsAdmin = true
	default:
		return lc, nil, fmt.Errorf("--as: got %q, expected clerk or admin", f.as)
	}
	lc.Token = f.token
	if lc.Token == "" {
		lc.Token = os.Getenv("LIENTHONG_TOKEN")
	}
	if lc.Token == "" {
		key, err := tokenKey(cfg)
		if err != nil {
			return lc, nil, fmt.Errorf("%w; or pass --token", err)
		}
		lc.TokenKey = key
	}
	lc.Population = population.Generate(cfg.AgencySeed, cfg.SeedPeople)
	cleanup := func() {}
	if cfg.DatabaseURL != "" {
		pool, err := openPool(ctx, cfg.DatabaseURL, 4)
		if err != nil {
			return lc, nil, err
		}
		lc.DB = pool
		cleanup = pool.Close
	}
	return lc, cleanup, nil
}
