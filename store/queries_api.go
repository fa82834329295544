package store

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
)

// The API's read queries: listings, stuck steps and statistics over the read
// model. None of them touches the form, so none of them reads personal data.

// terminalStatuses are the dossier statuses that never change again.
var terminalStatuses = []string{
	string(dossier.StatusCompleted), string(dossier.StatusPartiallyCompleted),
	string(dossier.StatusRejected), string(dossier.StatusCancelled),
}

// terminalStepStatuses are the step statuses that never change again.
var terminalStepStatuses = []string{
	string(dossier.StepApproved), string(dossier.StepRejected),
	string(dossier.StepSkipped), string(dossier.StepCancelled),
}

// Cursor is a position in a listing ordered newest first.
type Cursor struct {
	ReceivedAt time.Time
	Code       string
}

// DossierFilter selects dossiers; zero fields do not filter.
type DossierFilter struct {
	Group        dossier.Group
	Statuses     []dossier.Status
	CommuneCode  string
	ProvinceCode string
	// OverdueOnly keeps dossiers flagged overdue, or still open past their due time.
	OverdueOnly   bool
	ReceivedFrom  time.Time
	ReceivedUntil time.Time
	// After continues a listing after this position.
	After *Cursor
	Limit int
	// Now is the time overdue is judged at; zero means time.Now().
	Now time.Time
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ListDossiers returns dossiers newest first, with their steps.
func (s *Store) ListDossiers(ctx context.Context, f DossierFilter) ([]dossier.Snapshot, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	statuses := make([]string, 0, len(f.Statuses))
	for _, st := range f.Statuses {
		statuses = append(statuses, string(st))
	}
	var afterAt *time.Time
	afterCode := ""
	if f.After != nil {
		afterAt, afterCode = &f.After.ReceivedAt, f.After.Code
	}
	rows, err := s.pool.Query(ctx, `SELECT `+dossierColumns+` FROM engine.dossiers d
		WHERE ($1 = '' OR d.grp = $1)
		  AND (cardinality($2::text[]) = 0 OR d.status = ANY($2))
		  AND ($3 = '' OR d.commune_code = $3)
		  AND ($4 = '' OR d.province_code = $4)
		  AND (NOT $5 OR d.overdue OR (d.due_at < $6 AND d.status <> ALL($7)))
		  AND ($8::timestamptz IS NULL OR d.received_at >= $8)
		  AND ($9::timestamptz IS NULL OR d.received_at < $9)
		  AND ($10::timestamptz IS NULL OR (d.received_at, d.code) < ($10, $11))
		ORDER BY d.received_at DESC, d.code DESC
		LIMIT $12`,
		string(f.Group), statuses, f.CommuneCode, f.ProvinceCode, f.OverdueOnly, f.Now, terminalStatuses,
		optTime(f.ReceivedFrom), optTime(f.ReceivedUntil), afterAt, afterCode, f.Limit)
	if err != nil {
		return nil, translate(err, "listing dossiers")
	}
	snaps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dossier.Snapshot, error) { return scanDossier(row) })
	if err != nil {
		return nil, translate(err, "listing dossiers")
	}
	if len(snaps) == 0 {
		return nil, nil
	}
	codes := make([]string, len(snaps))
	for i, d := range snaps {
		codes[i] = d.Code
	}
	steps, err := loadSteps(ctx, s.pool, codes)
	if err != nil {
		return nil, translate(err, "listing dossiers")
	}
	for i := range snaps {
		snaps[i].Steps = steps[snaps[i].Code]
	}
	return snaps, nil
}

// WorkflowStarted says whether the dossier's workflow was confirmed started.
func (s *Store) WorkflowStarted(ctx context.Context, code string) (bool, error) {
	var started bool
	err := s.pool.QueryRow(ctx, `SELECT workflow_started_at IS NOT NULL FROM engine.dossiers WHERE code = $1`, code).Scan(&started)
	return started, translate(err, "reading dossier")
}

// StuckFilter says which open steps may be stuck. A step is returned when
// any of the conditions holds; the caller names the rules.
type StuckFilter struct {
	ProvinceCode string
	Agency       string
	Now          time.Time
	// IdleBefore: a started step whose status has not changed since before this.
	IdleBefore time.Time
	// MinAttempts: a step with at least this many attempts and a last error.
	MinAttempts int
	// LateIDBefore: an ID number awaited since before this.
	LateIDBefore time.Time
	// UnstartedBefore: a dossier received before this whose workflow was never started.
	UnstartedBefore time.Time
	// Rules turns the conditions on; the zero value turns all of them off.
	Rules StuckRules
	Limit int
}

// StuckRules are the conditions a StuckFilter may test.
type StuckRules struct {
	// Overdue: a started step, or its dossier, past the due time.
	Overdue bool
	// Idle: a started step unchanged since IdleBefore, or a dossier whose
	// workflow never started.
	Idle bool
	// RetriesFailing: at least MinAttempts attempts and a last error.
	RetriesFailing bool
	// LateIDNumber: the ID number step awaited, or the card waiting for it.
	LateIDNumber bool
	// AwaitingSupplement: the agency asked the applicant for a supplement.
	AwaitingSupplement bool
}

// AllStuckRules turns every condition on.
func AllStuckRules() StuckRules {
	return StuckRules{Overdue: true, Idle: true, RetriesFailing: true, LateIDNumber: true, AwaitingSupplement: true}
}

// OpenStep is a step not yet decided, with its dossier's facts.
type OpenStep struct {
	Code            string
	Group           dossier.Group
	CommuneCode     string
	ProvinceCode    string
	ReceivedAt      time.Time
	DossierDueAt    time.Time
	DossierOverdue  bool
	WorkflowStarted bool
	Step            dossier.Step
}

const stuckWhere = `FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
	WHERE d.status <> ALL($1) AND s.status <> ALL($2)
	  AND ($3 = '' OR d.province_code = $3)
	  AND ($4 = '' OR s.agency = $4)
	  AND (
	        ($11 AND s.status <> 'PENDING' AND (s.overdue OR s.due_at < $5 OR d.overdue OR d.due_at < $5))
	     OR ($12 AND s.status <> 'PENDING' AND s.status_since < $6)
	     OR ($12 AND d.workflow_started_at IS NULL AND d.received_at < $9 AND s.step = ANY($10))
	     OR ($13 AND s.attempts >= $7 AND s.last_error <> '')
	     OR ($14 AND s.status_since < $8 AND ((s.step = 'id_number' AND s.status = 'AWAITING_AGENCY') OR s.status = 'WAITING_ID_NUMBER'))
	     OR ($15 AND s.status = 'NEEDS_SUPPLEMENT')
	  )`

func (f StuckFilter) args() []any {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	if f.MinAttempts <= 0 {
		f.MinAttempts = 1
	}
	return []any{terminalStatuses, terminalStepStatuses, f.ProvinceCode, f.Agency, f.Now, f.IdleBefore,
		f.MinAttempts, f.LateIDBefore, f.UnstartedBefore,
		[]string{string(dossier.StepBirthRegistration), string(dossier.StepDeathRegistration)},
		f.Rules.Overdue, f.Rules.Idle, f.Rules.RetriesFailing, f.Rules.LateIDNumber, f.Rules.AwaitingSupplement}
}

// StuckSteps returns open steps that meet any condition of f, the longest
// unchanged first.
func (s *Store) StuckSteps(ctx context.Context, f StuckFilter) ([]OpenStep, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args := append(f.args(), f.Limit)
	rows, err := s.pool.Query(ctx, `SELECT d.code, d.grp, d.commune_code, d.province_code, d.received_at, d.due_at, d.overdue,
		d.workflow_started_at IS NOT NULL,
		s.step, s.agency, s.status, s.status_since, s.started_at, s.due_at, s.decided_at, s.overdue, s.attempts,
		s.last_error, s.reason, s.missing, s.agency_case_id, s.new_appointment_at, s.updated_at
		`+stuckWhere+`
		ORDER BY s.status_since, d.code, s.step
		LIMIT $16`, args...)
	if err != nil {
		return nil, translate(err, "listing stuck steps")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OpenStep, error) {
		var o OpenStep
		var g, kind, status string
		err := row.Scan(&o.Code, &g, &o.CommuneCode, &o.ProvinceCode, &o.ReceivedAt, &o.DossierDueAt, &o.DossierOverdue,
			&o.WorkflowStarted,
			&kind, &o.Step.Agency, &status, &o.Step.StatusSince, &o.Step.StartedAt, &o.Step.DueAt, &o.Step.DecidedAt,
			&o.Step.Overdue, &o.Step.Attempts, &o.Step.LastError, &o.Step.Reason, &o.Step.Missing, &o.Step.CaseID,
			&o.Step.NewAppointmentAt, &o.Step.UpdatedAt)
		o.Group = dossier.Group(g)
		o.Step.Kind, o.Step.Status = dossier.StepKind(kind), dossier.StepStatus(status)
		if len(o.Step.Missing) == 0 {
			o.Step.Missing = nil
		}
		return o, err
	})
	return out, translate(err, "listing stuck steps")
}

// CountStuckSteps counts what StuckSteps would return without a limit.
func (s *Store) CountStuckSteps(ctx context.Context, f StuckFilter) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) `+stuckWhere, f.args()...).Scan(&n)
	return n, translate(err, "counting stuck steps")
}

// GroupStatusCount is how many dossiers of a group are in a status.
type GroupStatusCount struct {
	Group  dossier.Group
	Status dossier.Status
	Count  int64
}

// CountByGroupStatus counts every dossier by procedure group and status.
func (s *Store) CountByGroupStatus(ctx context.Context) ([]GroupStatusCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT grp, status, count(*) FROM engine.dossiers GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, translate(err, "counting dossiers by status")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GroupStatusCount, error) {
		var c GroupStatusCount
		var g, st string
		err := row.Scan(&g, &st, &c.Count)
		c.Group, c.Status = dossier.Group(g), dossier.Status(st)
		return c, err
	})
	return out, translate(err, "counting dossiers by status")
}

// CountOverdue counts open dossiers past their legal deadline.
func (s *Store) CountOverdue(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM engine.dossiers
		WHERE status <> ALL($1) AND (overdue OR due_at < $2)`, terminalStatuses, now).Scan(&n)
	return n, translate(err, "counting overdue dossiers")
}

// StatsFilter bounds the statistics; zero fields do not filter. From and
// Until bound the time of receipt.
type StatsFilter struct {
	ProvinceCode string
	From, Until  time.Time
	// Now ages the backlog; zero means time.Now().
	Now time.Time
}

// CountRow is how many dossiers share a place, group and status.
type CountRow struct {
	ProvinceCode string
	CommuneCode  string
	Group        dossier.Group
	Status       dossier.Status
	Count        int64
}

// StepTiming is how one agency does on one step.
type StepTiming struct {
	Agency  string
	Step    dossier.StepKind
	Decided int64
	// OnTime counts decisions at or before the step's due time.
	OnTime int64
	// P50 and P90 are seconds from the step's start to its decision.
	P50, P90 float64
}

// DailyVolume is how many dossiers of a group arrived on one day in Vietnam.
type DailyVolume struct {
	Day   string
	Group dossier.Group
	Count int64
}

// BacklogBucket counts open dossiers whose age since receipt falls in
// [MinDays, MaxDays) calendar days; MaxDays 0 means no upper bound.
type BacklogBucket struct {
	Label            string
	MinDays, MaxDays int
	Count, Overdue   int64
}

// ProvinceRow is one province's volume and punctuality.
type ProvinceRow struct {
	ProvinceCode string
	Received     int64
	// Finished dossiers were decided (completed, partly or not); OnTime of
	// them by their deadline. A dossier the applicant withdrew is neither.
	Finished, OnTime int64
}

// decidedStatuses are the ends the agencies reached, as rankings count them.
var decidedStatuses = []string{
	string(dossier.StatusCompleted), string(dossier.StatusPartiallyCompleted), string(dossier.StatusRejected),
}

// Statistics is what a supervisor ranks and charts.
type Statistics struct {
	Counts    []CountRow
	Timings   []StepTiming
	Volume    []DailyVolume
	Backlog   []BacklogBucket
	Provinces []ProvinceRow
	// Spans are the newest decided steps (at most maxSpans), for the
	// working-time percentiles the API counts with the calendar.
	Spans []StepSpan
}

// StepSpan is one decided step: who, which, and from when to when.
type StepSpan struct {
	Agency           string
	Step             dossier.StepKind
	Started, Decided time.Time
}

// maxSpans bounds how many decided steps the working-time figures read.
const maxSpans = 50000

// backlogBuckets are the ages a supervisor reads a backlog by.
var backlogBuckets = []BacklogBucket{
	{Label: "<1d", MinDays: 0, MaxDays: 1},
	{Label: "1-3d", MinDays: 1, MaxDays: 3},
	{Label: "3-7d", MinDays: 3, MaxDays: 7},
	{Label: "7-14d", MinDays: 7, MaxDays: 14},
	{Label: ">14d", MinDays: 14},
}

// Statistics computes counts, step timings and daily volumes.
func (s *Store) Statistics(ctx context.Context, f StatsFilter) (Statistics, error) {
	var out Statistics
	args := []any{f.ProvinceCode, optTime(f.From), optTime(f.Until)}
	const where = `($1 = '' OR d.province_code = $1)
		AND ($2::timestamptz IS NULL OR d.received_at >= $2)
		AND ($3::timestamptz IS NULL OR d.received_at < $3)`

	rows, err := s.pool.Query(ctx, `SELECT d.province_code, d.commune_code, d.grp, d.status, count(*)
		FROM engine.dossiers d WHERE `+where+`
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return out, translate(err, "counting dossiers")
	}
	out.Counts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CountRow, error) {
		var c CountRow
		var g, st string
		err := row.Scan(&c.ProvinceCode, &c.CommuneCode, &g, &st, &c.Count)
		c.Group, c.Status = dossier.Group(g), dossier.Status(st)
		return c, err
	})
	if err != nil {
		return out, translate(err, "counting dossiers")
	}

	rows, err = s.pool.Query(ctx, `SELECT s.agency, s.step, count(*),
		count(*) FILTER (WHERE s.due_at IS NOT NULL AND s.decided_at <= s.due_at),
		coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.decided_at - s.started_at)), 0),
		coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.decided_at - s.started_at)), 0)
		FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
		WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL AND `+where+`
		GROUP BY 1, 2 ORDER BY 1, 2`, args...)
	if err != nil {
		return out, translate(err, "timing steps")
	}
	out.Timings, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StepTiming, error) {
		var t StepTiming
		var step string
		err := row.Scan(&t.Agency, &step, &t.Decided, &t.OnTime, &t.P50, &t.P90)
		t.Step = dossier.StepKind(step)
		return t, err
	})
	if err != nil {
		return out, translate(err, "timing steps")
	}

	// Days are Vietnam's (UTC+7 all year), whatever the server's time zone.
	rows, err = s.pool.Query(ctx, `SELECT to_char((d.received_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD') AS day,
		d.grp, count(*)
		FROM engine.dossiers d WHERE `+where+`
		GROUP BY 1, 2 ORDER BY 1, 2`, args...)
	if err != nil {
		return out, translate(err, "counting daily volume")
	}
	out.Volume, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DailyVolume, error) {
		var v DailyVolume
		var g string
		err := row.Scan(&v.Day, &g, &v.Count)
		v.Group = dossier.Group(g)
		return v, err
	})
	if err != nil {
		return out, translate(err, "counting daily volume")
	}

	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	out.Backlog = slices.Clone(backlogBuckets)
	rows, err = s.pool.Query(ctx, `SELECT floor(extract(epoch FROM $4 - d.received_at) / 86400)::int AS days,
		count(*), count(*) FILTER (WHERE d.overdue OR d.due_at < $4)
		FROM engine.dossiers d WHERE d.status <> ALL($5) AND `+where+`
		GROUP BY 1`, append(args, now, terminalStatuses)...)
	if err != nil {
		return out, translate(err, "ageing the backlog")
	}
	defer rows.Close()
	for rows.Next() {
		var days int
		var n, late int64
		if err := rows.Scan(&days, &n, &late); err != nil {
			return out, translate(err, "ageing the backlog")
		}
		for i := range out.Backlog {
			b := &out.Backlog[i]
			if days >= b.MinDays && (b.MaxDays == 0 || days < b.MaxDays) {
				b.Count += n
				b.Overdue += late
			}
		}
	}
	if err := rows.Err(); err != nil {
		return out, translate(err, "ageing the backlog")
	}

	rows, err = s.pool.Query(ctx, `SELECT d.province_code, count(*),
		count(*) FILTER (WHERE d.status = ANY($4)),
		count(*) FILTER (WHERE d.status = ANY($4) AND d.completed_at IS NOT NULL AND d.completed_at <= d.due_at)
		FROM engine.dossiers d WHERE `+where+`
		GROUP BY 1 ORDER BY 1`, append(args, decidedStatuses)...)
	if err != nil {
		return out, translate(err, "ranking provinces")
	}
	out.Provinces, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ProvinceRow, error) {
		var p ProvinceRow
		err := row.Scan(&p.ProvinceCode, &p.Received, &p.Finished, &p.OnTime)
		return p, err
	})
	if err != nil {
		return out, translate(err, "ranking provinces")
	}

	rows, err = s.pool.Query(ctx, `SELECT s.agency, s.step, s.started_at, s.decided_at
		FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
		WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL AND `+where+`
		ORDER BY s.decided_at DESC LIMIT $4`, append(args, maxSpans)...)
	if err != nil {
		return out, translate(err, "reading step spans")
	}
	out.Spans, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StepSpan, error) {
		var sp StepSpan
		var step string
		err := row.Scan(&sp.Agency, &step, &sp.Started, &sp.Decided)
		sp.Step = dossier.StepKind(step)
		return sp, err
	})
	return out, translate(err, "reading step spans")
}

// Snapshots returns the read model of the named dossiers, by code; unknown
// codes are left out.
func (s *Store) Snapshots(ctx context.Context, codes []string) (map[string]dossier.Snapshot, error) {
	out := map[string]dossier.Snapshot{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+dossierColumns+` FROM engine.dossiers WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, translate(err, "reading dossiers")
	}
	snaps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dossier.Snapshot, error) { return scanDossier(row) })
	if err != nil {
		return nil, translate(err, "reading dossiers")
	}
	found := make([]string, 0, len(snaps))
	for _, d := range snaps {
		found = append(found, d.Code)
	}
	steps, err := loadSteps(ctx, s.pool, found)
	if err != nil {
		return nil, translate(err, "reading steps")
	}
	for _, d := range snaps {
		d.Steps = steps[d.Code]
		out[d.Code] = d
	}
	return out, nil
}

// Freshness is how current a dossier's copies are: when the read model took
// its newest version, and the newest version the national portal has
// acknowledged.
type Freshness struct {
	SyncedAt       time.Time
	PortalVersion  int64
	PortalSyncedAt *time.Time
}

// FreshnessOf reads the freshness of the named dossiers, by code.
func (s *Store) FreshnessOf(ctx context.Context, codes []string) (map[string]Freshness, error) {
	out := map[string]Freshness{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT h.code, max(h.synced_at),
		coalesce(max(h.version) FILTER (WHERE h.portal_synced_at IS NOT NULL), 0),
		max(h.portal_synced_at)
		FROM engine.status_history h WHERE h.code = ANY($1) GROUP BY h.code`, codes)
	if err != nil {
		return nil, translate(err, "reading freshness")
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var f Freshness
		if err := rows.Scan(&code, &f.SyncedAt, &f.PortalVersion, &f.PortalSyncedAt); err != nil {
			return nil, translate(err, "reading freshness")
		}
		out[code] = f
	}
	return out, translate(rows.Err(), "reading freshness")
}

// ApologyFilter narrows the apologies late agencies were asked for.
type ApologyFilter struct {
	// ProvinceCode and Agency are optional.
	ProvinceCode string
	Agency       string
	// Since, when set, keeps apologies asked for at or after it.
	Since time.Time
	Limit int
}

// ApologyRow is one late step's apology, owed or issued.
type ApologyRow struct {
	Code         string
	ProvinceCode string
	CommuneCode  string
	Step         dossier.StepKind
	Agency       string
	Apology      dossier.Apology
}

// Apologies lists late steps' apologies, the most recently asked first.
func (s *Store) Apologies(ctx context.Context, f ApologyFilter) ([]ApologyRow, error) {
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	rows, err := s.pool.Query(ctx, `SELECT s.code, d.province_code, d.commune_code, s.step, s.agency, s.apology
		FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
		WHERE s.apology IS NOT NULL AND ($1 = '' OR d.province_code = $1) AND ($2 = '' OR s.agency = $2)
		  AND ($3::timestamptz IS NULL OR (s.apology->>'requested_at')::timestamptz >= $3)
		ORDER BY (s.apology->>'requested_at')::timestamptz DESC, s.code, s.step
		LIMIT $4`, f.ProvinceCode, f.Agency, since, f.Limit)
	if err != nil {
		return nil, translate(err, "listing apologies")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ApologyRow, error) {
		var r ApologyRow
		var kind string
		err := row.Scan(&r.Code, &r.ProvinceCode, &r.CommuneCode, &kind, &r.Agency, &r.Apology)
		r.Step = dossier.StepKind(kind)
		return r, err
	})
	return out, translate(err, "listing apologies")
}

// ApologyCount is how many apologies an agency was asked for, and issued.
type ApologyCount struct {
	Agency    string
	Requested int
	Issued    int
}

// ApologyCounts counts apologies per agency under f, ignoring its Limit.
func (s *Store) ApologyCounts(ctx context.Context, f ApologyFilter) ([]ApologyCount, error) {
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	rows, err := s.pool.Query(ctx, `SELECT s.agency, count(*), count(*) FILTER (WHERE s.apology ? 'issued_at')
		FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
		WHERE s.apology IS NOT NULL AND ($1 = '' OR d.province_code = $1) AND ($2 = '' OR s.agency = $2)
		  AND ($3::timestamptz IS NULL OR (s.apology->>'requested_at')::timestamptz >= $3)
		GROUP BY s.agency ORDER BY s.agency`, f.ProvinceCode, f.Agency, since)
	if err != nil {
		return nil, translate(err, "counting apologies")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ApologyCount, error) {
		var c ApologyCount
		err := row.Scan(&c.Agency, &c.Requested, &c.Issued)
		return c, err
	})
	return out, translate(err, "counting apologies")
}
