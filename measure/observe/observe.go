// Package observe reads how a measured run ended, from outside the engine:
// each dossier's workflow state through its query, and whether the portal
// has caught up with the read model. The chaos run and the benchmark's
// backlog scenario hand what it reads to the oracle.
//
// It is a tool for measuring lienthong, not part of it.
package observe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/measure/oracle"
	"github.com/lienthong/lienthong/workflows"
)

// WaitPortal waits, up to within, until the portal holds every dossier at
// the version the read model holds.
func WaitPortal(ctx context.Context, pool *pgxpool.Pool, within time.Duration) error {
	deadline := time.Now().Add(within)
	var behind int
	for {
		n, err := measuredb.New(pool).PortalBehind(ctx)
		behind = int(n)
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

// WorkflowStates asks each dossier's workflow for its state.
func WorkflowStates(ctx context.Context, tc client.Client, codes []string) map[string]oracle.WorkflowState {
	out := make(map[string]oracle.WorkflowState, len(codes))
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

func queryWorkflow(ctx context.Context, tc client.Client, code string) oracle.WorkflowState {
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
				return oracle.WorkflowState{Err: "decoding state: " + err.Error()}
			}
			return oracle.WorkflowState{Snapshot: snap}
		}
		last = err
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return oracle.WorkflowState{Err: "no workflow: " + err.Error()}
		}
	}
	return oracle.WorkflowState{Err: last.Error()}
}
