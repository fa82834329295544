package scale

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store"
)

// The goals of the read model at a national year's scale.
const (
	goalSupervisor = 500 * time.Millisecond
	goalClerk      = 50 * time.Millisecond
)

// The stuck-case defaults, as the API's supervisor service and gauges use them.
const (
	idleAfter    = 60 * time.Minute
	minAttempts  = 3
	lateIDGrace  = 30 * time.Second
	unstartedAge = time.Minute
	// pageSize is the API's default page plus the one row that tells it a next page exists.
	pageSize  = 51
	stuckPage = 100
)

// Query is one read the API makes, timed over varied parameters.
type Query struct {
	Name string
	// Kind groups the queries by goal: statistics, stuck, list or lookup.
	Kind string
	Goal time.Duration
	// run makes one call with parameters drawn from r and says how long
	// the timed part took and how many rows (or dossiers, or counted rows)
	// it answered.
	run func(ctx context.Context, r *rand.Rand) (time.Duration, int, error)
}

// Figure is one query's timings.
type Figure struct {
	Name, Kind    string
	Goal          time.Duration
	N             int
	P50, P95, P99 time.Duration
	Max           time.Duration
	MeanRows      float64
	// TimedOut: a call was stopped at the timeout, which its timings then show.
	TimedOut bool
}

// Met says the p95 is within the goal.
func (f Figure) Met() bool { return f.P95 < f.Goal }

// params are what the queries draw their parameters from.
type params struct {
	now       time.Time
	samples   []Sample
	provinces []string // one entry per sample, so drawn by volume
}

func newParams(sum Summary, now time.Time) params {
	p := params{now: now, samples: sum.Samples}
	for _, s := range sum.Samples {
		p.provinces = append(p.provinces, s.Province)
	}
	return p
}

func (p params) sample(r *rand.Rand) Sample   { return p.samples[r.IntN(len(p.samples))] }
func (p params) province(r *rand.Rand) string { return p.provinces[r.IntN(len(p.provinces))] }

func (p params) stuckFilter() store.StuckFilter {
	return store.StuckFilter{
		Now:             p.now,
		IdleBefore:      p.now.Add(-idleAfter),
		MinAttempts:     minAttempts,
		LateIDBefore:    p.now.Add(-lateIDGrace),
		UnstartedBefore: p.now.Add(-unstartedAge),
		Rules:           store.AllStuckRules(),
	}
}

// queries are the reads the scenario times, through the store's own methods
// with the arguments the API passes them.
func queries(st *store.Store, p params) []Query {
	// The console's date picker sends the start of a Vietnam day; the API
	// takes any instant, and the hours of a period's first day are then
	// read from the dossiers instead of the rollup.
	hourAgo := p.now.AddDate(0, 0, -30)
	y, m, d := hourAgo.In(civil.Zone).Date()
	month := time.Date(y, m, d, 0, 0, 0, 0, civil.Zone)
	stats := func(f store.StatsFilter) func(context.Context, *rand.Rand) (time.Duration, int, error) {
		return timed(func(ctx context.Context, r *rand.Rand) (int, error) {
			if f.ProvinceCode != "" {
				f.ProvinceCode = p.province(r)
			}
			out, err := st.Statistics(ctx, f)
			return len(out.Counts), err
		})
	}
	commune := func(f *store.DossierFilter, r *rand.Rand) { f.CommuneCode = p.sample(r).Commune }
	openStatuses := [][]dossier.Status{
		{dossier.StatusInProgress}, {dossier.StatusNeedsSupplement}, {dossier.StatusCompleted},
		{dossier.StatusReceived, dossier.StatusInProgress, dossier.StatusNeedsSupplement},
	}
	return []Query{
		{Name: "statistics, a province, all time (the console's default)", Kind: "statistics", Goal: goalSupervisor,
			run: stats(store.StatsFilter{ProvinceCode: "any", Now: p.now})},
		{Name: "statistics, a province, last 30 days", Kind: "statistics", Goal: goalSupervisor,
			run: stats(store.StatsFilter{ProvinceCode: "any", From: month, Now: p.now})},
		{Name: "statistics, the nation, last 30 days", Kind: "statistics", Goal: goalSupervisor,
			run: stats(store.StatsFilter{From: month, Now: p.now})},
		{Name: "statistics, the nation, last 30 days from an hour (the API's bounds)", Kind: "statistics", Goal: goalSupervisor,
			run: stats(store.StatsFilter{From: hourAgo, Now: p.now})},
		{Name: "statistics, the nation, all time", Kind: "statistics", Goal: goalSupervisor,
			run: stats(store.StatsFilter{Now: p.now})},
		{Name: "overdue count (gauge)", Kind: "statistics", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, _ *rand.Rand) (int, error) {
				n, err := st.CountOverdue(ctx, p.now)
				return int(n), err
			})},
		{Name: "counts by group and status (gauge)", Kind: "statistics", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, _ *rand.Rand) (int, error) {
				c, err := st.CountByGroupStatus(ctx)
				return len(c), err
			})},
		{Name: "stuck cases, a province, first page", Kind: "stuck", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, r *rand.Rand) (int, error) {
				f := p.stuckFilter()
				f.ProvinceCode, f.Limit = p.province(r), stuckPage
				out, err := st.StuckSteps(ctx, f)
				return len(out), err
			})},
		{Name: "stuck cases, the nation, first page", Kind: "stuck", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, _ *rand.Rand) (int, error) {
				f := p.stuckFilter()
				f.Limit = stuckPage
				out, err := st.StuckSteps(ctx, f)
				return len(out), err
			})},
		{Name: "stuck count, all rules (gauge)", Kind: "stuck", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, _ *rand.Rand) (int, error) {
				n, err := st.CountStuckSteps(ctx, p.stuckFilter())
				return int(n), err
			})},
		{Name: "stuck count, one rule (gauge)", Kind: "stuck", Goal: goalSupervisor,
			run: timed(func(ctx context.Context, r *rand.Rand) (int, error) {
				f := p.stuckFilter()
				f.Rules = oneRule(r.IntN(5))
				n, err := st.CountStuckSteps(ctx, f)
				return int(n), err
			})},
		{Name: "clerk's list, a commune, first page", Kind: "list", Goal: goalClerk,
			run: page(st, p, 1, commune)},
		{Name: "clerk's list, a commune, page 5", Kind: "list", Goal: goalClerk,
			run: page(st, p, 5, commune)},
		{Name: "clerk's list, a commune and status, first page", Kind: "list", Goal: goalClerk,
			run: page(st, p, 1, func(f *store.DossierFilter, r *rand.Rand) {
				commune(f, r)
				f.Statuses = openStatuses[r.IntN(len(openStatuses))]
			})},
		{Name: "clerk's list, a commune, overdue only", Kind: "list", Goal: goalClerk,
			run: page(st, p, 1, func(f *store.DossierFilter, r *rand.Rand) {
				commune(f, r)
				f.OverdueOnly = true
			})},
		{Name: "supervisor's list, a province and status, page 3", Kind: "list", Goal: goalClerk,
			run: page(st, p, 3, func(f *store.DossierFilter, r *rand.Rand) {
				f.ProvinceCode = p.province(r)
				f.Statuses = openStatuses[r.IntN(len(openStatuses))]
			})},
		{Name: "citizen look-up", Kind: "lookup", Goal: goalClerk,
			run: timed(func(ctx context.Context, r *rand.Rand) (int, error) {
				return lookup(ctx, st, p.sample(r).Code, fmt.Sprintf("client-%d", r.IntN(1000)), p.now)
			})},
		// The look-up's two throttle writes each wait for a commit; its
		// reads alone show what the read model costs.
		{Name: "citizen look-up, its reads alone", Kind: "lookup", Goal: goalClerk,
			run: timed(func(ctx context.Context, r *rand.Rand) (int, error) {
				return lookupReads(ctx, st, p.sample(r).Code)
			})},
	}
}

func oneRule(i int) store.StuckRules {
	return [...]store.StuckRules{{Overdue: true}, {Idle: true}, {RetriesFailing: true}, {LateIDNumber: true}, {AwaitingSupplement: true}}[i]
}

// page times the nth page of a listing. The pages before it are read
// first, untimed, for the cursor the API's page token carries.
func page(st *store.Store, p params, n int, filter func(*store.DossierFilter, *rand.Rand)) func(context.Context, *rand.Rand) (time.Duration, int, error) {
	return func(ctx context.Context, r *rand.Rand) (time.Duration, int, error) {
		f := store.DossierFilter{Limit: pageSize, Now: p.now}
		filter(&f, r)
		for range n - 1 {
			snaps, err := st.ListDossiers(ctx, f)
			if err != nil {
				return 0, 0, err
			}
			if len(snaps) < pageSize {
				// A listing this short has no nth page: its last page is timed.
				break
			}
			last := snaps[pageSize-2]
			f.After = &store.Cursor{ReceivedAt: last.ReceivedAt, Code: last.Code}
		}
		t := time.Now()
		snaps, err := st.ListDossiers(ctx, f)
		return time.Since(t), len(snaps), err
	}
}

// timed times the whole of one call.
func timed(call func(context.Context, *rand.Rand) (int, error)) func(context.Context, *rand.Rand) (time.Duration, int, error) {
	return func(ctx context.Context, r *rand.Rand) (time.Duration, int, error) {
		t := time.Now()
		n, err := call(ctx, r)
		return time.Since(t), n, err
	}
}

// lookup makes the store calls of the citizen's look-up, in the API's order,
// for the right phone: the throttle, the phone's hash, the throttle's
// release, the dossier, its history and its notifications.
func lookup(ctx context.Context, st *store.Store, code, client string, now time.Time) (int, error) {
	pair := "p:" + client + "|" + code
	policy := store.ThrottlePolicy{Free: 30, Base: 2 * time.Second, Max: time.Hour, Window: time.Hour}
	if _, err := st.ThrottleAttempt(ctx, []store.ThrottleKey{{Key: "c:" + client, Policy: policy}, {Key: pair, Policy: policy}}, now); err != nil {
		return 0, err
	}
	if _, err := st.PhoneHash(ctx, code); err != nil {
		return 0, err
	}
	if err := st.ThrottleSucceeded(ctx, pair, []string{"c:" + client}); err != nil {
		return 0, err
	}
	return lookupReads(ctx, st, code)
}

// lookupReads are the look-up's reads after the throttle let it through.
func lookupReads(ctx context.Context, st *store.Store, code string) (int, error) {
	snap, err := st.Dossier(ctx, code)
	if err != nil {
		return 0, err
	}
	if _, err := st.History(ctx, code); err != nil {
		return 0, err
	}
	if _, err := st.Notifications(ctx, code); err != nil {
		return 0, err
	}
	return len(snap.Steps), nil
}

// Measure runs each query up to iterations times, or until budget is spent
// (at least three times), after one untimed warm-up call; a warm-up slower
// than a tenth of the budget counts as the first call. A call longer than
// timeout is stopped and ends that query's calls: its figures are then at
// least the timeout.
func Measure(ctx context.Context, qs []Query, iterations int, budget, timeout time.Duration, seed uint64, progress io.Writer) ([]Figure, error) {
	var out []Figure
	for _, q := range qs {
		r := rand.New(rand.NewPCG(seed, uint64(len(out))))
		var ds []time.Duration
		var rows int
		timedOut := false
		call := func() error {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			d, n, err := q.run(cctx, r)
			if err != nil && cctx.Err() != nil && ctx.Err() == nil {
				d, n, err, timedOut = timeout, 0, nil, true
			}
			ds = append(ds, d)
			rows += n
			return err
		}
		start := time.Now()
		if err := call(); err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		if ds[0] < budget/10 {
			ds, rows, start = ds[:0], 0, time.Now()
		}
		for !timedOut && len(ds) < iterations && (len(ds) < 3 || time.Since(start) < budget) {
			if err := call(); err != nil {
				return nil, fmt.Errorf("%s: %w", q.Name, err)
			}
		}
		f := figure(q, ds)
		f.TimedOut = timedOut
		f.MeanRows = float64(rows) / float64(len(ds))
		fmt.Fprintf(progress, "measuring: %-58s n=%-4d p50 %-9s p95 %-9s p99 %-9s goal %s\n", q.Name, f.N, f.show(f.P50), f.show(f.P95), f.show(f.P99), ms(f.Goal))
		out = append(out, f)
	}
	return out, nil
}

// show is a timing, marked as a floor when a call timed out.
func (f Figure) show(d time.Duration) string {
	if f.TimedOut && d >= f.Max {
		return "≥ " + ms(d)
	}
	return ms(d)
}

func figure(q Query, ds []time.Duration) Figure {
	slices.Sort(ds)
	at := func(p float64) time.Duration {
		i := sort.Search(len(ds), func(i int) bool { return float64(i+1) >= p*float64(len(ds)) })
		return ds[min(i, len(ds)-1)]
	}
	return Figure{Name: q.Name, Kind: q.Kind, Goal: q.Goal, N: len(ds), P50: at(0.5), P95: at(0.95), P99: at(0.99), Max: ds[len(ds)-1]}
}

func ms(d time.Duration) string {
	switch {
	case d >= 100*time.Second:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}
