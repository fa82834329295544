package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"golang.org/x/time/rate"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// The sweep signals each dossier held on the agency once, and only the ones
// still sending; a dossier that finished meanwhile is no failure.
func TestResumeSweepWakesTheHeldDossiers(t *testing.T) {
	t.Parallel()
	held := func(code string, status dossier.StepStatus) store.OpenStep {
		return store.OpenStep{Code: code, Step: dossier.Step{Kind: dossier.StepResidenceRegistration, Agency: dossier.AgencyPolice,
			Status: status, Attempts: 3, LastError: "UNAVAILABLE: down"}}
	}
	var asked store.StuckFilter
	var mu sync.Mutex
	var signalled []string
	r := &resumeSweep{
		steps: func(_ context.Context, f store.StuckFilter) ([]store.OpenStep, error) {
			asked = f
			return []store.OpenStep{
				held("A", dossier.StepSending), held("B", dossier.StepSending), held("A", dossier.StepSending),
				held("C", dossier.StepAwaitingAgency), held("GONE", dossier.StepSending),
			}, nil
		},
		signal: func(_ context.Context, id, name string, arg any) error {
			require.Equal(t, workflows.SignalAgencyBack, name)
			require.Equal(t, workflows.AgencyBackInput{Agency: dossier.AgencyPolice}, arg)
			if id == workflows.WorkflowID("GONE") {
				return serviceerror.NewNotFound("workflow execution already completed")
			}
			mu.Lock()
			defer mu.Unlock()
			signalled = append(signalled, id)
			return nil
		},
		logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		parallel: 4,
	}
	woken := r.sweep(context.Background(), activities.Return{Agency: dossier.AgencyPolice, Since: time.Now().Add(-time.Hour)})
	require.Equal(t, 2, woken)
	slices.Sort(signalled)
	require.Equal(t, []string{workflows.WorkflowID("A"), workflows.WorkflowID("B")}, signalled)
	require.Equal(t, dossier.AgencyPolice, asked.Agency)
	require.True(t, asked.Rules.RetriesFailing)
	require.Equal(t, store.StuckRules{RetriesFailing: true}, asked.Rules, "only the steps whose calls failed")
	require.Equal(t, 1, asked.MinAttempts)
}

// readingsSweep sweeps dossiers held on Police one signal at a time,
// taking its readings every millisecond; atSignal says how many readings
// had been taken at each signal.
type readingsSweep struct {
	*resumeSweep
	mu       sync.Mutex
	reads    int
	atSignal []int
}

func newReadingsSweep(codes ...string) *readingsSweep {
	rs := &readingsSweep{}
	var held []store.OpenStep
	for _, code := range codes {
		held = append(held, store.OpenStep{Code: code, Step: dossier.Step{Kind: dossier.StepIDNumber, Agency: dossier.AgencyPolice, Status: dossier.StepSending}})
	}
	rs.resumeSweep = &resumeSweep{
		steps: func(context.Context, store.StuckFilter) ([]store.OpenStep, error) { return held, nil },
		signal: func(context.Context, string, string, any) error {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			rs.atSignal = append(rs.atSignal, rs.reads)
			return nil
		},
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		parallel:     1,
		backlogEvery: time.Millisecond,
	}
	return rs
}

// reading counts a reading and says which it is, from 0.
func (rs *readingsSweep) reading() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.reads++
	return rs.reads - 1
}

func (rs *readingsSweep) sweepPolice() int {
	return rs.sweep(context.Background(), activities.Return{Agency: dossier.AgencyPolice, Since: time.Now().Add(-time.Hour)})
}

// While more workflow tasks wait than the workers take in about a second,
// the sweep sends nothing; it goes on once the backlog has gone down, and a
// backlog it cannot read leaves the pace alone to space the signals.
func TestResumeSweepHoldsOffWhileTheBacklogIsDeep(t *testing.T) {
	t.Parallel()
	readings := []int64{maxBacklog + 500, maxBacklog + 1, maxBacklog}
	rs := newReadingsSweep("A", "B")
	rs.backlog = func(context.Context) (int64, error) { return readings[min(rs.reading(), len(readings)-1)], nil }
	require.Equal(t, 2, rs.sweepPolice())
	require.Len(t, rs.atSignal, 2)
	require.GreaterOrEqual(t, rs.atSignal[0], 3, "the first signal waits for the third reading, the first at or under maxBacklog")

	rs.backlog = func(context.Context) (int64, error) { return 0, errors.New("DescribeTaskQueue: unavailable") }
	require.Equal(t, 2, rs.sweepPolice(), "an unreadable backlog does not stop the sweep")
}

// While the workers' recent workflow tasks waited longer than maxTaskWait
// (the sticky queues, which the backlog count leaves out), the sweep sends
// nothing; it goes on once they wait less.
func TestResumeSweepHoldsOffWhileTasksWaitLong(t *testing.T) {
	t.Parallel()
	readings := []time.Duration{10 * time.Second, 2 * maxTaskWait, maxTaskWait}
	rs := newReadingsSweep("A")
	rs.waits = func() (time.Duration, int) { return readings[min(rs.reading(), len(readings)-1)], 50 }
	require.Equal(t, 1, rs.sweepPolice())
	require.Equal(t, []int{3}, rs.atSignal, "the signal waits for the third reading, the first at or under maxTaskWait")
}

// Clear readings let the sweep's pace grow from admitStart by admitStep, up
// to admitMax, and a reading over the limits halves it, down to one a
// second: the signals follow what the workers take rather than going out a
// reading's worth at a time.
func TestResumeSweepPaceGrowsAndHalves(t *testing.T) {
	t.Parallel()
	wait, backlog := time.Duration(0), int64(0)
	r := &resumeSweep{
		backlog: func(context.Context) (int64, error) { return backlog, nil },
		waits:   func() (time.Duration, int) { return wait, 10 },
	}
	a := &admitter{r: r, log: slog.New(slog.NewTextHandler(io.Discard, nil)), pace: rate.NewLimiter(admitStart, 1)}
	limit := func() float64 { return float64(a.pace.Limit()) }
	ctx := context.Background()

	a.reading(ctx)
	a.reading(ctx)
	require.False(t, a.over)
	require.Equal(t, float64(admitStart+2*admitStep), limit(), "two clear readings")

	wait = time.Second
	a.reading(ctx)
	require.True(t, a.over, "tasks waited a second")
	require.Equal(t, float64(admitStart+2*admitStep)/2, limit(), "halved")

	wait, backlog = 0, maxBacklog+1
	a.reading(ctx)
	require.True(t, a.over, "the normal queue's backlog is over")
	for range 20 {
		a.reading(ctx)
	}
	require.Equal(t, 1.0, limit(), "never under one a second")

	backlog = 0
	for range 1000 {
		a.reading(ctx)
	}
	require.False(t, a.over)
	require.Equal(t, float64(admitMax), limit(), "never over admitMax")
}

// The sweep lists the held steps again before each round, so a dossier whose
// step woke on its own timer meanwhile gets no signal.
func TestResumeSweepRereadsTheHeldStepsEachRound(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	signalled := map[string]bool{}
	listings := 0
	r := &resumeSweep{
		steps: func(context.Context, store.StuckFilter) ([]store.OpenStep, error) {
			mu.Lock()
			defer mu.Unlock()
			listings++
			var out []store.OpenStep
			for i := range 600 {
				code := fmt.Sprintf("D%03d", i)
				// After the first round, D400..D499 woke on their own.
				if listings > 1 && i >= 400 && i < 500 {
					continue
				}
				out = append(out, store.OpenStep{Code: code, Step: dossier.Step{Kind: dossier.StepIDNumber,
					Agency: dossier.AgencyPolice, Status: dossier.StepSending}})
			}
			return out, nil
		},
		signal: func(_ context.Context, id, _ string, _ any) error {
			mu.Lock()
			defer mu.Unlock()
			require.False(t, signalled[id], "%s signalled twice", id)
			signalled[id] = true
			return nil
		},
		logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		parallel: 4,
	}
	require.Equal(t, 500, r.sweep(context.Background(), activities.Return{Agency: dossier.AgencyPolice, Since: time.Now().Add(-time.Hour)}))
	for i := 400; i < 500; i++ {
		require.False(t, signalled[workflows.WorkflowID(fmt.Sprintf("D%03d", i))], "D%03d woke on its own", i)
	}
	require.Equal(t, 3, listings, "a round of 256, one of the 244 left, then a listing with nothing left")
}
