// Command lienthong-scale runs the read model's scale scenario (package
// measure/scale): it seeds a national year into a fresh database, times the
// API's reads before and after the newest migrations, and rewrites the scale
// section of docs/BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lienthong/lienthong/measure/scale"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lienthong-scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lienthong-scale", flag.ContinueOnError)
	cfg := scale.Config{Progress: os.Stderr}
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&cfg.ServerURL, "database-url", url, "a PostgreSQL server where a database may be created and dropped (default $DATABASE_URL)")
	fs.IntVar(&cfg.Dossiers, "dossiers", 2_000_000, "dossiers in the seeded year")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the year and of the queries' parameters")
	fs.IntVar(&cfg.Baseline, "baseline", 13, "schema version measured first; the newer migrations are then applied and measured (0: the newest only)")
	fs.IntVar(&cfg.Iterations, "iterations", 200, "timed calls per query")
	fs.DurationVar(&cfg.Budget, "budget", 20*time.Second, "time each query's timed calls may take (at least 3 are made)")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Minute, "a call running longer is stopped, and its query's figures are then at least this")
	fs.StringVar(&cfg.Out, "out", "docs/BENCHMARKS.md", "document whose scale section is rewritten (empty: none)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the database afterwards, to look at its plans")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := scale.Run(ctx, cfg)
	return err
}
