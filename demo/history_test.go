package demo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/forms"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
)

// TestSeedHistory seeds the past into an empty engine schema and reads it
// back the way the supervisor's dashboard does.
func TestSeedHistory(t *testing.T) {
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)

	now := time.Date(2026, 11, 27, 10, 30, 0, 0, civil.Zone)
	people := newPeople(forms.NewForms(population.Generate(6301, 12000)))
	sum, err := SeedHistory(ctx, pool, people, HistoryOptions{Now: now})
	require.NoError(t, err)
	require.True(t, sum.Seeded)
	require.Equal(t, HistoryDossiers, sum.Dossiers)
	t.Logf("seeded: %+v", sum)

	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, pool.QueryRow(ctx, q, args...).Scan(&n))
		return n
	}
	require.Equal(t, HistoryDossiers, count(`SELECT count(*) FROM engine.dossiers WHERE created_by = $1 AND workflow_started_at IS NOT NULL`, HistoryActor))
	require.Zero(t, count(`SELECT count(*) FROM engine.dossiers WHERE status NOT IN ('COMPLETED','PARTIALLY_COMPLETED','REJECTED','CANCELLED')`), "every past dossier is terminal")
	require.Zero(t, count(`SELECT count(*) FROM engine.steps WHERE status NOT IN ('APPROVED','REJECTED','SKIPPED','CANCELLED')`), "every past step is terminal")
	require.Zero(t, count(`SELECT count(*) FROM engine.dossiers WHERE completed_at IS NULL OR completed_at > $1 OR received_at < $2`, now, now.AddDate(0, 0, -HistoryDays-1)))
	require.GreaterOrEqual(t, count(`SELECT count(DISTINCT province_code) FROM engine.dossiers`), 3, "every province of the place table")
	require.GreaterOrEqual(t, count(`SELECT count(DISTINCT commune_code) FROM engine.dossiers`), 20)

	births := count(`SELECT count(*) FROM engine.dossiers WHERE grp = 'birth'`)
	require.InDelta(t, 0.7, float64(births)/HistoryDossiers, 0.06)
	require.Positive(t, count(`SELECT count(*) FROM engine.dossiers d WHERE grp = 'death' AND EXISTS (SELECT 1 FROM engine.steps s WHERE s.code = d.code AND s.step = 'funeral_allowance')`), "bundle of three")
	require.Positive(t, count(`SELECT count(*) FROM engine.dossiers d WHERE grp = 'death' AND NOT EXISTS (SELECT 1 FROM engine.steps s WHERE s.code = d.code AND s.step = 'funeral_allowance')`), "bundle of two")

	byStatus := map[string]int{}
	rows, err := pool.Query(ctx, `SELECT status, count(*) FROM engine.dossiers GROUP BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		var n int
		require.NoError(t, rows.Scan(&s, &n))
		byStatus[s] = n
	}
	require.NoError(t, rows.Err())
	t.Logf("by status: %v", byStatus)
	require.Greater(t, byStatus["COMPLETED"], HistoryDossiers*6/10)
	require.Positive(t, byStatus["REJECTED"])
	require.Positive(t, byStatus["PARTIALLY_COMPLETED"])
	require.Positive(t, byStatus["CANCELLED"])
	require.Positive(t, count(`SELECT count(*) FROM engine.dossiers WHERE status = 'REJECTED' AND outcome_reason <> ''`))

	late := count(`SELECT count(*) FROM engine.dossiers WHERE completed_at > due_at`)
	t.Logf("late: %d of %d", late, HistoryDossiers)
	require.Equal(t, sum.Late, late)
	require.GreaterOrEqual(t, late, HistoryDossiers*8/100)
	require.LessOrEqual(t, late, HistoryDossiers*18/100)
	require.Equal(t, late, count(`SELECT count(*) FROM engine.dossiers WHERE overdue`), "late dossiers are flagged overdue")
	require.Positive(t, count(`SELECT count(*) FROM engine.steps WHERE decided_at > due_at AND overdue`), "late steps")
	require.Zero(t, count(`SELECT count(*) FROM engine.steps WHERE decided_at IS NOT NULL AND started_at IS NOT NULL AND decided_at < started_at`))

	// Received mostly on working days.
	weekend := count(`SELECT count(*) FROM engine.dossiers WHERE extract(isodow FROM received_at AT TIME ZONE 'Asia/Ho_Chi_Minh') >= 6`)
	require.Less(t, weekend, HistoryDossiers/10)

	// Versions in order, each synced to the read model and the portal.
	require.Zero(t, count(`SELECT count(*) FROM engine.dossiers d WHERE version <> (SELECT max(version) FROM engine.status_history h WHERE h.code = d.code)`))
	require.Zero(t, count(`SELECT count(*) FROM engine.status_history WHERE synced_at < at OR portal_synced_at IS NULL`))
	require.Positive(t, count(`SELECT count(*) FROM engine.status_history WHERE decided_at IS NOT NULL`))
	// A trace: submitted first, completed last.
	require.Zero(t, count(`SELECT count(*) FROM engine.dossiers d WHERE NOT EXISTS (SELECT 1 FROM engine.events e WHERE e.code = d.code AND e.kind = 'submitted')
		OR NOT EXISTS (SELECT 1 FROM engine.events e WHERE e.code = d.code AND e.kind = 'completed' AND e.outcome = d.status)`))
	require.Positive(t, count(`SELECT count(*) FROM engine.events WHERE kind = 'attempt_failed'`))
	require.Positive(t, count(`SELECT count(*) FROM engine.events WHERE kind = 'id_number_late'`))
	require.Positive(t, count(`SELECT count(*) FROM engine.events WHERE kind = 'supplement'`))

	// The forms are stored as the API stores them, in the dossier's commune.
	rows, err = pool.Query(ctx, `SELECT grp, commune_code, form FROM engine.dossiers`)
	require.NoError(t, err)
	for rows.Next() {
		var grp, commune string
		var form []byte
		require.NoError(t, rows.Scan(&grp, &commune, &form))
		if grp == "birth" {
			var f enginev1.BirthForm
			require.NoError(t, proto.Unmarshal(form, &f))
			require.Equal(t, commune, f.GetResidence().GetCommuneCode())
		} else {
			var f enginev1.DeathForm
			require.NoError(t, proto.Unmarshal(form, &f))
			require.Equal(t, commune, f.GetCommuneCode())
		}
	}
	require.NoError(t, rows.Err())

	// The supervisor's queries run over it: nothing stuck, every dossier counted.
	stuck, err := st.StuckSteps(ctx, store.StuckFilter{Now: now, IdleBefore: now.Add(-time.Hour), LateIDBefore: now.Add(-time.Hour),
		UnstartedBefore: now.Add(-time.Minute), MinAttempts: 1, Rules: store.AllStuckRules()})
	require.NoError(t, err)
	require.Empty(t, stuck, "past dossiers have no workflow: none may look stuck")
	stats, err := st.Statistics(ctx, store.StatsFilter{Now: now})
	require.NoError(t, err)
	var counted int64
	for _, c := range stats.Counts {
		counted += c.Count
	}
	require.EqualValues(t, HistoryDossiers, counted)
	require.GreaterOrEqual(t, len(stats.Provinces), 3)
	var decided, onTime int64
	for _, tm := range stats.Timings {
		decided += tm.Decided
		onTime += tm.OnTime
		require.Positive(t, tm.P50, "%s %s", tm.Agency, tm.Step)
	}
	require.Less(t, onTime, decided, "some steps were decided late")
	require.Greater(t, len(stats.Volume), 20, "days with arrivals")
	for _, b := range stats.Backlog {
		require.Zero(t, b.Count, "no open backlog in the past")
	}
	for _, p := range stats.Provinces {
		require.Less(t, p.OnTime, p.Finished, "province %s has late dossiers", p.ProvinceCode)
	}
	var partial string
	require.NoError(t, pool.QueryRow(ctx, `SELECT code FROM engine.dossiers WHERE status = 'PARTIALLY_COMPLETED' ORDER BY code LIMIT 1`).Scan(&partial))
	snap, err := st.Dossier(ctx, partial)
	require.NoError(t, err)
	require.Equal(t, dossier.StatusPartiallyCompleted, snap.Status)
	require.NotEmpty(t, snap.OutcomeReason)
	trace, err := st.Events(ctx, partial)
	require.NoError(t, err)
	require.Equal(t, dossier.EventSubmitted, trace[0].Kind)
	require.Equal(t, dossier.EventCompleted, trace[len(trace)-1].Kind)

	// Idempotent: a second run finds the history and writes nothing.
	again, err := SeedHistory(ctx, pool, people, HistoryOptions{Now: now.Add(time.Hour)})
	require.NoError(t, err)
	require.False(t, again.Seeded)
	require.Equal(t, HistoryDossiers, count(`SELECT count(*) FROM engine.dossiers`))
	require.Equal(t, HistoryDossiers, again.Dossiers)
}
