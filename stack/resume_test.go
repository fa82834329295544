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

// While more workflow tasks wait than the workers take in about a second,
// the sweep sends nothing; it goes on once the backlog has gone down, and a
// backlog it cannot read leaves the pace alone to space the signals.
func TestResumeSweepHoldsOffWhileTheBacklogIsDeep(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	readings := []int64{maxBacklog + 500, maxBacklog + 1, maxBacklog}
	reads := 0
	var readsAtSignal []int
	r := &resumeSweep{
		steps: func(context.Context, store.StuckFilter) ([]store.OpenStep, error) {
			return []store.OpenStep{
				{Code: "A", Step: dossier.Step{Kind: dossier.StepIDNumber, Agency: dossier.AgencyPolice, Status: dossier.StepSending}},
				{Code: "B", Step: dossier.Step{Kind: dossier.StepIDNumber, Agency: dossier.AgencyPolice, Status: dossier.StepSending}},
			}, nil
		},
		signal: func(context.Context, string, string, any) error {
			mu.Lock()
			defer mu.Unlock()
			readsAtSignal = append(readsAtSignal, reads)
			return nil
		},
		backlog: func(context.Context) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			n := readings[min(reads, len(readings)-1)]
			reads++
			return n, nil
		},
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		parallel:     1,
		backlogEvery: time.Millisecond,
	}
	require.Equal(t, 2, r.sweep(context.Background(), activities.Return{Agency: dossier.AgencyPolice, Since: time.Now().Add(-time.Hour)}))
	require.Len(t, readsAtSignal, 2)
	require.GreaterOrEqual(t, readsAtSignal[0], 3, "the first signal waits for the third reading, the first at or under maxBacklog")

	r.backlog = func(context.Context) (int64, error) { return 0, errors.New("DescribeTaskQueue: unavailable") }
	readsAtSignal = nil
	require.Equal(t, 2, r.sweep(context.Background(), activities.Return{Agency: dossier.AgencyPolice, Since: time.Now().Add(-time.Hour)}),
		"an unreadable backlog does not stop the sweep")
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
