package stack

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// resumeSweep wakes the steps an outage held once their agency answers
// again. After a long outage every held step has a backoff grown to
// Timing.RetryMax (5 minutes) and then waits up to Timing.HeldMax (30
// minutes) for the sweep, so without it they would wake spread over that
// long after the agency came back. The sweep reads the steps
// still sending to the agency after a failed call from the read model, and
// signals each dossier (workflows.SignalAgencyBack); the workflow decides
// which of its steps to wake. A signal to a dossier that moved on meanwhile
// does nothing, so two workers sweeping after the same return do no harm.
//
// Each signal is a workflow task. When the workers take them more slowly
// than the sweep sends them, the tasks wait in the server's queue, and every
// other task of every dossier (a decision's read-model write among them)
// waits behind them. So the sweep sends no faster than pace allows, holds
// off while more than maxBacklog workflow tasks wait in the normal queue or
// the workers' recent tasks waited longer than maxTaskWait, and otherwise
// finds the workers' pace by growing its own and halving it (admitter).
type resumeSweep struct {
	steps  func(context.Context, store.StuckFilter) ([]store.OpenStep, error)
	signal func(ctx context.Context, workflowID, signal string, arg any) error
	// backlog reads how many workflow tasks wait for a worker in the normal
	// queue; nil reads none.
	backlog func(context.Context) (int64, error)
	// waits reads how long the workflow tasks this process's workers took
	// lately had waited, sticky queues included (TaskLatency.Recent); nil
	// reads none.
	waits  func() (time.Duration, int)
	logger *slog.Logger
	// parallel is how many signals are in flight at once; pace spaces them.
	parallel int
	pace     *rate.Limiter
	// backlogEvery is how often a held-off sweep reads the backlog again.
	backlogEvery time.Duration
}

// maxBacklog is how many workflow tasks may wait before the sweep holds off:
// about a second of the workers' work on two cores.
const maxBacklog = 32

// maxTaskWait is how long the workers' recent workflow tasks may have waited
// (their 90th percentile) before the sweep holds off. A decision reaches the
// read model in the task that takes it, so this is most of its lag.
const maxTaskWait = 100 * time.Millisecond

// The sweep's own pace while the readings allow it: it starts at
// admitStart signals a second, adds admitStep at each clear reading up to
// admitMax, and halves at each reading that holds it off, so that it
// settles near the pace the workers finish woken dossiers at instead of
// sending a reading's worth of signals at once.
const (
	admitStart = 8
	admitStep  = 2
	admitMax   = 500
)

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
// how many it woke. It reads the held steps again before each round of
// sweepRound dossiers: while it holds off, steps wake on their own timers,
// and a signal to a step that is no longer held is a workflow task spent
// for nothing.
func (r *resumeSweep) sweep(ctx context.Context, ret activities.Return) int {
	start := time.Now()
	log := r.logger.With("agency", ret.Agency, "down_since", ret.Since)
	var woken, failed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.parallel, 1))
	admit := r.admission(log)
	signalled := map[string]bool{}
	for ctx.Err() == nil {
		codes, err := r.held(ctx, ret.Agency, signalled)
		if err != nil {
			log.Warn("the agency is back, but its held steps could not be listed; they wake on their own backoffs", "error", err)
			break
		}
		if len(codes) == 0 {
			break
		}
		for _, code := range codes {
			signalled[code] = true
			if r.pace != nil && r.pace.Wait(ctx) != nil {
				break
			}
			if admit(ctx) != nil {
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
	}
	_ = g.Wait()
	log.Info("the agency is back: woke the dossiers waiting out a backoff on it",
		"dossiers", woken.Load(), "failed", failed.Load(), "down_for", start.Sub(ret.Since).Round(time.Second),
		"took", time.Since(start).Round(time.Millisecond))
	return int(woken.Load())
}

// sweepRound is how many dossiers one round of a sweep signals.
const sweepRound = 256

// held lists up to sweepRound dossiers with a step still sending to agency
// after a failed call, leaving out those in skip.
func (r *resumeSweep) held(ctx context.Context, agency string, skip map[string]bool) ([]string, error) {
	steps, err := r.steps(ctx, store.StuckFilter{
		Agency: agency, MinAttempts: 1, Rules: store.StuckRules{RetriesFailing: true}, Limit: maxHeld,
	})
	if err != nil {
		return nil, err
	}
	var codes []string
	seen := map[string]bool{}
	for _, o := range steps {
		if o.Step.Status == dossier.StepSending && !skip[o.Code] && !seen[o.Code] {
			seen[o.Code] = true
			codes = append(codes, o.Code)
			if len(codes) == sweepRound {
				break
			}
		}
	}
	return codes, nil
}

// admission returns a wait for room in the workflow task queue
// (admitter.wait); with neither reading, the set pace alone spaces the
// signals.
func (r *resumeSweep) admission(log *slog.Logger) func(context.Context) error {
	if r.backlog == nil && r.waits == nil {
		return func(ctx context.Context) error { return ctx.Err() }
	}
	every := r.backlogEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	a := &admitter{r: r, log: log, every: every, pace: rate.NewLimiter(admitStart, 1)}
	return a.wait
}

// admitter spaces one sweep's signals by its readings, taken at most every
// every: the normal queue's backlog (at most maxBacklog) and the workers'
// recent task waits (at most maxTaskWait). While either is over, it holds;
// while both are clear, it spaces the signals at a pace that grows with each
// clear reading and halves with each one over (admitStart, admitStep,
// admitMax). A backlog that cannot be read counts as clear.
type admitter struct {
	r      *resumeSweep
	log    *slog.Logger
	every  time.Duration
	pace   *rate.Limiter
	read   time.Time
	over   bool
	warned bool
}

func (a *admitter) wait(ctx context.Context) error {
	for {
		if time.Since(a.read) >= a.every {
			a.reading(ctx)
		}
		if !a.over {
			return a.pace.Wait(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(a.read.Add(a.every))):
		}
	}
}

// reading takes the readings and sets the pace by them.
func (a *admitter) reading(ctx context.Context) {
	a.read = time.Now()
	a.over = false
	if a.r.backlog != nil {
		n, err := a.r.backlog(ctx)
		switch {
		case err != nil:
			if !a.warned {
				a.warned = true
				a.log.Warn("the workflow task backlog could not be read; waking by the task waits and the set pace", "error", err)
			}
		case n > maxBacklog:
			a.over = true
		}
	}
	if a.r.waits != nil {
		if wait, n := a.r.waits(); n > 0 && wait > maxTaskWait {
			a.over = true
		}
	}
	if a.over {
		a.pace.SetLimit(max(a.pace.Limit()/2, 1))
	} else {
		a.pace.SetLimit(min(a.pace.Limit()+admitStep, admitMax))
	}
}

// taskBacklog reads how many workflow tasks wait on queue, as the server
// counts them (approximately).
func taskBacklog(tc client.Client, namespace, queue string) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		resp, err := tc.WorkflowService().DescribeTaskQueue(cctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     namespace,
			TaskQueue:     &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
			ReportStats:   true,
		})
		if err != nil {
			return 0, err
		}
		return resp.GetStats().GetApproximateBacklogCount(), nil
	}
}

// StartResumeSweep wakes the steps an outage held as soon as their agency
// answers this worker again (acts.Availability), perSecond dossiers a
// second at most (0: as fast as 16 signals in flight allow) and no faster
// than the workers of namespace take the dossiers' workflow tasks, until the
// returned stop is called. Without acts.Availability it does nothing.
func StartResumeSweep(tc client.Client, lat *TaskLatency, namespace string, acts *activities.Activities, perSecond float64) (stop func()) {
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
		backlog:  taskBacklog(tc, namespace, workflows.TaskQueueDossiers),
		waits:    lat.recentOrNil(),
		logger:   logger.With("component", "resume-sweep"),
		parallel: 16,
	}
	if perSecond > 0 {
		r.pace = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		r.suspect(ctx, acts.Availability, slices.Sorted(maps.Keys(acts.Agencies.Cases)))
		r.run(ctx, acts.Availability.Returns())
	})
	wg.Go(func() { acts.Availability.Probe(ctx, acts.Agencies.Cases, probeEvery, probeTimeout) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// probeEvery is how often an agency that counts as down is asked whether it
// answers again; probeTimeout bounds one such question.
const (
	probeEvery   = 10 * time.Second
	probeTimeout = 5 * time.Second
)

// suspect counts as down every agency that steps wait on after a failed call
// when the worker starts, so that the first answer from it, to a dossier's
// call or to the probe, sweeps them: a step held for minutes waits for the
// sweep (workflows.Timing.HeldMax), and this worker never saw the outage
// that held it.
func (r *resumeSweep) suspect(ctx context.Context, v *activities.Availability, agencies []string) {
	for _, agency := range agencies {
		codes, err := r.held(ctx, agency, nil)
		if err != nil {
			if ctx.Err() == nil {
				r.logger.Warn("the steps held on an agency could not be listed at start; they wake on their own timers",
					"agency", agency, "error", err)
			}
			continue
		}
		if len(codes) > 0 {
			r.logger.Info("steps wait on an agency after failed calls; it counts as down until it answers",
				"agency", agency, "dossiers", len(codes))
			v.Suspect(agency)
		}
	}
}
