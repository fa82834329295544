package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// Wrong phones, unknown codes and refusals (of a right phone as of a wrong
// one) take the same time: the floor, which the work behind each stays
// well under. The kinds run side by side, round after round, so a shared
// machine's noise falls on all alike, and their medians are compared.
func TestLookupAnswersCannotBeToldApartByTiming(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	const floor = 200 * time.Millisecond
	e := newEnv(t, tc, behindProxy, func(o *Options) { o.LookupFloor = floor })
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "timing-1"))
	require.NoError(t, err)
	code := sub.GetCode()

	// A client refused for the whole test.
	const refused = "192.0.2.200"
	for i := range lookupPairPolicy.Free + 1 {
		lookupAt(t, e.base, refused, code, fmt.Sprintf("098700000%d", i))
	}
	_, err = e.pool.Exec(context.Background(), `UPDATE engine.lookup_throttle SET blocked_until = now() + interval '1 hour' WHERE key = $1`, "c:"+refused)
	require.NoError(t, err)

	type answer struct {
		status int
		body   string
		took   time.Duration
	}
	// Each wrong guess comes from a client of its own, so none is refused.
	kinds := map[string]func(round int) (int, string){
		"wrong phone": func(r int) (int, string) {
			return lookupAt(t, e.base, fmt.Sprintf("198.18.1.%d", r), code, "0987000000")
		},
		"unknown code": func(r int) (int, string) {
			return lookupAt(t, e.base, fmt.Sprintf("198.18.2.%d", r), "00004-000101-0001", rightPhone)
		},
		"refused, wrong phone": func(int) (int, string) { return lookupAt(t, e.base, refused, code, "0987000000") },
		"refused, right phone": func(int) (int, string) { return lookupAt(t, e.base, refused, code, rightPhone) },
	}
	const rounds = 15
	answers := map[string][]answer{}
	var mu sync.Mutex
	for r := range rounds {
		var wg sync.WaitGroup
		for name, call := range kinds {
			wg.Go(func() {
				start := time.Now()
				st, body := call(r)
				a := answer{status: st, body: body, took: time.Since(start)}
				mu.Lock()
				answers[name] = append(answers[name], a)
				mu.Unlock()
			})
		}
		wg.Wait()
	}

	medians := map[string]time.Duration{}
	for name, as := range answers {
		var took []time.Duration
		for _, a := range as {
			require.GreaterOrEqual(t, a.took, floor, "%s answered before the floor", name)
			took = append(took, a.took)
		}
		slices.Sort(took)
		medians[name] = took[len(took)/2]
	}
	t.Logf("medians: %v", medians)
	lo, hi := slices.Min(mapValues(medians)), slices.Max(mapValues(medians))
	require.Less(t, hi-lo, floor/4, "the medians differ by more than a quarter of the floor: %v", medians)

	// What a caller reads: a wrong phone and an unknown code alike; a
	// refusal its own status, whatever the phone.
	for _, a := range answers["wrong phone"] {
		require.Equal(t, http.StatusNotFound, a.status)
		require.Equal(t, answers["unknown code"][0].body, a.body)
	}
	for _, name := range []string{"refused, wrong phone", "refused, right phone"} {
		for _, a := range answers[name] {
			require.Equal(t, http.StatusTooManyRequests, a.status, name)
		}
	}

	// The dossier itself is not held back.
	var took []time.Duration
	for range 5 {
		start := time.Now()
		st, body := lookupAt(t, e.base, "198.18.3.1", code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	require.Less(t, took[2], floor, "a right answer waits for no floor")
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestPadLookup(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	s := &Server{lookupFloor: 50 * time.Millisecond, metrics: m}
	over := func() float64 {
		var d dto.Metric
		require.NoError(t, m.lookupOverFloor.Write(&d))
		return d.GetCounter().GetValue()
	}

	start := time.Now()
	s.padLookup(context.Background(), start)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "waits out the floor")
	require.Zero(t, over())

	start = time.Now()
	s.padLookup(context.Background(), start.Add(-time.Second))
	require.Less(t, time.Since(start), 50*time.Millisecond, "an answer slower than the floor waits no more")
	require.EqualValues(t, 1, over(), "and is counted")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	s.padLookup(ctx, start)
	require.Less(t, time.Since(start), 50*time.Millisecond, "a caller that left is not waited for")

	(&Server{metrics: m}).padLookup(context.Background(), time.Now().Add(-time.Second))
	require.EqualValues(t, 1, over(), "no floor, nothing to count")
}
