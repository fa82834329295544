package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
)

func newStore(t testing.TB) *store.Store {
	t.Helper()
	return store.New(storetest.Pool(t))
}

func submission(requestID string, hash byte) store.NewDossier {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return store.NewDossier{
		RequestID: requestID, RequestHash: []byte{hash}, Group: dossier.GroupDeath,
		CommuneCode: "00004", ProvinceCode: "001", ReceivedAt: at, DueAt: at.Add(72 * time.Hour), AppointmentAt: at.Add(72 * time.Hour),
		PhoneHash: "h", Form: []byte("form"), CreatedBy: "clerk:1",
		Steps: []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation},
	}
}

func TestCreateDossier(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()

	first, err := s.CreateDossier(ctx, submission("r1", 1))
	require.NoError(t, err)
	require.True(t, first.New)
	require.Equal(t, "00004-260302-0001", first.Snapshot.Code, "{commune}-{YYMMDD}-{daily sequence}, in Vietnam's day")
	require.Len(t, first.Snapshot.Steps, 2)

	again, err := s.CreateDossier(ctx, submission("r1", 1))
	require.NoError(t, err)
	require.False(t, again.New)
	require.Equal(t, first.Snapshot.Code, again.Snapshot.Code)

	_, err = s.CreateDossier(ctx, submission("r1", 2))
	require.Equal(t, dossier.KindConflict, dossier.KindOf(err))

	second, err := s.CreateDossier(ctx, submission("r2", 1))
	require.NoError(t, err)
	require.Equal(t, "00004-260302-0002", second.Snapshot.Code)

	_, err = s.Dossier(ctx, "nope")
	require.Equal(t, dossier.KindNotFound, dossier.KindOf(err))
}

func TestApplySnapshotsNeverGoesBack(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	created, err := s.CreateDossier(ctx, submission("r1", 1))
	require.NoError(t, err)
	code := created.Snapshot.Code

	snap := func(v int64, status dossier.Status, step dossier.StepStatus) dossier.Snapshot {
		sn := created.Snapshot
		sn.Version, sn.Status, sn.At = v, status, sn.ReceivedAt.Add(time.Duration(v)*time.Minute)
		sn.Steps = []dossier.Step{
			{Kind: dossier.StepDeathRegistration, Agency: "justice", Status: step, StatusSince: sn.At, UpdatedAt: sn.At,
				Result: map[string]string{"registration_number": "RD-1"}},
			{Kind: dossier.StepResidenceCancellation, Agency: "police", Status: dossier.StepPending, StatusSince: sn.At, UpdatedAt: sn.At},
		}
		sn.ChangedStep = dossier.StepDeathRegistration
		return sn
	}
	ev := dossier.Event{Key: code + "/1", Code: code, At: time.Now(), Kind: dossier.EventSent, Actor: "system"}

	res, err := s.ApplySnapshots(ctx, []dossier.Snapshot{
		snap(1, dossier.StatusInProgress, dossier.StepSending),
		snap(2, dossier.StatusInProgress, dossier.StepAwaitingAgency),
		snap(3, dossier.StatusInProgress, dossier.StepApproved),
	}, []dossier.Event{ev})
	require.NoError(t, err)
	require.True(t, res.Applied)
	require.EqualValues(t, 3, res.Version)
	require.Equal(t, int64(3), res.Versions[len(res.Versions)-1])

	t.Run("the dossier is counted by its group and status", func(t *testing.T) {
		counts, err := s.CountByGroupStatus(ctx)
		require.NoError(t, err)
		require.Equal(t, []store.GroupStatusCount{{Group: created.Snapshot.Group, Status: dossier.StatusInProgress, Count: 1}}, counts)
	})

	t.Run("a late, older write changes nothing", func(t *testing.T) {
		res, err := s.ApplySnapshots(ctx, []dossier.Snapshot{snap(2, dossier.StatusInProgress, dossier.StepAwaitingAgency)}, []dossier.Event{ev})
		require.NoError(t, err)
		require.False(t, res.Applied)
		require.EqualValues(t, 3, res.Version)
		require.Empty(t, res.Versions, "nothing written, nothing to count")
		got, err := s.Dossier(ctx, code)
		require.NoError(t, err)
		require.EqualValues(t, 3, got.Version)
		require.Equal(t, dossier.StepApproved, got.Steps[0].Status)
		require.Equal(t, "RD-1", got.Steps[0].Result["registration_number"])
	})

	t.Run("every version is in the history once, in order", func(t *testing.T) {
		h, err := s.History(ctx, code)
		require.NoError(t, err)
		require.Len(t, h, 3)
		for i, e := range h {
			require.EqualValues(t, i+1, e.Version)
		}
		require.Equal(t, dossier.StepApproved, h[2].StepStatus)
	})

	t.Run("a retried sync writes its events once", func(t *testing.T) {
		evs, err := s.Events(ctx, code)
		require.NoError(t, err)
		sent := 0
		for _, e := range evs {
			if e.Kind == dossier.EventSent {
				sent++
			}
		}
		require.Equal(t, 1, sent)
	})

	t.Run("a failed call's code is kept beside its message", func(t *testing.T) {
		sn := snap(4, dossier.StatusInProgress, dossier.StepApproved)
		police := &sn.Steps[1]
		police.Status, police.Attempts = dossier.StepSending, 2
		police.LastError, police.LastErrorCode = "UNAVAILABLE: agency outage", "UNAVAILABLE"
		_, err := s.ApplySnapshots(ctx, []dossier.Snapshot{sn}, nil)
		require.NoError(t, err)
		got, err := s.Dossier(ctx, code)
		require.NoError(t, err)
		require.Equal(t, "UNAVAILABLE", got.Step(dossier.StepResidenceCancellation).LastErrorCode)
		held, err := s.StuckSteps(ctx, store.StuckFilter{Agency: "police", MinAttempts: 1, Rules: store.StuckRules{RetriesFailing: true}})
		require.NoError(t, err)
		require.Len(t, held, 1)
		require.Equal(t, "UNAVAILABLE", held[0].Step.LastErrorCode)
	})

	t.Run("the audit trail refuses changes", func(t *testing.T) {
		require.NoError(t, s.Audit(ctx, store.AuditEntry{Actor: "clerk:1", Role: "clerk", Action: "view", Code: code, Purpose: "test"}))
		_, err := s.Pool().Exec(ctx, "UPDATE engine.audit SET purpose = 'changed'")
		require.ErrorContains(t, err, "append-only")
		_, err = s.Pool().Exec(ctx, "DELETE FROM engine.audit")
		require.ErrorContains(t, err, "append-only")
	})
}

func TestLateRegistrationsOutliveOlderWorkflows(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	nd := submission("late-1", 1)
	death := dossier.LateRegistration{Step: dossier.StepDeathRegistration, Days: 20, LimitDays: 15, CountedFrom: dossier.LateFromDeath}
	nd.LateRegistrations = []dossier.LateRegistration{death}
	created, err := s.CreateDossier(ctx, nd)
	require.NoError(t, err)
	require.Equal(t, nd.LateRegistrations, created.Snapshot.LateRegistrations, "the receipt carries the flag")

	// A version from a workflow started before the flags were carried has
	// none: the stored flag stays.
	v1 := created.Snapshot
	v1.Version, v1.LateRegistrations = 1, nil
	_, err = s.ApplySnapshots(ctx, []dossier.Snapshot{v1}, nil)
	require.NoError(t, err)
	got, err := s.Dossier(ctx, v1.Code)
	require.NoError(t, err)
	require.Equal(t, []dossier.LateRegistration{death}, got.LateRegistrations)

	// A newer version that carries flags is the whole list.
	residence := dossier.LateRegistration{Step: dossier.StepResidenceRegistration, Days: 61, LimitDays: 60, CountedFrom: dossier.LateFromBirthRegistration}
	v2 := v1
	v2.Version, v2.LateRegistrations = 2, []dossier.LateRegistration{death, residence}
	_, err = s.ApplySnapshots(ctx, []dossier.Snapshot{v2}, nil)
	require.NoError(t, err)
	got, err = s.Dossier(ctx, v1.Code)
	require.NoError(t, err)
	require.Equal(t, v2.LateRegistrations, got.LateRegistrations)

	plain, err := s.CreateDossier(ctx, submission("late-2", 1))
	require.NoError(t, err)
	require.Nil(t, plain.Snapshot.LateRegistrations, "a registration in time has no flag")
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	n, err := store.Migrate(context.Background(), pool)
	require.NoError(t, err)
	require.Positive(t, n)
	n, err = store.Migrate(context.Background(), pool)
	require.NoError(t, err)
	require.Zero(t, n)
}
