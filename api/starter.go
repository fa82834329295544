package api

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/lienthong/lienthong/dossier"
)

// A submission answers the clerk once the dossier is committed; its workflow
// starts just after, from a queue that starters drain. The commit is the
// durable record: a dossier whose workflow never started (a crash, Temporal
// down) is started by the sweeper, and starting twice is harmless, since the
// workflow id is the dossier's code. So the clerk's request no longer waits
// on Temporal's store, the engine's busiest resource under load.
const (
	startQueue = 512
	starters   = 4
)

type pendingStart struct {
	snap dossier.Snapshot
	// span is the submission's, so the workflow joins its trace.
	span trace.SpanContext
}

// startLater queues a stored dossier's workflow start. When no starter runs
// (the server is not serving) or the queue is full, it starts the workflow
// in the caller's request instead, which also slows submissions down to the
// pace the engine takes them at.
func (s *Server) startLater(ctx context.Context, snap dossier.Snapshot) error {
	if q := s.startQueue(); q != nil {
		select {
		case q <- pendingStart{snap: snap, span: trace.SpanContextFromContext(ctx)}:
			return nil
		default:
		}
	}
	return s.ensureWorkflow(ctx, snap)
}

func (s *Server) startQueue() chan<- pendingStart {
	s.startsMu.RLock()
	defer s.startsMu.RUnlock()
	return s.starts
}

// runStarters drains the start queue until closeStarts closes it, so every
// dossier a served request queued is started before Serve returns.
func (s *Server) runStarters() *sync.WaitGroup {
	q := make(chan pendingStart, startQueue)
	s.startsMu.Lock()
	s.starts = q
	s.startsMu.Unlock()
	var wg sync.WaitGroup
	for range starters {
		wg.Go(func() {
			for p := range q {
				ctx := trace.ContextWithSpanContext(context.Background(), p.span)
				if err := s.ensureWorkflow(ctx, p.snap); err != nil {
					// The sweeper starts it later.
					s.log.WarnContext(ctx, "starting workflow", "dossier_id", p.snap.Code, "error", err)
				}
			}
		})
	}
	return &wg
}

// closeStarts stops taking starts; the starters finish what is queued. Only
// call it when no request can queue more (the gRPC server has stopped).
func (s *Server) closeStarts() {
	s.startsMu.Lock()
	defer s.startsMu.Unlock()
	if s.starts != nil {
		close(s.starts)
		s.starts = nil
	}
}
