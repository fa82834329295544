package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/store"
)

// roundTrips counts what a connection sends and waits for: each query on its
// own, and each batch once, however many statements it holds.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func countedStore(t testing.TB) (*store.Store, *roundTrips) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	require.NoError(t, err)
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = store.Migrate(context.Background(), pool)
	require.NoError(t, err)
	return store.New(pool), rt
}

// bundle is a death dossier of n procedures, received and then sent to every
// agency at once: one version that changes every step.
func bundle(t testing.TB, s *store.Store, requestID string, n int) dossier.Snapshot {
	t.Helper()
	kinds := []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation,
		dossier.StepFuneralAllowance, dossier.StepSurvivorBenefit}[:n]
	nd := submission(requestID, 1)
	nd.Steps = kinds
	nd.Contact = both
	created, err := s.CreateDossier(context.Background(), nd)
	require.NoError(t, err)
	snap := created.Snapshot
	snap.Version++
	snap.At = snap.ReceivedAt.Add(time.Minute)
	snap.Steps = append([]dossier.Step(nil), snap.Steps...)
	for i := range snap.Steps {
		snap.Steps[i].Status, snap.Steps[i].StatusSince, snap.Steps[i].UpdatedAt = dossier.StepAwaitingAgency, snap.At, snap.At
	}
	snap.ChangedStep = kinds[0]
	snap.Status = snap.DerivedStatus()
	return snap
}

// A version costs the same round trips whatever the number of its steps and
// notices: they travel together, and the read model's writer does not wait
// on the database once per row.
func TestApplySnapshotRoundTripsDoNotGrowWithSteps(t *testing.T) {
	t.Parallel()
	s, rt := countedStore(t)
	ctx := context.Background()
	trips := map[int]int64{}
	for _, n := range []int{2, 4} {
		snap := bundle(t, s, fmt.Sprintf("steps-%d", n), n)
		ev := dossier.Event{Key: fmt.Sprintf("%s/sent", snap.Code), Code: snap.Code, At: snap.At, Kind: dossier.EventSent, Actor: "system"}
		before := rt.n.Load()
		res, err := s.ApplySnapshots(ctx, []dossier.Snapshot{snap}, []dossier.Event{ev, {Code: snap.Code, At: snap.At, Kind: dossier.EventSent, Actor: "system"}})
		require.NoError(t, err)
		require.True(t, res.Applied)
		trips[n] = rt.n.Load() - before

		got, err := s.Dossier(ctx, snap.Code)
		require.NoError(t, err)
		require.Len(t, got.Steps, n)
		for _, st := range got.Steps {
			require.Equal(t, dossier.StepAwaitingAgency, st.Status, "every step was written")
		}
		evs, err := s.Events(ctx, snap.Code)
		require.NoError(t, err)
		sent := 0
		for _, e := range evs {
			if e.Kind == dossier.EventSent {
				sent++
			}
		}
		require.Equal(t, 2, sent, "both events were written")
	}
	require.Equal(t, trips[2], trips[4], "round trips for 2 and 4 steps: %v", trips)
	// begin, the lock with the contacts, the version held (dossier and steps),
	// the update with its history row, the steps with their notices, the
	// events, commit.
	require.LessOrEqual(t, trips[4], int64(8), "round trips for one version: %v", trips)
}

// BenchmarkApplySnapshot writes one version of a 4-procedure dossier that
// moves every step and tells the applicant by SMS and e-mail.
func BenchmarkApplySnapshot(b *testing.B) {
	s, rt := countedStore(b)
	ctx := context.Background()
	snaps := make([]dossier.Snapshot, b.N)
	for i := range snaps {
		snaps[i] = bundle(b, s, fmt.Sprintf("bench-%d", i), 4)
	}
	before := rt.n.Load()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.ApplySnapshots(ctx, snaps[i:i+1], nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rt.n.Load()-before)/float64(b.N), "roundtrips/op")
}
