// Package scale is the read model's capacity scenario: it seeds one national
// year of dossiers (their steps, versions, trace events and notifications)
// into a fresh PostgreSQL database with COPY, then times the reads the API
// makes through the store's own methods (supervisor statistics, stuck-case
// rules, list pages and the citizen's look-up) against their goals, on the
// schema before and after the newest migrations. It measures lienthong, so
// the engine must not import it; it must not import the workflows,
// activities or the API either: it calls the store as the API does.
package scale

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/store"
)

// Config is one run of the scenario.
type Config struct {
	// ServerURL is a server where the scenario may create and drop a database.
	ServerURL string
	Dossiers  int
	Seed      uint64
	// Baseline is the schema version measured first; the newer migrations
	// are then applied to the seeded year and everything is measured again.
	// 0 measures the newest schema only.
	Baseline   int
	Iterations int
	// Budget bounds each query's timed calls (at least three are made).
	Budget time.Duration
	// Timeout stops a call, and that query's calls, when it runs longer.
	Timeout time.Duration
	// Out is the benchmarks document whose scale section is rewritten; "" writes none.
	Out      string
	Progress io.Writer
	// Keep leaves the database in place, for a look at its plans.
	Keep bool
}

// Result is everything one run measured.
type Result struct {
	Config  Config
	At      time.Time
	Machine Machine
	Seeded  SeedResult
	// BaselineVersion and Version are the schema versions measured.
	BaselineVersion, Version int
	// Migrations are the ones applied to the seeded year after the baseline, and how long they took.
	Migrations []string
	Migrate    time.Duration
	Before     []Figure
	After      []Figure
	Sizes      Sizes
}

// Run seeds, measures, and writes the report.
func Run(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Config: cfg, At: time.Now().UTC()}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	db, err := CreateDatabase(ctx, cfg.ServerURL)
	if err != nil {
		return res, err
	}
	defer func() {
		if cfg.Keep {
			fmt.Fprintf(progress, "scale: kept the database %s\n", db.URL)
			return
		}
		if err := db.Drop(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(progress, "scale: %v\n", err)
		}
	}()
	pc, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return res, err
	}
	pc.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return res, fmt.Errorf("connecting: %w", err)
	}
	defer pool.Close()
	res.Machine = describeMachine(ctx, pool)

	res.BaselineVersion, err = MigrateTo(ctx, pool, cfg.Baseline)
	if err != nil {
		return res, err
	}
	now := time.Now().Truncate(time.Second)
	res.Seeded, err = Seed(ctx, pool, cfg.Dossiers, now, cfg.Seed, progress)
	if err != nil {
		return res, err
	}
	st := store.New(pool)
	p := newParams(res.Seeded.Summary, now)
	fmt.Fprintf(progress, "measuring at schema version %d\n", res.BaselineVersion)
	res.Before, err = Measure(ctx, queries(st, p), cfg.Iterations, cfg.Budget, cfg.Timeout, cfg.Seed, progress)
	if err != nil {
		return res, err
	}
	res.Version = res.BaselineVersion
	if cfg.Baseline > 0 {
		ms, err := store.Migrations()
		if err != nil {
			return res, err
		}
		for _, m := range ms {
			if m.Version > cfg.Baseline {
				res.Migrations = append(res.Migrations, m.Name)
			}
		}
		if len(res.Migrations) > 0 {
			t := time.Now()
			if res.Version, err = MigrateTo(ctx, pool, 0); err != nil {
				return res, err
			}
			if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
				return res, fmt.Errorf("analysing: %w", err)
			}
			res.Migrate = time.Since(t)
			fmt.Fprintf(progress, "applied %s in %s; measuring at schema version %d\n", strings.Join(res.Migrations, ", "),
				res.Migrate.Round(time.Millisecond), res.Version)
			res.After, err = Measure(ctx, queries(st, p), cfg.Iterations, cfg.Budget, cfg.Timeout, cfg.Seed, progress)
			if err != nil {
				return res, err
			}
		}
	}
	res.Sizes, err = measureSizes(ctx, pool)
	if err != nil {
		return res, err
	}
	if cfg.Out != "" {
		if err := WriteSection(cfg.Out, res); err != nil {
			return res, err
		}
		fmt.Fprintf(progress, "wrote the scale section of %s\n", cfg.Out)
	}
	return res, nil
}

// Machine is where the figures came from.
type Machine struct {
	CPU      string
	CPUs     int
	Memory   string
	Load     string
	Postgres string
}

func describeMachine(ctx context.Context, pool *pgxpool.Pool) Machine {
	m := Machine{CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.Memory = fmt.Sprintf("%d GiB", (kb+1<<19)>>20)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	m.Postgres, _ = measuredb.New(pool).ServerVersion(ctx)
	if i := strings.Index(m.Postgres, " on "); i > 0 {
		m.Postgres = m.Postgres[:i]
	}
	return m
}

// Sizes are the database's and its engine tables' sizes, in bytes.
type Sizes struct {
	Database int64
	Tables   []TableSize
	Indexes  []IndexSize
}

// TableSize is one table: its rows (as analysed), heap, indexes and all of it (with TOAST).
type TableSize struct {
	Name                 string
	Rows                 int64
	Heap, Indexes, Total int64
}

// IndexSize is one index.
type IndexSize struct {
	Table, Name string
	Size        int64
}

func measureSizes(ctx context.Context, pool *pgxpool.Pool) (Sizes, error) {
	var s Sizes
	q := measuredb.New(pool)
	var err error
	if s.Database, err = q.DatabaseSize(ctx); err != nil {
		return s, fmt.Errorf("sizing: %w", err)
	}
	tables, err := q.EngineTableSizes(ctx)
	if err != nil {
		return s, fmt.Errorf("sizing: %w", err)
	}
	for _, t := range tables {
		s.Tables = append(s.Tables, TableSize{Name: t.Name, Rows: t.Rows, Heap: t.Heap, Indexes: t.Indexes, Total: t.Total})
	}
	indexes, err := q.EngineIndexSizes(ctx)
	if err != nil {
		return s, fmt.Errorf("sizing: %w", err)
	}
	for _, i := range indexes {
		s.Indexes = append(s.Indexes, IndexSize{Table: i.TableName, Name: i.IndexName, Size: i.Size})
	}
	return s, nil
}
