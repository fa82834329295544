package store_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store"
)

// The statistics' figures computed from the tables as they were before the
// rollup: what the rollup must answer.
const (
	directCounts = `SELECT d.province_code, d.commune_code, d.grp, d.status, count(*)
FROM engine.dossiers d
WHERE ($1::text = '' OR d.province_code = $1)
  AND ($2::timestamptz IS NULL OR d.received_at >= $2) AND ($3::timestamptz IS NULL OR d.received_at < $3)
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
	directTimings = `SELECT s.agency, s.step, count(*),
    count(*) FILTER (WHERE s.due_at IS NOT NULL AND s.decided_at <= s.due_at),
    coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.decided_at - s.started_at)), 0)::float8,
    coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.decided_at - s.started_at)), 0)::float8
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
  AND ($1::text = '' OR d.province_code = $1)
  AND ($2::timestamptz IS NULL OR d.received_at >= $2) AND ($3::timestamptz IS NULL OR d.received_at < $3)
GROUP BY 1, 2 ORDER BY 1, 2`
	directVolume = `SELECT to_char((d.received_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD'), d.grp, count(*)
FROM engine.dossiers d
WHERE ($1::text = '' OR d.province_code = $1)
  AND ($2::timestamptz IS NULL OR d.received_at >= $2) AND ($3::timestamptz IS NULL OR d.received_at < $3)
GROUP BY 1, 2 ORDER BY 1, 2`
	directRanking = `SELECT d.province_code, count(*),
    count(*) FILTER (WHERE d.status IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED')),
    count(*) FILTER (WHERE d.status IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED')
        AND d.completed_at IS NOT NULL AND d.completed_at <= d.due_at)
FROM engine.dossiers d
WHERE ($1::text = '' OR d.province_code = $1)
  AND ($2::timestamptz IS NULL OR d.received_at >= $2) AND ($3::timestamptz IS NULL OR d.received_at < $3)
GROUP BY 1 ORDER BY 1`
	directSpans = `SELECT s.agency, s.step, s.started_at, s.decided_at
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
  AND ($1::text = '' OR d.province_code = $1)
  AND ($2::timestamptz IS NULL OR d.received_at >= $2) AND ($3::timestamptz IS NULL OR d.received_at < $3)`
)

var (
	statuses = []dossier.Status{dossier.StatusReceived, dossier.StatusInProgress, dossier.StatusNeedsSupplement,
		dossier.StatusCompleted, dossier.StatusPartiallyCompleted, dossier.StatusRejected, dossier.StatusCancelled}
	stepStatuses = []dossier.StepStatus{dossier.StepPending, dossier.StepAwaitingAgency, dossier.StepApproved,
		dossier.StepRejected, dossier.StepSkipped}
	// yearStart is the first day the generated dossiers arrive on, in Vietnam.
	yearStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))
)

// places are the generated dossiers' provinces and communes.
var places = [][2]string{{"001", "00004"}, {"001", "00007"}, {"079", "26734"}, {"079", "26737"}, {"079", "26740"}, {"048", "20194"}}

// generator writes random dossiers through the store's own write path.
type generator struct {
	s   *store.Store
	rnd *rand.Rand
	n   int
}

// create receives a dossier at a random moment of the generated weeks.
func (g *generator) create(t testing.TB, ctx context.Context) dossier.Snapshot {
	t.Helper()
	c, err := g.s.CreateDossier(ctx, g.submission())
	require.NoError(t, err)
	return c.Snapshot
}

// submission is a dossier received at a random moment of the generated weeks.
func (g *generator) submission() store.NewDossier {
	g.n++
	p := places[g.rnd.IntN(len(places))]
	at := yearStart.Add(time.Duration(g.rnd.Int64N(int64(20 * 24 * time.Hour)))).Truncate(time.Second)
	grp, steps := dossier.GroupDeath, []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation}
	if g.rnd.IntN(3) > 0 {
		grp, steps = dossier.GroupBirth, []dossier.StepKind{dossier.StepBirthRegistration, dossier.StepIDNumber, dossier.StepResidenceRegistration}
	}
	return store.NewDossier{
		RequestID: fmt.Sprintf("req-%d-%d", g.rnd.Int64(), g.n), RequestHash: []byte{1}, Group: grp,
		CommuneCode: p[1], ProvinceCode: p[0], ReceivedAt: at, DueAt: at.Add(72 * time.Hour), AppointmentAt: at.Add(72 * time.Hour),
		PhoneHash: "h", Form: []byte("form"), CreatedBy: "clerk:1", Steps: steps,
	}
}

// version is the dossier's next version with random statuses and steps.
func (g *generator) version(snap dossier.Snapshot) dossier.Snapshot {
	snap.Version++
	snap.Status = statuses[g.rnd.IntN(len(statuses))]
	snap.At = snap.ReceivedAt.Add(time.Duration(snap.Version) * time.Hour)
	snap.CompletedAt = nil
	if snap.Status.Terminal() {
		done := snap.ReceivedAt.Add(time.Duration(g.rnd.Int64N(int64(6 * 24 * time.Hour))))
		snap.CompletedAt = &done
	}
	steps := make([]dossier.Step, len(snap.Steps))
	for i, st := range snap.Steps {
		st.Status = stepStatuses[g.rnd.IntN(len(stepStatuses))]
		st.StatusSince, st.UpdatedAt = snap.At, snap.At
		st.Agency = []string{"justice", "police", "insurance"}[g.rnd.IntN(3)]
		st.StartedAt, st.DecidedAt, st.DueAt = nil, nil, nil
		if g.rnd.IntN(5) > 0 {
			start := snap.ReceivedAt.Add(time.Duration(g.rnd.Int64N(int64(time.Hour))))
			st.StartedAt = &start
			due := start.Add(48 * time.Hour)
			if g.rnd.IntN(4) > 0 {
				st.DueAt = &due
			}
			if g.rnd.IntN(4) > 0 {
				// Durations from none to about ten days, spread evenly in log.
				d := time.Duration(math.Exp(g.rnd.Float64()*13.7)) * time.Second
				if g.rnd.IntN(20) == 0 {
					d = 0
				}
				decided := start.Add(d)
				st.DecidedAt = &decided
			}
		}
		steps[i] = st
	}
	snap.Steps = steps
	return snap
}

// fill receives n dossiers and applies one to three versions to each.
func (g *generator) fill(t testing.TB, ctx context.Context, n int) []dossier.Snapshot {
	t.Helper()
	var out []dossier.Snapshot
	for range n {
		snap := g.create(t, ctx)
		for range 1 + g.rnd.IntN(3) {
			snap = g.version(snap)
			_, err := g.s.ApplySnapshots(ctx, []dossier.Snapshot{snap}, nil)
			require.NoError(t, err)
		}
		out = append(out, snap)
	}
	return out
}

// sized is full, or fewer in the fast loop (go test -short): the same
// checks on a smaller sample.
func sized(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

func TestStatisticsMatchTheTables(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	g := &generator{s: s, rnd: rand.New(rand.NewPCG(1, 2))}
	g.fill(t, ctx, sized(400, 120))

	day := func(n int) *time.Time { d := yearStart.AddDate(0, 0, n); return &d }
	at := func(n int, h time.Duration) *time.Time { d := yearStart.AddDate(0, 0, n).Add(h); return &d }
	for _, tc := range []struct {
		name        string
		province    string
		from, until *time.Time
	}{
		{name: "the nation, all time"},
		{name: "a province, all time", province: "079"},
		{name: "the nation, whole days", from: day(3), until: day(12)},
		{name: "a province, whole days", province: "001", from: day(3), until: day(12)},
		{name: "the nation, hours", from: at(2, 5*time.Hour+17*time.Minute), until: at(14, 13*time.Hour)},
		{name: "a province, hours", province: "079", from: at(2, 5*time.Hour), until: at(14, 30*time.Minute)},
		{name: "the nation, within one day", from: at(4, 2*time.Hour), until: at(4, 20*time.Hour)},
		{name: "a province, since an hour", province: "048", from: at(9, 9*time.Hour)},
		{name: "the nation, until an hour", until: at(9, 9*time.Hour)},
		{name: "the nation, from midnight to an hour of the next day", from: day(5), until: at(6, 3*time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := store.StatsFilter{ProvinceCode: tc.province, Now: yearStart.AddDate(0, 0, 21)}
			if tc.from != nil {
				f.From = *tc.from
			}
			if tc.until != nil {
				f.Until = *tc.until
			}
			got, err := s.Statistics(ctx, f)
			require.NoError(t, err)
			args := []any{tc.province, tc.from, tc.until}
			pool := s.Pool()

			// Counts: by commune, except the nation over a period, by province.
			rows, err := pool.Query(ctx, directCounts, args...)
			require.NoError(t, err)
			counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CountRow, error) {
				var c store.CountRow
				err := r.Scan(&c.ProvinceCode, &c.CommuneCode, &c.Group, &c.Status, &c.Count)
				return c, err
			})
			require.NoError(t, err)
			if tc.province == "" && (tc.from != nil || tc.until != nil) {
				byProvince := map[store.CountRow]int64{}
				for _, c := range counts {
					n := c.Count
					c.CommuneCode, c.Count = "", 0
					byProvince[c] += n
				}
				counts = counts[:0]
				for c, n := range byProvince {
					c.Count = n
					counts = append(counts, c)
				}
				slices.SortFunc(counts, func(a, b store.CountRow) int {
					return cmp.Or(cmp.Compare(a.ProvinceCode, b.ProvinceCode), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Status, b.Status))
				})
			}
			require.NotEmpty(t, counts)
			require.Equal(t, counts, got.Counts)

			rows, err = pool.Query(ctx, directTimings, args...)
			require.NoError(t, err)
			timings, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StepTiming, error) {
				var st store.StepTiming
				err := r.Scan(&st.Agency, &st.Step, &st.Decided, &st.OnTime, &st.P50, &st.P90)
				return st, err
			})
			require.NoError(t, err)
			require.NotEmpty(t, timings)
			require.Len(t, got.Timings, len(timings))
			for i, want := range timings {
				have := got.Timings[i]
				require.Equal(t, [4]any{want.Agency, want.Step, want.Decided, want.OnTime},
					[4]any{have.Agency, have.Step, have.Decided, have.OnTime})
				require.InDelta(t, want.P50, have.P50, store.PercentileError*math.Abs(want.P50)+1e-6, "%s %s p50", want.Agency, want.Step)
				require.InDelta(t, want.P90, have.P90, store.PercentileError*math.Abs(want.P90)+1e-6, "%s %s p90", want.Agency, want.Step)
			}

			rows, err = pool.Query(ctx, directVolume, args...)
			require.NoError(t, err)
			volume, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DailyVolume, error) {
				var v store.DailyVolume
				err := r.Scan(&v.Day, &v.Group, &v.Count)
				return v, err
			})
			require.NoError(t, err)
			require.Equal(t, volume, got.Volume)

			rows, err = pool.Query(ctx, directRanking, args...)
			require.NoError(t, err)
			ranking, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ProvinceRow, error) {
				var p store.ProvinceRow
				err := r.Scan(&p.ProvinceCode, &p.Received, &p.Finished, &p.OnTime)
				return p, err
			})
			require.NoError(t, err)
			require.Equal(t, ranking, got.Provinces)

			// Few enough steps that the spans are all of the period's.
			rows, err = pool.Query(ctx, directSpans, args...)
			require.NoError(t, err)
			spans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StepSpan, error) {
				var sp store.StepSpan
				err := r.Scan(&sp.Agency, &sp.Step, &sp.Started, &sp.Decided)
				return sp, err
			})
			require.NoError(t, err)
			bySpan := func(a, b store.StepSpan) int {
				return cmp.Or(cmp.Compare(a.Agency, b.Agency), cmp.Compare(a.Step, b.Step),
					a.Started.Compare(b.Started), a.Decided.Compare(b.Decided))
			}
			slices.SortFunc(spans, bySpan)
			have := slices.Clone(got.Spans)
			slices.SortFunc(have, bySpan)
			require.Equal(t, len(spans), len(have))
			for i := range spans {
				require.Zero(t, bySpan(spans[i], have[i]))
			}
		})
	}
}

// TestStatisticsReadOneSnapshot answers while dossiers keep arriving: a
// province's counts (read from its dossiers) and its daily volume (read
// from the rollup) are two queries, and they must count the same dossiers.
func TestStatisticsReadOneSnapshot(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := &generator{s: s, rnd: rand.New(rand.NewPCG(7, 8))}
	g.fill(t, ctx, 40)

	var written atomic.Int64
	stop := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		defer close(failed)
		w := &generator{s: s, rnd: rand.New(rand.NewPCG(9, 10))}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.CreateDossier(ctx, w.submission()); err != nil {
				failed <- err
				return
			}
			written.Add(1)
		}
	}()
	defer func() {
		close(stop)
		require.NoError(t, <-failed)
	}()
	// Answer until a good number of dossiers arrived while answering.
	for written.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	from, until := yearStart, yearStart.AddDate(0, 0, 21)
	for i, first := 0, written.Load(); i < 30 || written.Load()-first < 30; i++ {
		got, err := s.Statistics(ctx, store.StatsFilter{ProvinceCode: "079", From: from, Until: until, Now: until})
		require.NoError(t, err)
		var counted, daily, ranked int64
		for _, c := range got.Counts {
			counted += c.Count
		}
		for _, v := range got.Volume {
			daily += v.Count
		}
		for _, p := range got.Provinces {
			ranked += p.Received
		}
		require.Equal(t, counted, daily, "answer %d: the counts and the daily volume", i)
		require.Equal(t, counted, ranked, "answer %d: the counts and the ranking", i)
	}
}

// rollupTables are the rollup's tables, each read in a fixed order.
var rollupTables = []string{
	"SELECT province_code, commune_code, grp, status, n, 0 FROM engine.rollup_places WHERE n <> 0 ORDER BY 1, 2, 3, 4",
	"SELECT day::text, province_code, grp, status, n, on_time FROM engine.rollup_days WHERE n <> 0 OR on_time <> 0 ORDER BY 1, 2, 3, 4",
	"SELECT day::text || province_code, agency, step, bucket::text, n, on_time FROM engine.rollup_steps WHERE n <> 0 OR on_time <> 0 ORDER BY 1, 2, 3, 4",
	"SELECT day::text, agency, step, bucket::text, n, on_time FROM engine.rollup_steps_nation WHERE n <> 0 OR on_time <> 0 ORDER BY 1, 2, 3, 4",
}

// readRollup reads every rollup row that counts something.
func readRollup(t testing.TB, ctx context.Context, s *store.Store) [][]string {
	t.Helper()
	var out [][]string
	for _, q := range rollupTables {
		rows, err := s.Pool().Query(ctx, q)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
			var a, b, c, d string
			var n, onTime int64
			err := r.Scan(&a, &b, &c, &d, &n, &onTime)
			return []string{q[:30], a, b, c, d, fmt.Sprint(n), fmt.Sprint(onTime)}, err
		})
		require.NoError(t, err)
		out = append(out, got...)
	}
	return out
}

// requireRollupRefilled fails unless the rollup the triggers kept is the one
// engine.rollup_refill() computes from the tables.
func requireRollupRefilled(t testing.TB, ctx context.Context, s *store.Store) {
	t.Helper()
	kept := readRollup(t, ctx, s)
	require.NotEmpty(t, kept)
	require.NoError(t, s.RefillRollup(ctx))
	require.Equal(t, readRollup(t, ctx, s), kept, "the triggers' rollup, then the refilled one")
}

func TestRollupTriggersMatchRefill(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	g := &generator{s: s, rnd: rand.New(rand.NewPCG(3, 4))}
	snaps := g.fill(t, ctx, sized(150, 50))
	requireRollupRefilled(t, ctx, s)

	// Writes no store method makes: steps and dossiers changed, several in
	// a transaction, steps and dossiers deleted.
	writes := []string{
		`UPDATE engine.steps SET decided_at = started_at + interval '5 hours' WHERE code = $1 AND started_at IS NOT NULL`,
		`UPDATE engine.steps SET decided_at = NULL WHERE code = $1`,
		`UPDATE engine.steps SET due_at = started_at WHERE code = $1`,
		`UPDATE engine.steps SET agency = 'registry' WHERE code = $1`,
		`DELETE FROM engine.steps WHERE code = $1 AND step IN (SELECT step FROM engine.steps WHERE code = $1 LIMIT 1)`,
		`UPDATE engine.dossiers SET status = 'COMPLETED', completed_at = received_at WHERE code = $1`,
		`UPDATE engine.dossiers SET commune_code = '99999', grp = 'birth' WHERE code = $1`,
		`UPDATE engine.dossiers SET due_at = received_at - interval '1 day' WHERE code = $1`,
	}
	deleteDossier := []string{
		`DELETE FROM engine.portal_feed WHERE code = $1`, `DELETE FROM engine.notifications WHERE code = $1`,
		`DELETE FROM engine.notification_contacts WHERE code = $1`, `DELETE FROM engine.status_history WHERE code = $1`,
		`DELETE FROM engine.steps WHERE code = $1`, `DELETE FROM engine.dossiers WHERE code = $1`,
	}
	for i, snap := range snaps {
		err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			for range 1 + g.rnd.IntN(4) {
				if _, err := tx.Exec(ctx, writes[g.rnd.IntN(len(writes))], snap.Code); err != nil {
					return err
				}
			}
			if i%7 == 0 {
				for _, q := range deleteDossier {
					if _, err := tx.Exec(ctx, q, snap.Code); err != nil {
						return err
					}
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	requireRollupRefilled(t, ctx, s)

	// A dossier's receipt and province, its steps' keys, never change.
	_, err := s.Pool().Exec(ctx, `UPDATE engine.dossiers SET province_code = '002' WHERE code = $1`, snaps[1].Code)
	require.ErrorContains(t, err, "never change")
}

func TestRollupUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := &generator{s: s, rnd: rand.New(rand.NewPCG(5, 6))}
	shared := g.fill(t, ctx, 20)

	const writers = 8
	own := make([][]dossier.Snapshot, writers)
	for w := range own {
		own[w] = g.fill(t, ctx, 5)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := &generator{s: s, rnd: rand.New(rand.NewPCG(uint64(w), 7))}
			mine := slices.Clone(own[w])
			for i := range sized(30, 10) {
				// Every write holds one of the writer's own dossiers and one
				// shared with the others, in either order. (Two shared ones
				// would deadlock on the dossiers' own rows, rollup or not.)
				var batch []dossier.Snapshot
				k := i % len(mine)
				mine[k] = gen.version(mine[k])
				mine[k].Version += int64(w) * 1000
				batch = append(batch, mine[k])
				sh := gen.version(shared[gen.rnd.IntN(len(shared))])
				sh.Version = int64(100000 + i*writers + w)
				batch = append(batch, sh)
				gen.rnd.Shuffle(len(batch), func(a, b int) { batch[a], batch[b] = batch[b], batch[a] })
				if _, err := s.ApplySnapshots(ctx, batch, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireRollupRefilled(t, ctx, s)
}

// BenchmarkApplySnapshotsRollup measures a version's write with the
// rollup's triggers: each version changes its dossier's status and decides
// a step, so every rollup table moves.
func BenchmarkApplySnapshotsRollup(b *testing.B) {
	// Side by side in one run: the write path with the rollup's triggers,
	// and the same writes with them disabled (as the seeder COPYs).
	for _, tc := range []struct {
		name    string
		disable bool
	}{{"with rollup", false}, {"without rollup", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			if tc.disable {
				for _, stmt := range []string{
					"ALTER TABLE engine.dossiers DISABLE TRIGGER rollup_dossiers",
					"ALTER TABLE engine.steps DISABLE TRIGGER rollup_steps",
				} {
					if _, err := s.Pool().Exec(ctx, stmt); err != nil {
						b.Fatal(err)
					}
				}
			}
			g := &generator{s: s, rnd: rand.New(rand.NewPCG(8, 9))}
			snaps := make([]dossier.Snapshot, 200)
			for i := range snaps {
				snaps[i] = g.create(b, ctx)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				k := i % len(snaps)
				snap := g.version(snaps[k])
				snaps[k] = snap
				if _, err := s.ApplySnapshots(ctx, []dossier.Snapshot{snap}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
