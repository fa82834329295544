package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/telemetry"
)

// loadConfig parses a subcommand's flags and environment into the one typed config.
func loadConfig(name string, args []string) (config.Config, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("lienthong "+name, flag.ContinueOnError)
	l := config.NewLoader(fs, &cfg)
	if err := l.Load(args, os.Getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Lines logged with a traced context name their trace (trace_id).
	if cfg.LogFormat == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}

// openDatabase opens --database-url, which the command requires.
func openDatabase(ctx context.Context, cfg config.Config, maxConns int32) (*pgxpool.Pool, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return nil, err
	}
	return openPool(ctx, cfg.DatabaseURL, maxConns)
}

func openPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database-url: %w", err)
	}
	if maxConns > 0 {
		pc.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgresql: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgresql: %w", err)
	}
	return pool, nil
}
