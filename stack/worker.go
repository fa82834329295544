package stack

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/temporalserver/namespace"
	"github.com/lienthong/lienthong/workflows"
)

// RunWorker runs the dossier workflows, the agency activities and the
// notification dispatcher against a Temporal cluster and lienthong's
// PostgreSQL.
func RunWorker(ctx context.Context, cfg config.Config) error {
	if err := errors.Join(cfg.RequireDatabase(), cfg.RequireSecrets(), cfg.RequireTransport()); err != nil {
		return err
	}
	logger := NewLogger(cfg).With("component", "worker")
	tr, err := EngineTransport(cfg, logger)
	if err != nil {
		return err
	}
	temporalTLSConfig, err := temporalTLS(cfg, logger)
	if err != nil {
		return err
	}
	pool, err := OpenPool(ctx, cfg.DatabaseURL, 20)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Every worker makes sure the namespace and search attributes exist: a
	// fresh cluster needs no separate set-up step. It is idempotent.
	if err := namespace.Ensure(ctx, cfg.TemporalAddress, temporalTLSConfig, cfg.TemporalNamespace, workflows.SearchAttributes()); err != nil {
		return err
	}
	tracing, stopTracing, err := startTracing(ctx, cfg, "lienthong-worker", logger)
	if err != nil {
		return err
	}
	defer stopTracing()
	reg := NewRegistry()
	tc, lat, err := NewWorkerClient(ctx, cfg, logger, reg, tracing)
	if err != nil {
		return err
	}
	defer tc.Close()
	agencies, closeAgencies, err := DialAgencies(cfg, tr, tracing)
	if err != nil {
		return err
	}
	defer closeAgencies()

	st := store.New(pool)
	acts := &activities.Activities{Store: st, Agencies: agencies, Logger: logger, Metrics: activities.NewMetrics(reg),
		Availability: &activities.Availability{}}
	dispatcher, closeDispatcher, err := newDispatcher(cfg, tr, st, reg, logger, tracing)
	if err != nil {
		return err
	}
	defer closeDispatcher()
	ws := NewWorkers(tc, acts, cfg.WorkerRate)
	if err := StartWorkers(ws); err != nil {
		return err
	}
	defer StopWorkers(ws)
	defer StartPortalFeed(acts)()
	defer StartResumeSweep(tc, lat, cfg.TemporalNamespace, acts, cfg.ResumeRate)()
	logger.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)

	g, gctx := errgroup.WithContext(ctx)
	// The notifications outbox: several workers share it safely.
	g.Go(func() error { return dispatcher.Run(gctx) })
	g.Go(func() error {
		return serveHealth(gctx, cfg.WorkerHTTPAddr, reg, tr.health(), func(ctx context.Context) error {
			if _, err := tc.CheckHealth(ctx, nil); err != nil {
				return fmt.Errorf("temporal: %w", err)
			}
			if err := pool.Ping(ctx); err != nil {
				return fmt.Errorf("postgresql: %w", err)
			}
			return nil
		})
	})
	return g.Wait()
}
