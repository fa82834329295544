package store

import (
	"context"
	"time"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// The API's read queries: listings, stuck steps and statistics over the read
// model. None of them touches the form, so none of them reads personal data.

// terminalStatuses are the dossier statuses that never change again.
var terminalStatuses = []string{
	string(dossier.StatusCompleted), string(dossier.StatusPartiallyCompleted),
	string(dossier.StatusRejected), string(dossier.StatusCancelled),
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
	rows, err := s.q.ListDossiers(ctx, enginedb.ListDossiersParams{
		Grp: string(f.Group), Statuses: statuses, CommuneCode: f.CommuneCode, ProvinceCode: f.ProvinceCode,
		OverdueOnly: f.OverdueOnly, Now: f.Now, Terminal: terminalStatuses,
		ReceivedFrom: optTime(f.ReceivedFrom), ReceivedUntil: optTime(f.ReceivedUntil), AfterAt: afterAt, AfterCode: afterCode,
		Lim: int32(f.Limit),
	})
	if err != nil {
		return nil, translate(err, "listing dossiers")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	read := make([]enginedb.GetDossierRow, len(rows))
	for i, r := range rows {
		read[i] = enginedb.GetDossierRow(r)
	}
	snaps, err := withSteps(ctx, s.q, read)
	return snaps, translate(err, "listing dossiers")
}

// WorkflowStarted says whether the dossier's workflow was confirmed started.
func (s *Store) WorkflowStarted(ctx context.Context, code string) (bool, error) {
	started, err := s.q.WorkflowStarted(ctx, code)
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

// params are the conditions as StuckSteps and CountStuckSteps take them.
func (f StuckFilter) params() enginedb.CountStuckStepsParams {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	if f.MinAttempts <= 0 {
		f.MinAttempts = 1
	}
	return enginedb.CountStuckStepsParams{
		ProvinceCode: f.ProvinceCode, Agency: f.Agency,
		Now: f.Now, IdleBefore: f.IdleBefore, MinAttempts: int32(f.MinAttempts), LateIDBefore: f.LateIDBefore,
		UnstartedBefore: f.UnstartedBefore,
		FirstSteps:      []string{string(dossier.StepBirthRegistration), string(dossier.StepDeathRegistration)},
		RuleOverdue:     f.Rules.Overdue, RuleIdle: f.Rules.Idle, RuleRetries: f.Rules.RetriesFailing,
		RuleLateID: f.Rules.LateIDNumber, RuleSupplement: f.Rules.AwaitingSupplement,
	}
}

// StuckSteps returns open steps that meet any condition of f, the longest
// unchanged first.
func (s *Store) StuckSteps(ctx context.Context, f StuckFilter) ([]OpenStep, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	p := f.params()
	rows, err := s.q.StuckSteps(ctx, enginedb.StuckStepsParams{
		ProvinceCode: p.ProvinceCode, Agency: p.Agency,
		Now: p.Now, IdleBefore: p.IdleBefore, MinAttempts: p.MinAttempts, LateIDBefore: p.LateIDBefore,
		UnstartedBefore: p.UnstartedBefore, FirstSteps: p.FirstSteps,
		RuleOverdue: p.RuleOverdue, RuleIdle: p.RuleIdle, RuleRetries: p.RuleRetries,
		RuleLateID: p.RuleLateID, RuleSupplement: p.RuleSupplement, Lim: int32(f.Limit),
	})
	if err != nil {
		return nil, translate(err, "listing stuck steps")
	}
	out := make([]OpenStep, 0, len(rows))
	for _, r := range rows {
		o := OpenStep{
			Code: r.Code, Group: dossier.Group(r.Grp), CommuneCode: r.CommuneCode, ProvinceCode: r.ProvinceCode,
			ReceivedAt: r.ReceivedAt, DossierDueAt: r.DossierDueAt, DossierOverdue: r.DossierOverdue,
			WorkflowStarted: r.WorkflowStarted,
			Step: dossier.Step{
				Kind: dossier.StepKind(r.Step), Agency: r.Agency, Status: dossier.StepStatus(r.Status),
				StatusSince: r.StatusSince, StartedAt: r.StartedAt, DueAt: r.DueAt, DecidedAt: r.DecidedAt,
				Overdue: r.Overdue, Attempts: int(r.Attempts), LastError: r.LastError, LastErrorCode: r.LastErrorCode, Reason: r.Reason,
				Missing: r.Missing, CaseID: r.AgencyCaseID, NewAppointmentAt: r.NewAppointmentAt, UpdatedAt: r.UpdatedAt,
			},
		}
		if len(o.Step.Missing) == 0 {
			o.Step.Missing = nil
		}
		out = append(out, o)
	}
	return out, nil
}

// CountStuckSteps counts what StuckSteps would return without a limit.
func (s *Store) CountStuckSteps(ctx context.Context, f StuckFilter) (int64, error) {
	n, err := s.q.CountStuckSteps(ctx, f.params())
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
	rows, err := s.q.CountByGroupStatus(ctx)
	if err != nil {
		return nil, translate(err, "counting dossiers by status")
	}
	out := make([]GroupStatusCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, GroupStatusCount{Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status), Count: r.Count})
	}
	return out, nil
}

// CountOverdue counts open dossiers past their legal deadline.
func (s *Store) CountOverdue(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.q.CountOverdue(ctx, now)
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

// CountRow is how many dossiers share a place, group and status. For the
// whole nation over a period CommuneCode is empty: the rollup counts a
// period by province.
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
	// P50 and P90 are seconds from the step's start to its decision, read
	// from the rollup's histogram: within PercentileError of the exact
	// figure.
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
	// Spans are the decided steps of the period's newest dossiers (at most
	// maxSpans), for the working-time percentiles the API counts with the
	// calendar.
	Spans []StepSpan
}

// StepSpan is one decided step: who, which, and from when to when.
type StepSpan struct {
	Agency           string
	Step             dossier.StepKind
	Started, Decided time.Time
}

// maxSpans bounds how many decided steps the working-time figures read: a
// bounded read at any scale, and still several hundred decisions for each
// of the steps, enough for a median and a 90th percentile.
const maxSpans = 5000

// backlogBuckets are the ages a supervisor reads a backlog by.
var backlogBuckets = []BacklogBucket{
	{Label: "<1d", MinDays: 0, MaxDays: 1},
	{Label: "1-3d", MinDays: 1, MaxDays: 3},
	{Label: "3-7d", MinDays: 3, MaxDays: 7},
	{Label: "7-14d", MinDays: 7, MaxDays: 14},
	{Label: ">14d", MinDays: 14},
}

// Snapshots returns the read model of the named dossiers, by code; unknown
// codes are left out.
func (s *Store) Snapshots(ctx context.Context, codes []string) (map[string]dossier.Snapshot, error) {
	out := map[string]dossier.Snapshot{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := s.q.DossiersByCode(ctx, codes)
	if err != nil {
		return nil, translate(err, "reading dossiers")
	}
	read := make([]enginedb.GetDossierRow, len(rows))
	for i, r := range rows {
		read[i] = enginedb.GetDossierRow(r)
	}
	snaps, err := withSteps(ctx, s.q, read)
	if err != nil {
		return nil, translate(err, "reading steps")
	}
	for _, d := range snaps {
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
	rows, err := s.q.Freshness(ctx, codes)
	if err != nil {
		return nil, translate(err, "reading freshness")
	}
	for _, r := range rows {
		out[r.Code] = Freshness{SyncedAt: r.SyncedAt, PortalVersion: r.PortalVersion, PortalSyncedAt: nullTime(r.PortalSyncedAt)}
	}
	return out, nil
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
	rows, err := s.q.Apologies(ctx, enginedb.ApologiesParams{ProvinceCode: f.ProvinceCode, Agency: f.Agency,
		Since: optTime(f.Since), Lim: int32(f.Limit)})
	if err != nil {
		return nil, translate(err, "listing apologies")
	}
	out := make([]ApologyRow, 0, len(rows))
	for _, r := range rows {
		row := ApologyRow{Code: r.Code, ProvinceCode: r.ProvinceCode, CommuneCode: r.CommuneCode,
			Step: dossier.StepKind(r.Step), Agency: r.Agency}
		if r.Apology != nil {
			row.Apology = *r.Apology
		}
		out = append(out, row)
	}
	return out, nil
}

// ApologyCount is how many apologies an agency was asked for, and issued.
type ApologyCount struct {
	Agency    string
	Requested int
	Issued    int
}

// ApologyCounts counts apologies per agency under f, ignoring its Limit.
func (s *Store) ApologyCounts(ctx context.Context, f ApologyFilter) ([]ApologyCount, error) {
	rows, err := s.q.ApologyCounts(ctx, enginedb.ApologyCountsParams{ProvinceCode: f.ProvinceCode, Agency: f.Agency,
		Since: optTime(f.Since)})
	if err != nil {
		return nil, translate(err, "counting apologies")
	}
	out := make([]ApologyCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, ApologyCount{Agency: r.Agency, Requested: int(r.Requested), Issued: int(r.Issued)})
	}
	return out, nil
}
