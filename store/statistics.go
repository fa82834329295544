package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// The statistics read the rollup the triggers of 0011_statistics_rollup.sql
// keep: counts per Vietnam day of receipt, province, group and status, and
// histograms of step durations per day, province, agency and step. A
// period's whole days come from the rollup, the hours it holds of its first
// and last days from the dossiers themselves; counts are exact.

// PercentileError bounds the relative error of the step timings' P50 and
// P90: durations are counted in buckets that grow by 10 %, and a bucket's
// middle (the geometric mean of its bounds) is within sqrt(1.1)-1 ≈ 4.9 %
// of every duration in it.
const PercentileError = 0.05

// bucketRatio is how much each bucket's bounds grow: engine.rollup_bucket's.
const bucketRatio = 1.1

// bucketValue is the middle, in seconds, of an engine.rollup_bucket bucket.
func bucketValue(b int32) float64 {
	switch {
	case b > 0:
		return math.Pow(bucketRatio, float64(b-1_000_000)+0.5)
	case b < 0:
		return -math.Pow(bucketRatio, float64(-b-1_000_000)+0.5)
	}
	return 0
}

// dayOf is the Vietnam day holding t, as midnight UTC of that date.
func dayOf(t time.Time) time.Time {
	y, m, d := t.In(civil.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dayStart is when a day of dayOf's begins in Vietnam.
func dayStart(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, civil.Zone)
}

// period splits [from, until) into the whole Vietnam days the rollup holds,
// [fromDay, untilDay), and the parts of days before and after them, read
// from the dossiers. A nil bound is open.
type period struct {
	fromDay, untilDay *time.Time
	// edges are the ranges of receipt outside the whole days; none when
	// the period is whole days.
	edges [][2]*time.Time
	// whole is false when the period holds no whole day: edges then hold
	// all of it.
	whole bool
}

func splitPeriod(from, until *time.Time) period {
	var p period
	if from != nil {
		d := dayOf(*from)
		if !dayStart(d).Equal(*from) {
			d = d.AddDate(0, 0, 1)
		}
		p.fromDay = &d
	}
	if until != nil {
		d := dayOf(*until)
		p.untilDay = &d
	}
	if p.fromDay != nil && p.untilDay != nil && !p.fromDay.Before(*p.untilDay) {
		p.fromDay, p.untilDay = nil, nil
		p.edges = [][2]*time.Time{{from, until}}
		return p
	}
	p.whole = true
	if from != nil && !dayStart(*p.fromDay).Equal(*from) {
		s := dayStart(*p.fromDay)
		p.edges = append(p.edges, [2]*time.Time{from, &s})
	}
	if until != nil && !dayStart(*p.untilDay).Equal(*until) {
		s := dayStart(*p.untilDay)
		p.edges = append(p.edges, [2]*time.Time{&s, until})
	}
	return p
}

// Statistics computes counts, step timings, daily volumes, the backlog, the
// provinces' ranking and the newest step spans. They are read in one
// read-only snapshot, so the figures of one answer agree with each other
// while the read model moves.
//
// The snapshot's queries plan no parallel workers. Each reads a bounded
// range in index order, and starting the workers cost more than they
// saved: the spans of a big province's month took 68 ms with two workers
// and 19 ms without them (docs/BENCHMARKS.md, "Scale of the read model").
func (s *Store) Statistics(ctx context.Context, f StatsFilter) (Statistics, error) {
	var out Statistics
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
			return err
		}
		var err error
		out, err = statsReader{enginedb.New(tx)}.read(ctx, f)
		return err
	})
	return out, translate(err, "reading the statistics")
}

// statsReader reads the statistics in one transaction.
type statsReader struct {
	q *enginedb.Queries
}

func (s statsReader) read(ctx context.Context, f StatsFilter) (Statistics, error) {
	var out Statistics
	from, until := optTime(f.From), optTime(f.Until)
	p := splitPeriod(from, until)
	var sums []enginedb.RollupDaySumsRow
	var err error
	if p.whole {
		sums, err = s.q.RollupDaySums(ctx, enginedb.RollupDaySumsParams{ProvinceCode: f.ProvinceCode, FromDay: p.fromDay, UntilDay: p.untilDay})
		if err != nil {
			return out, translate(err, "reading the statistics' rollup")
		}
	}
	if out.Counts, err = s.countByPlace(ctx, f.ProvinceCode, from, until, p, sums); err != nil {
		return out, translate(err, "counting dossiers")
	}
	if out.Timings, err = s.stepTimings(ctx, f.ProvinceCode, p); err != nil {
		return out, translate(err, "timing steps")
	}
	if out.Volume, err = s.dailyVolume(ctx, f.ProvinceCode, p, sums); err != nil {
		return out, translate(err, "counting daily volume")
	}
	if out.Provinces, err = s.provinceRanking(ctx, f.ProvinceCode, p, sums); err != nil {
		return out, translate(err, "ranking provinces")
	}

	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	out.Backlog = slices.Clone(backlogBuckets)
	ages, err := s.q.BacklogByAge(ctx, enginedb.BacklogByAgeParams{Now: now,
		ProvinceCode: f.ProvinceCode, ReceivedFrom: from, ReceivedUntil: until})
	if err != nil {
		return out, translate(err, "ageing the backlog")
	}
	for _, r := range ages {
		days := int(r.Days)
		for i := range out.Backlog {
			b := &out.Backlog[i]
			if days >= b.MinDays && (b.MaxDays == 0 || days < b.MaxDays) {
				b.Count += r.Open
				b.Overdue += r.Overdue
			}
		}
	}

	out.Spans, err = s.stepSpans(ctx, f.ProvinceCode, from, until)
	return out, translate(err, "reading step spans")
}

// countByPlace counts by commune all time, and over a period by commune in
// a province (from its dossiers, by index) or by province in the nation
// (from the rollup's sums of the period's whole days).
func (s statsReader) countByPlace(ctx context.Context, province string, from, until *time.Time, p period, sums []enginedb.RollupDaySumsRow) ([]CountRow, error) {
	if from == nil && until == nil {
		rows, err := s.q.RollupPlaces(ctx, province)
		out := make([]CountRow, 0, len(rows))
		for _, r := range rows {
			out = append(out, CountRow{ProvinceCode: r.ProvinceCode, CommuneCode: r.CommuneCode,
				Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status), Count: r.Count})
		}
		return out, err
	}
	if province != "" {
		rows, err := s.q.CountByPlace(ctx, enginedb.CountByPlaceParams{ProvinceCode: province, ReceivedFrom: from, ReceivedUntil: until})
		out := make([]CountRow, 0, len(rows))
		for _, r := range rows {
			out = append(out, CountRow{ProvinceCode: r.ProvinceCode, CommuneCode: r.CommuneCode,
				Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status), Count: r.Count})
		}
		return out, err
	}
	sum := map[CountRow]int64{}
	for _, r := range sums {
		if r.Day == "" {
			sum[CountRow{ProvinceCode: r.ProvinceCode, Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status)}] += r.N
		}
	}
	for _, e := range p.edges {
		rows, err := s.q.CountByPlace(ctx, enginedb.CountByPlaceParams{ReceivedFrom: e[0], ReceivedUntil: e[1]})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			sum[CountRow{ProvinceCode: r.ProvinceCode, Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status)}] += r.Count
		}
	}
	out := make([]CountRow, 0, len(sum))
	for k, n := range sum {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b CountRow) int {
		return cmp.Or(cmp.Compare(a.ProvinceCode, b.ProvinceCode), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Status, b.Status))
	})
	return out, nil
}

// timingKey names one agency's step.
type timingKey struct {
	agency string
	step   string
}

// histogram is a step's decided durations by bucket.
type histogram struct {
	buckets map[int32]int64
	decided int64
	onTime  int64
}

func (h *histogram) add(bucket int32, n, onTime int64) {
	if h.buckets == nil {
		h.buckets = map[int32]int64{}
	}
	h.buckets[bucket] += n
	h.decided += n
	h.onTime += onTime
}

// percentile is the p-quantile of the histogram's durations as PostgreSQL's
// percentile_cont takes it (linear between the nearest ranks), each
// duration read as its bucket's middle.
func (h *histogram) percentile(p float64) float64 {
	if h.decided <= 0 {
		return 0
	}
	type bucket struct {
		value float64
		n     int64
	}
	bs := make([]bucket, 0, len(h.buckets))
	for b, n := range h.buckets {
		if n > 0 {
			bs = append(bs, bucket{bucketValue(b), n})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.value, b.value) })
	at := func(rank int64) float64 {
		for _, b := range bs {
			if rank < b.n {
				return b.value
			}
			rank -= b.n
		}
		return bs[len(bs)-1].value
	}
	pos := p * float64(h.decided-1)
	lo := int64(pos)
	v := at(lo)
	if lo+1 >= h.decided {
		return v
	}
	return v + (at(lo+1)-v)*(pos-float64(lo))
}

// stepTimings merges the rollup's histograms of the whole days with those
// of the period's first and last hours, counted from the steps.
func (s statsReader) stepTimings(ctx context.Context, province string, p period) ([]StepTiming, error) {
	hs := map[timingKey]*histogram{}
	add := func(agency, step string, bucket int32, n, onTime int64) {
		k := timingKey{agency, step}
		if hs[k] == nil {
			hs[k] = &histogram{}
		}
		hs[k].add(bucket, n, onTime)
	}
	if p.whole && province != "" {
		rows, err := s.q.RollupStepBucketsProvince(ctx, enginedb.RollupStepBucketsProvinceParams{
			ProvinceCode: province, FromDay: p.fromDay, UntilDay: p.untilDay})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			add(r.Agency, r.Step, r.Bucket, r.N, r.OnTime)
		}
	} else if p.whole {
		rows, err := s.q.RollupStepBucketsNation(ctx, enginedb.RollupStepBucketsNationParams{FromDay: p.fromDay, UntilDay: p.untilDay})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			add(r.Agency, r.Step, r.Bucket, r.N, r.OnTime)
		}
	}
	for _, e := range p.edges {
		rows, err := s.q.StepBuckets(ctx, enginedb.StepBucketsParams{ProvinceCode: province, ReceivedFrom: e[0], ReceivedUntil: e[1]})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			add(r.Agency, r.Step, r.Bucket, r.N, r.OnTime)
		}
	}
	out := make([]StepTiming, 0, len(hs))
	for k, h := range hs {
		if h.decided == 0 {
			continue
		}
		out = append(out, StepTiming{Agency: k.agency, Step: dossier.StepKind(k.step), Decided: h.decided, OnTime: h.onTime,
			P50: h.percentile(0.5), P90: h.percentile(0.9)})
	}
	slices.SortFunc(out, func(a, b StepTiming) int {
		return cmp.Or(cmp.Compare(a.Agency, b.Agency), cmp.Compare(a.Step, b.Step))
	})
	return out, nil
}

// dailyVolume counts receipts per Vietnam day and group.
func (s statsReader) dailyVolume(ctx context.Context, province string, p period, sums []enginedb.RollupDaySumsRow) ([]DailyVolume, error) {
	sum := map[DailyVolume]int64{}
	for _, r := range sums {
		if r.Day != "" {
			sum[DailyVolume{Day: r.Day, Group: dossier.Group(r.Grp)}] += r.N
		}
	}
	for _, e := range p.edges {
		rows, err := s.q.DailyVolume(ctx, enginedb.DailyVolumeParams{ProvinceCode: province, ReceivedFrom: e[0], ReceivedUntil: e[1]})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			sum[DailyVolume{Day: r.Day, Group: dossier.Group(r.Grp)}] += r.Count
		}
	}
	out := make([]DailyVolume, 0, len(sum))
	for k, n := range sum {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b DailyVolume) int { return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Group, b.Group)) })
	return out, nil
}

// provinceRanking counts each province's receipts, and of them those
// decided and those decided by their deadline.
func (s statsReader) provinceRanking(ctx context.Context, province string, p period, sums []enginedb.RollupDaySumsRow) ([]ProvinceRow, error) {
	sum := map[string]*ProvinceRow{}
	add := func(r ProvinceRow) {
		if sum[r.ProvinceCode] == nil {
			sum[r.ProvinceCode] = &ProvinceRow{ProvinceCode: r.ProvinceCode}
		}
		pr := sum[r.ProvinceCode]
		pr.Received += r.Received
		pr.Finished += r.Finished
		pr.OnTime += r.OnTime
	}
	for _, r := range sums {
		if r.Day != "" {
			continue
		}
		row := ProvinceRow{ProvinceCode: r.ProvinceCode, Received: r.N}
		if slices.Contains(decidedStatuses, r.Status) {
			row.Finished, row.OnTime = r.N, r.OnTime
		}
		add(row)
	}
	for _, e := range p.edges {
		rows, err := s.q.ProvinceRanking(ctx, enginedb.ProvinceRankingParams{Decided: decidedStatuses, ProvinceCode: province,
			ReceivedFrom: e[0], ReceivedUntil: e[1]})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			add(ProvinceRow(r))
		}
	}
	out := make([]ProvinceRow, 0, len(sum))
	for _, r := range sum {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ProvinceRow) int { return cmp.Compare(a.ProvinceCode, b.ProvinceCode) })
	return out, nil
}

// stepSpans reads the decided steps of the period's newest dossiers.
func (s statsReader) stepSpans(ctx context.Context, province string, from, until *time.Time) ([]StepSpan, error) {
	var out []StepSpan
	if province != "" {
		rows, err := s.q.StepSpansProvince(ctx, enginedb.StepSpansProvinceParams{ProvinceCode: province,
			ReceivedFrom: from, ReceivedUntil: until, Lim: maxSpans})
		out = make([]StepSpan, 0, len(rows))
		for _, r := range rows {
			out = append(out, StepSpan{Agency: r.Agency, Step: dossier.StepKind(r.Step), Started: *r.StartedAt, Decided: *r.DecidedAt})
		}
		return out, err
	}
	rows, err := s.q.StepSpansNation(ctx, enginedb.StepSpansNationParams{ReceivedFrom: from, ReceivedUntil: until, Lim: maxSpans})
	out = make([]StepSpan, 0, len(rows))
	for _, r := range rows {
		out = append(out, StepSpan{Agency: r.Agency, Step: dossier.StepKind(r.Step), Started: *r.StartedAt, Decided: *r.DecidedAt})
	}
	return out, err
}

// RefillRollup rebuilds the statistics' rollup from the read model, as
// after a TRUNCATE or a COPY made with the rollup's triggers disabled.
func (s *Store) RefillRollup(ctx context.Context) error {
	return translate(s.q.RollupRefill(ctx), "refilling the statistics rollup")
}
