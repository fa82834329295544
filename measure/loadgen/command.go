package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
)

// Options are the load generator's own settings (`lienthong loadgen`);
// addresses, keys and the seeded population come from the shared
// configuration.
type Options struct {
	Dossiers       int
	BirthShare     float64
	AllowanceShare float64
	Rate           float64
	Concurrency    int
	Timeout        time.Duration
	Offset         int
	Seed           int64
	// Token is sent on every call; without it tokens are minted from --token-key.
	Token string
	// As is clerk (a token per commune) or admin (one token), when minting.
	As   string
	JSON bool
	PIDs PIDs
}

// PIDs collects --pid name=pid: the processes whose peak RSS to report.
type PIDs []Process

func (p *PIDs) String() string {
	parts := make([]string, len(*p))
	for i, pr := range *p {
		parts[i] = pr.Name + "=" + strconv.Itoa(pr.PID)
	}
	return strings.Join(parts, ",")
}

func (p *PIDs) Set(s string) error {
	name, v, ok := strings.Cut(s, "=")
	pid, err := strconv.Atoi(v)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("got %q, expected name=pid, e.g. worker=1234", s)
	}
	*p = append(*p, Process{Name: name, PID: pid})
	return nil
}

// Command submits a mix of birth and death dossiers, waits for them to
// finish and writes a report of throughput, latencies, status-sync lag and
// memory to out.
func Command(ctx context.Context, cfg config.Config, f Options, out io.Writer) error {
	lc, cleanup, err := f.config(ctx, cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	rep, runErr := Run(ctx, lc)
	if rep.RunID == "" {
		return runErr
	}
	if f.JSON {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteText(out)
	}
	return errors.Join(runErr, err)
}

// config turns flags into a run: tokens, the population the agencies seeded,
// and, with --database-url, the read model for completion and lag.
func (f Options) config(ctx context.Context, cfg config.Config) (Config, func(), error) {
	lc := Config{
		Addr: cfg.APIGRPCAddr, Dossiers: f.Dossiers, BirthShare: f.BirthShare, AllowanceShare: f.AllowanceShare,
		Rate: f.Rate, Concurrency: f.Concurrency, Timeout: f.Timeout, Offset: f.Offset, Seed: f.Seed,
		Processes: append([]Process{{Name: "loadgen"}}, f.PIDs...),
		Progress:  os.Stderr, ProgressTTY: IsTerminal(os.Stderr),
		Logger: stack.NewLogger(cfg).With("component", "loadgen"),
	}
	creds, err := stack.APICredentials(cfg)
	if err != nil {
		return lc, nil, err
	}
	lc.Transport = creds
	switch f.As {
	case "clerk":
	case "admin":
		lc.AsAdmin = true
	default:
		return lc, nil, fmt.Errorf("--as: got %q, expected clerk or admin", f.As)
	}
	lc.Token = f.Token
	if lc.Token == "" {
		lc.Token = os.Getenv("LIENTHONG_TOKEN")
	}
	if lc.Token == "" {
		key, err := stack.TokenKey(cfg)
		if err != nil {
			return lc, nil, fmt.Errorf("%w; or pass --token", err)
		}
		lc.TokenKey = key
	}
	lc.Population = population.Generate(cfg.AgencySeed, cfg.SeedPeople)
	cleanup := func() {}
	if cfg.DatabaseURL != "" {
		pool, err := stack.OpenPool(ctx, cfg.DatabaseURL, 4)
		if err != nil {
			return lc, nil, err
		}
		lc.DB = pool
		cleanup = pool.Close
	}
	return lc, cleanup, nil
}
