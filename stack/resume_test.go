package stack

import (
	"context"
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
