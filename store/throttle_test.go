package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/store"
)

var testPolicy = store.ThrottlePolicy{Free: 2, Base: time.Second, Max: 10 * time.Second, Window: time.Hour}

func attempt(t *testing.T, s *store.Store, at time.Time, keys ...string) store.ThrottleVerdict {
	t.Helper()
	var ks []store.ThrottleKey
	for _, k := range keys {
		ks = append(ks, store.ThrottleKey{Key: k, Policy: testPolicy})
	}
	v, err := s.ThrottleAttempt(context.Background(), ks, at)
	require.NoError(t, err)
	v.Until = v.Until.UTC()
	return v
}

func throttleRows(t *testing.T, s *store.Store) map[string]int {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT key, failures FROM engine.lookup_throttle`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func TestThrottleAttemptWaitsGrow(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	require.Equal(t, store.ThrottleVerdict{}, attempt(t, s, t0, "c:a"), "free")
	require.Equal(t, store.ThrottleVerdict{}, attempt(t, s, t0, "c:a"), "free")
	require.Equal(t, store.ThrottleVerdict{Until: t0.Add(time.Second)}, attempt(t, s, t0, "c:a"), "the last free try, and a wait")
	require.Equal(t, store.ThrottleVerdict{Refused: true, Until: t0.Add(time.Second)}, attempt(t, s, t0.Add(500*time.Millisecond), "c:a"))
	require.Equal(t, 3, throttleRows(t, s)["c:a"], "a refused attempt counts nothing")

	t1 := t0.Add(time.Second)
	require.Equal(t, store.ThrottleVerdict{Until: t1.Add(2 * time.Second)}, attempt(t, s, t1, "c:a"), "the wait doubles")
	t2 := t1.Add(2 * time.Second)
	require.Equal(t, store.ThrottleVerdict{Until: t2.Add(4 * time.Second)}, attempt(t, s, t2, "c:a"))
	t3 := t2.Add(4 * time.Second)
	require.Equal(t, store.ThrottleVerdict{Until: t3.Add(8 * time.Second)}, attempt(t, s, t3, "c:a"))
	t4 := t3.Add(8 * time.Second)
	require.Equal(t, store.ThrottleVerdict{Until: t4.Add(10 * time.Second)}, attempt(t, s, t4, "c:a"), "up to the most")

	require.Equal(t, store.ThrottleVerdict{}, attempt(t, s, t0.Add(2*time.Hour), "c:a"), "a new window starts afresh")
	require.Equal(t, 1, throttleRows(t, s)["c:a"])
}

func TestThrottleAttemptRefusedByAnyKeyCountsNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for range testPolicy.Free + 1 {
		attempt(t, s, t0, "c:a", "p:a|1")
	}
	for i := range 50 {
		v := attempt(t, s, t0, "c:a", fmt.Sprintf("p:a|x%d", i))
		require.True(t, v.Refused)
	}
	require.Equal(t, map[string]int{"c:a": 3, "p:a|1": 3}, throttleRows(t, s), "refused attempts on new codes leave no rows")

	// Refused by the second key only: the first key's count is rolled back.
	attempt(t, s, t0, "p:b|1")
	attempt(t, s, t0, "p:b|1")
	attempt(t, s, t0, "p:b|1")
	v := attempt(t, s, t0, "c:b", "p:b|1")
	require.True(t, v.Refused)
	require.NotContains(t, throttleRows(t, s), "c:b")
}

// Parallel attempts, as from many connections or two replicas, get no more
// tries than attempts one after another.
func TestThrottleAttemptCountsParallelAttemptsOneByOne(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const n = 40
	verdicts := make(chan store.ThrottleVerdict, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { verdicts <- attempt(t, s, t0, "c:a", "p:a|1") })
	}
	wg.Wait()
	close(verdicts)
	judged := 0
	for v := range verdicts {
		if !v.Refused {
			judged++
		}
	}
	require.Equal(t, testPolicy.Free+1, judged, "the free tries and the one that starts the wait")
}

func TestThrottleSucceededHandsTheAttemptBack(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	attempt(t, s, t0, "c:a", "p:a|1")
	attempt(t, s, t0, "c:a", "p:a|1")
	require.NoError(t, s.ThrottleSucceeded(ctx, "p:a|1", []string{"c:a"}))
	require.Equal(t, map[string]int{"c:a": 1}, throttleRows(t, s))
}

// Beyond the bound, the rows that refuse someone go last, so a flood from
// many clients cannot push a refusal out.
func TestPruneThrottleDropsRefusalsLast(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	old := now.Add(-30 * time.Minute)
	for i := range testPolicy.Free + 1 {
		attempt(t, s, old.Add(time.Duration(i)*time.Millisecond), "c:blocked")
	}
	_, err := s.Pool().Exec(ctx, `UPDATE engine.lookup_throttle SET blocked_until = $1 WHERE key = 'c:blocked'`, now.Add(time.Hour))
	require.NoError(t, err)
	for i := range 10 {
		attempt(t, s, now.Add(-time.Duration(10-i)*time.Second), fmt.Sprintf("c:flood-%d", i))
	}
	n, err := s.PruneThrottle(ctx, now, time.Hour, 4)
	require.NoError(t, err)
	require.EqualValues(t, 7, n)
	rows := throttleRows(t, s)
	require.Len(t, rows, 4)
	require.Contains(t, rows, "c:blocked", "the oldest row, but it refuses")
	for _, k := range []string{"c:flood-7", "c:flood-8", "c:flood-9"} {
		require.Contains(t, rows, k, "the newest counts stay")
	}
	require.True(t, attempt(t, s, now, "c:blocked").Refused)
}
