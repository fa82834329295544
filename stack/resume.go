package stack

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// resumeSweep wakes the steps an outage held once their agency answers
// again. After a long outage every held step sleeps on a backoff grown to
// Timing.RetryMax (5 minutes), so without the sweep they would wake spread
// over that long after the agency came back. The sweep reads the steps
// still sending to the agency after a failed call from the read model, and
// signals each dossier (workflows.SignalAgencyBack); the workflow decides
// which of its steps to wake. A signal to a dossier that moved on meanwhile
// does nothing, so two workers sweeping after the same return do no harm.
type resumeSweep struct {
	steps  func(context.Context, store.StuckFilter) ([]store.OpenStep, error)
	signal func(ctx context.Context, workflowID, signal string, arg any) error
	logger *slog.Logger
	// parallel is how many signals are in flight at once; pace spaces them.
	parallel int
	pace     *rate.Limiter
}

// maxHeld bounds one sweep: a national day's dossiers are a few thousand.
const maxHeld = 100_000

// run sweeps after each return until ctx ends.
func (r *resumeSweep) run(ctx context.Context, returns <-chan activities.Return) {
	for {
		select {
		case <-ctx.Done():
			return
		case ret := <-returns:
			r.sweep(ctx, ret)
		}
	}
}

// sweep signals every dossier with a step held on ret.Agency, and reports
// how many it woke.
func (r *resumeSweep) sweep(ctx context.Context, ret activities.Return) int {
	start := time.Now()
	log := r.logger.With("agency", ret.Agency, "down_since", ret.Since)
	held, err := r.steps(ctx, store.StuckFilter{
		Agency: ret.Agency, MinAttempts: 1, Rules: store.StuckRules{RetriesFailing: true}, Limit: maxHeld,
	})
	if err != nil {
		log.Warn("the agency is back, but its held steps could not be listed; they wake on their own backoffs", "error", err)
		return 0
	}
	codes := make([]string, 0, len(held))
	seen := make(map[string]bool, len(held))
	for _, o := range held {
		if o.Step.Status == dossier.StepSending && !seen[o.Code] {
			seen[o.Code] = true
			codes = append(codes, o.Code)
		}
	}
	var woken, failed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.parallel, 1))
	for _, code := range codes {
		if r.pace != nil && r.pace.Wait(ctx) != nil {
			break
		}
		g.Go(func() error {
			err := r.signal(gctx, workflows.WorkflowID(code), workflows.SignalAgencyBack, workflows.AgencyBackInput{Agency: ret.Agency})
			var gone *serviceerror.NotFound
			switch {
			case err == nil:
				woken.Add(1)
			case errors.As(err, &gone):
				// Finished meanwhile.
			case gctx.Err() == nil:
				if failed.Add(1) == 1 {
					log.Warn("waking a held step", "dossier_id", code, "error", err)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	log.Info("the agency is back: woke the dossiers waiting out a backoff on it",
		"dossiers", woken.Load(), "failed", failed.Load(), "down_for", start.Sub(ret.Since).Round(time.Second),
		"took", time.Since(start).Round(time.Millisecond))
	return int(woken.Load())
}

// StartResumeSweep wakes the steps an outage held as soon as their agency
// answers this worker again (acts.Availability), perSecond dossiers a
// second (0: as fast as 16 signals in flight allow), until the returned
// stop is called. Without acts.Availability it does nothing.
func StartResumeSweep(tc client.Client, acts *activities.Activities, perSecond float64) (stop func()) {
	if acts.Availability == nil {
		return func() {}
	}
	logger := acts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	r := &resumeSweep{
		steps: acts.Store.StuckSteps,
		signal: func(ctx context.Context, id, name string, arg any) error {
			return tc.SignalWorkflow(ctx, id, "", name, arg)
		},
		logger:   logger.With("component", "resume-sweep"),
		parallel: 16,
	}
	if perSecond > 0 {
		r.pace = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, acts.Availability.Returns())
	}()
	return func() {
		cancel()
		<-done
	}
}
