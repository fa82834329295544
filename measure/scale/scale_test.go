package scale

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/store"
)

// schemaOf lists the engine schema's constraints and indexes with their definitions.
func schemaOf(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text
		FROM pg_constraint WHERE connamespace = 'engine'::regnamespace
		UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'engine' ORDER BY 1`)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return defs
}

func TestSmallYear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := MigrateTo(ctx, pool, 0)
	require.NoError(t, err)
	before := schemaOf(t, pool)

	now := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	res, err := Seed(ctx, pool, 5000, now, 7, io.Discard)
	require.NoError(t, err)
	sum := res.Summary
	require.Equal(t, 5000, sum.Dossiers)
	require.Positive(t, res.Refill, "the newest schema has the rollup: seeding refills it")
	require.Equal(t, before, schemaOf(t, pool), "seeding must leave the schema as the migrations made it")
	st := store.New(pool)

	t.Run("counts by group and status", func(t *testing.T) {
		counts, err := st.CountByGroupStatus(ctx)
		require.NoError(t, err)
		got := map[dossier.Group]map[dossier.Status]int64{dossier.GroupBirth: {}, dossier.GroupDeath: {}}
		for _, c := range counts {
			got[c.Group][c.Status] = c.Count
		}
		require.Equal(t, sum.ByGroupStatus, got)
		require.Greater(t, sum.ByGroupStatus[dossier.GroupBirth][dossier.StatusCompleted], int64(2000))
		require.Positive(t, sum.ByGroupStatus[dossier.GroupDeath][dossier.StatusInProgress]+sum.ByGroupStatus[dossier.GroupBirth][dossier.StatusInProgress])
	})

	t.Run("statistics count every dossier", func(t *testing.T) {
		stats, err := st.Statistics(ctx, store.StatsFilter{Now: now})
		require.NoError(t, err)
		var total, received int64
		for _, c := range stats.Counts {
			total += c.Count
		}
		for _, p := range stats.Provinces {
			received += p.Received
		}
		require.EqualValues(t, 5000, total)
		require.EqualValues(t, 5000, received)
		require.NotEmpty(t, stats.Timings)
		require.NotEmpty(t, stats.Spans)
	})

	t.Run("every supplement awaited is a stuck case", func(t *testing.T) {
		f := newParams(sum, now).stuckFilter()
		f.Rules = store.StuckRules{AwaitingSupplement: true}
		n, err := st.CountStuckSteps(ctx, f)
		require.NoError(t, err)
		require.Positive(t, sum.SupplementSteps)
		require.Equal(t, sum.SupplementSteps, n)
	})

	t.Run("a commune lists all its dossiers, newest first", func(t *testing.T) {
		s := sum.Samples[len(sum.Samples)/2]
		snaps, err := st.ListDossiers(ctx, store.DossierFilter{CommuneCode: s.Commune, Limit: 10000, Now: now})
		require.NoError(t, err)
		require.Len(t, snaps, sum.ByCommune[s.Commune])
		require.True(t, slices.IsSortedFunc(snaps, func(a, b dossier.Snapshot) int { return b.ReceivedAt.Compare(a.ReceivedAt) }))
	})

	t.Run("the look-up finds what was seeded", func(t *testing.T) {
		for _, s := range sum.Samples {
			n, err := lookup(ctx, st, s.Code, "test", now)
			require.NoError(t, err)
			require.Equal(t, s.Steps, n, s.Code)
			h, err := st.History(ctx, s.Code)
			require.NoError(t, err)
			require.Len(t, h, s.Versions, s.Code)
			notes, err := st.Notifications(ctx, s.Code)
			require.NoError(t, err)
			require.Len(t, notes, s.Notifications, s.Code)
		}
	})

	t.Run("sizes name the seeded tables and their indexes", func(t *testing.T) {
		sz, err := measureSizes(ctx, pool)
		require.NoError(t, err)
		tables := map[string]TableSize{}
		var all int64
		for _, tb := range sz.Tables {
			tables[tb.Name] = tb
			all += tb.Total
		}
		d, ok := tables["dossiers"]
		require.True(t, ok, "%v", sz.Tables)
		require.Positive(t, d.Heap)
		require.Positive(t, d.Indexes)
		require.GreaterOrEqual(t, d.Total, d.Heap+d.Indexes)
		require.GreaterOrEqual(t, sz.Database, all)
		pkey := indexNamed(sz.Indexes, "dossiers_pkey")
		require.Equal(t, "dossiers", pkey.Table, "%v", sz.Indexes)
		require.Positive(t, pkey.Size)
	})

	t.Run("every measured query runs", func(t *testing.T) {
		figs, err := Measure(ctx, queries(st, newParams(sum, now)), 1, 0, time.Minute, 1, io.Discard)
		require.NoError(t, err)
		require.Len(t, figs, len(queries(st, newParams(sum, now))))
		for _, f := range figs {
			require.Equal(t, 1, f.N, f.Name)
		}
	})
}

func TestWriteSectionKeepsTheRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	head := "# Benchmarks\n\n## Results\n\nfigures\n\n"
	tail := "## Reproduce\n\nmake bench\n"
	require.NoError(t, os.WriteFile(path, []byte(head+tail), 0o600))
	res := Result{At: time.Now(), Seeded: SeedResult{Summary: Summary{Dossiers: 10}}}
	require.NoError(t, WriteSection(path, res))

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(b)
	require.True(t, strings.HasPrefix(doc, head+markers.Begin), doc)
	require.True(t, strings.HasSuffix(doc, markers.End+"\n\n"+tail), doc)

	// Hand-written findings survive a rerun, and the section is not repeated.
	doc = strings.Replace(doc, markers.NotesBegin+"\n\n"+markers.NotesEnd, markers.NotesBegin+"\nthe findings\n"+markers.NotesEnd, 1)
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	require.NoError(t, WriteSection(path, res))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(b), markers.Begin))
	require.Contains(t, string(b), markers.NotesBegin+"\nthe findings\n"+markers.NotesEnd)
	require.True(t, strings.HasSuffix(string(b), markers.End+"\n\n"+tail))
}

// indexNamed is the named index in is, or the zero IndexSize.
func indexNamed(is []IndexSize, name string) IndexSize {
	for _, i := range is {
		if i.Name == name {
			return i
		}
	}
	return IndexSize{}
}
