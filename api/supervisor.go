package api

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

type supervisorService struct {
	enginev1.UnimplementedSupervisorServiceServer
	s *Server
}

// Stuck thresholds when the request leaves them out.
const (
	defaultIdleMinutes = 60
	defaultMinAttempts = 3
	defaultStuckPage   = 100
	maxStuckPage       = 1000
	// lateIDGrace matches the workflow's wait for a prompt ID number before
	// the birth registration goes ahead without it.
	lateIDGrace = 30 * time.Second
)

// provinceScope returns the province a supervisor may see: the own one, or
// the requested one for a national supervisor or an admin.
func provinceScope(c auth.Claims, requested string) (string, error) {
	if c.Role == auth.RoleSupervisor && c.Province != "" {
		if requested != "" && requested != c.Province {
			return "", dossier.Errorf(dossier.KindPermissionDenied, "a supervisor of province %s may see only that province", c.Province)
		}
		return c.Province, nil
	}
	return requested, nil
}

func defaultStuckFilter(now time.Time) store.StuckFilter {
	return store.StuckFilter{
		Now:             now,
		IdleBefore:      now.Add(-defaultIdleMinutes * time.Minute),
		MinAttempts:     defaultMinAttempts,
		LateIDBefore:    now.Add(-lateIDGrace),
		UnstartedBefore: now.Add(-unstartedAge),
		Rules:           store.AllStuckRules(),
	}
}

// rulePriority orders the rules from the most specific diagnosis to the most
// general; a step that meets several is listed once, under the first.
var rulePriority = []enginev1.StuckRule{
	enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING,
	enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER,
	enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT,
	enginev1.StuckRule_STUCK_RULE_OVERDUE,
	enginev1.StuckRule_STUCK_RULE_IDLE,
}

func (ss *supervisorService) ListStuck(ctx context.Context, req *enginev1.ListStuckRequest) (*enginev1.ListStuckResponse, error) {
	s := ss.s
	var vs []dossier.FieldViolation
	if req.GetIdleMinutes() < 0 {
		vs = append(vs, violation("idle_minutes", "must not be negative"))
	}
	if req.GetMinAttempts() < 0 {
		vs = append(vs, violation("min_attempts", "must not be negative"))
	}
	if req.GetPageSize() < 0 {
		vs = append(vs, violation("page_size", "must not be negative"))
	}
	vs = append(vs, checkRules(req.GetRules())...)
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	province, err := provinceScope(caller(ctx), req.GetProvinceCode())
	if err != nil {
		return nil, err
	}
	now := s.now()
	f := defaultStuckFilter(now)
	f.ProvinceCode = province
	f.Agency = req.GetAgency()
	if m := req.GetIdleMinutes(); m > 0 {
		f.IdleBefore = now.Add(-time.Duration(m) * time.Minute)
	}
	if n := req.GetMinAttempts(); n > 0 {
		f.MinAttempts = int(n)
	}
	if len(req.GetRules()) > 0 {
		f.Rules = stuckRules(req.GetRules())
	}
	f.Limit = int(req.GetPageSize())
	if f.Limit == 0 {
		f.Limit = defaultStuckPage
	}
	f.Limit = min(f.Limit, maxStuckPage)
	rows, err := s.store.StuckSteps(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.ListStuckResponse{}
	for _, o := range rows {
		if c, ok := s.diagnose(o, f, now); ok {
			resp.Cases = append(resp.Cases, c)
		}
	}
	return resp, nil
}

// checkRules refuses rule names that are not stuck rules.
func checkRules(rules []enginev1.StuckRule) []dossier.FieldViolation {
	var vs []dossier.FieldViolation
	for _, r := range rules {
		if !slices.Contains(rulePriority, r) {
			vs = append(vs, violation("rules", "%s is not a stuck rule", r))
		}
	}
	return vs
}

// stuckRules turns the rules a request names on, and the others off.
func stuckRules(rules []enginev1.StuckRule) store.StuckRules {
	wanted := map[enginev1.StuckRule]bool{}
	for _, r := range rules {
		wanted[r] = true
	}
	return store.StuckRules{
		Overdue:            wanted[enginev1.StuckRule_STUCK_RULE_OVERDUE],
		Idle:               wanted[enginev1.StuckRule_STUCK_RULE_IDLE],
		RetriesFailing:     wanted[enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING],
		LateIDNumber:       wanted[enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER],
		AwaitingSupplement: wanted[enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT],
	}
}

// matches returns the rules an open step meets under f, in priority order.
func matches(o store.OpenStep, f store.StuckFilter) []enginev1.StuckRule {
	st := o.Step
	started := st.Status != dossier.StepPending
	unstarted := !o.WorkflowStarted && o.ReceivedAt.Before(f.UnstartedBefore)
	var out []enginev1.StuckRule
	if f.Rules.RetriesFailing && st.Attempts >= f.MinAttempts && st.LastError != "" {
		out = append(out, enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING)
	}
	if f.Rules.LateIDNumber && st.StatusSince.Before(f.LateIDBefore) &&
		((st.Kind == dossier.StepIDNumber && st.Status == dossier.StepAwaitingAgency) || st.Status == dossier.StepWaitingIDNumber) {
		out = append(out, enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER)
	}
	if f.Rules.AwaitingSupplement && st.Status == dossier.StepNeedsSupplement {
		out = append(out, enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT)
	}
	if f.Rules.Overdue && started && (st.Overdue || (st.DueAt != nil && st.DueAt.Before(f.Now)) || o.DossierOverdue || o.DossierDueAt.Before(f.Now)) {
		out = append(out, enginev1.StuckRule_STUCK_RULE_OVERDUE)
	}
	if f.Rules.Idle && ((started && st.StatusSince.Before(f.IdleBefore)) || unstarted) {
		out = append(out, enginev1.StuckRule_STUCK_RULE_IDLE)
	}
	return out
}

// diagnose explains one stuck step in a sentence and suggests a remedy.
func (s *Server) diagnose(o store.OpenStep, f store.StuckFilter, now time.Time) (*enginev1.StuckCase, bool) {
	rules := matches(o, f)
	if len(rules) == 0 {
		return nil, false
	}
	st := o.Step
	rule := rules[0]
	since := st.StatusSince
	unstarted := !o.WorkflowStarted && st.Status == dossier.StepPending
	if unstarted {
		since = o.ReceivedAt
	}
	due := o.DossierDueAt
	if st.DueAt != nil && st.DueAt.Before(due) {
		due = *st.DueAt
	}

	var parts []string
	title := st.Kind.Title()
	switch {
	case unstarted:
		parts = append(parts, "the dossier's workflow has not started")
	case st.Status == dossier.StepSending:
		parts = append(parts, "sending to "+title)
	case st.Status == dossier.StepNeedsSupplement:
		p := title + " awaits a supplement from the applicant"
		if len(st.Missing) > 0 {
			p += " (missing: " + strings.Join(st.Missing, ", ") + ")"
		}
		parts = append(parts, p)
	case st.Status == dossier.StepWaitingIDNumber:
		parts = append(parts, title+" waits for the child's ID number")
	default:
		parts = append(parts, "waiting on "+title)
	}
	parts[0] += " for " + s.elapsed(since, now)
	if st.Attempts > 0 && st.LastError != "" {
		parts = append(parts, fmt.Sprintf("%d failed attempts, last error %s", st.Attempts, lastErrorLabel(st)))
	}
	if slices.Contains(rules, enginev1.StuckRule_STUCK_RULE_OVERDUE) {
		parts = append(parts, "past its deadline of "+due.In(civil.Zone).Format("2006-01-02 15:04"))
	}

	c := &enginev1.StuckCase{
		Code:          o.Code,
		Group:         o.Group.Proto(),
		Step:          st.Kind.Proto(),
		Agency:        st.Agency,
		Rule:          rule,
		Diagnosis:     strings.Join(parts, ", "),
		Remedy:        remedy(rule, o, unstarted),
		Attempts:      int32(st.Attempts),
		LastError:     st.LastError,
		LastErrorCode: st.LastErrorCode,
		Since:         timestamppb.New(since),
		DueAt:         timestamppb.New(due),
		CommuneCode:   o.CommuneCode,
		ProvinceCode:  o.ProvinceCode,
	}
	return c, true
}

// elapsed says how long, in working days once it is at least one.
func (s *Server) elapsed(since, now time.Time) string {
	if d := s.cal.WorkingDaysBetween(since, now); d >= 1 {
		if d == 1 {
			return "1 working day"
		}
		return fmt.Sprintf("%d working days", d)
	}
	d := now.Sub(since).Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

// lastErrorLabel names a step's last failure for the diagnosis: its code,
// or, for a failure that carries none, the error itself, shortened.
func lastErrorLabel(st dossier.Step) string {
	if st.LastErrorCode != "" {
		return st.LastErrorCode
	}
	if msg := []rune(st.LastError); len(msg) > 80 {
		return string(msg[:80]) + "…"
	}
	return st.LastError
}

func remedy(rule enginev1.StuckRule, o store.OpenStep, unstarted bool) string {
	agency := o.Step.Agency
	switch rule {
	case enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING:
		switch o.Step.LastErrorCode {
		case "UNAUTHENTICATED", "PERMISSION_DENIED":
			return fmt.Sprintf("check the credentials the engine presents to %s (agency API key) and %s's client list; then Retry", agency, agency)
		case "UNAVAILABLE", "DEADLINE_EXCEEDED", "TIMEOUT", "RESOURCE_EXHAUSTED":
			return fmt.Sprintf("%s is unreachable or overloaded: check its service and the network; the engine keeps retrying with backoff and sends at once when it answers again; Retry to send now", agency)
		}
		return fmt.Sprintf("read the last error in the trace; Retry, and Escalate to %s if it keeps failing", agency)
	case enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER:
		return "ask the Police population database about the child's ID number: the birth record goes ahead without it and the card waits for it; Retry to poll now, Escalate to police after a working day"
	case enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT:
		return "contact the applicant to supply what is missing (7 working days before the procedure is rejected); the clerk submits it with SupplementDossier"
	case enginev1.StuckRule_STUCK_RULE_OVERDUE:
		return fmt.Sprintf("Escalate to %s: a late agency must apologise and set a new appointment date", agency)
	case enginev1.StuckRule_STUCK_RULE_IDLE:
		if unstarted {
			return "the API's sweeper starts it within a minute; if it does not, check /readyz (Temporal and the worker)"
		}
		if o.Step.Status == dossier.StepSending {
			return "Retry to send now"
		}
		return fmt.Sprintf("Retry to poll %s now (a push may have been lost); Escalate if it has not decided", agency)
	}
	return ""
}

func (ss *supervisorService) TraceDossier(ctx context.Context, req *enginev1.TraceDossierRequest) (*enginev1.TraceDossierResponse, error) {
	s := ss.s
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	events, err := s.store.Events(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	audits, err := s.store.AuditOf(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	// The trace carries the audit rows, and reading them is recorded like ListAudit.
	if err := s.audit(ctx, "read audit", snap.Code, "TraceDossier"); err != nil {
		return nil, err
	}
	traceID, err := s.store.TraceID(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.TraceDossierResponse{Dossier: dossierProto(snap, s.now()), TraceId: traceID}
	if traceID != "" && s.traceURL != "" {
		resp.TraceUrl = strings.ReplaceAll(s.traceURL, "{trace_id}", traceID)
	}
	for _, ev := range events {
		resp.Events = append(resp.Events, &enginev1.TraceEvent{
			At:        timestamppb.New(ev.At),
			Kind:      ev.Kind,
			Actor:     ev.Actor,
			Step:      ev.Step.Proto(),
			Outcome:   ev.Outcome,
			Error:     ev.Error,
			LatencyMs: ev.LatencyMs,
			Attempt:   int32(ev.Attempt),
			Detail:    ev.Detail,
		})
	}
	// The audit trail shows who touched the applicant's data and why.
	for _, a := range audits {
		resp.Events = append(resp.Events, &enginev1.TraceEvent{
			At:      timestamppb.New(a.At),
			Kind:    "audit",
			Actor:   a.Actor,
			Outcome: a.Action,
			Detail:  "purpose: " + a.Purpose,
		})
	}
	slices.SortStableFunc(resp.Events, func(x, y *enginev1.TraceEvent) int {
		return x.GetAt().AsTime().Compare(y.GetAt().AsTime())
	})
	return resp, nil
}

// stepArg validates a supervisor's step argument.
func stepArg(k enginev1.StepKind) (dossier.StepKind, error) {
	step := dossier.StepKindFromProto(k)
	if !step.Valid() {
		return "", invalid(violation("step", "is required"))
	}
	return step, nil
}

func (ss *supervisorService) RetryStep(ctx context.Context, req *enginev1.RetryStepRequest) (*enginev1.RetryStepResponse, error) {
	s := ss.s
	step, err := stepArg(req.GetStep())
	if err != nil {
		return nil, err
	}
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	if err := terminalError(snap); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		reason = "supervisor retry"
	}
	out, err := s.update(ctx, snap, workflows.UpdateRetryStep, "", workflows.RetryInput{Step: step, Reason: reason, Actor: caller(ctx).Actor()})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "step retried", "dossier_id", snap.Code, "step", string(step), "actor", caller(ctx).Actor())
	return &enginev1.RetryStepResponse{Dossier: dossierProto(out, s.now())}, nil
}

func (ss *supervisorService) EscalateStep(ctx context.Context, req *enginev1.EscalateStepRequest) (*enginev1.EscalateStepResponse, error) {
	s := ss.s
	step, err := stepArg(req.GetStep())
	if err != nil {
		return nil, err
	}
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	if err := terminalError(snap); err != nil {
		return nil, err
	}
	out, err := s.update(ctx, snap, workflows.UpdateEscalate, "", workflows.EscalateInput{Step: step, Note: req.GetNote(), Actor: caller(ctx).Actor()})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "step escalated", "dossier_id", snap.Code, "step", string(step), "actor", caller(ctx).Actor())
	return &enginev1.EscalateStepResponse{Dossier: dossierProto(out, s.now())}, nil
}

func (ss *supervisorService) CancelDossier(ctx context.Context, req *enginev1.SupervisorServiceCancelDossierRequest) (*enginev1.SupervisorServiceCancelDossierResponse, error) {
	d, err := ss.s.cancel(ctx, req.GetCode(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &enginev1.SupervisorServiceCancelDossierResponse{Dossier: d}, nil
}

func (ss *supervisorService) GetStatistics(ctx context.Context, req *enginev1.GetStatisticsRequest) (*enginev1.GetStatisticsResponse, error) {
	s := ss.s
	province, err := provinceScope(caller(ctx), req.GetProvinceCode())
	if err != nil {
		return nil, err
	}
	f := store.StatsFilter{ProvinceCode: province, Now: s.now()}
	if t := req.GetFrom(); t != nil {
		f.From = t.AsTime()
	}
	if t := req.GetUntil(); t != nil {
		f.Until = t.AsTime()
	}
	if !f.From.IsZero() && !f.Until.IsZero() && !f.Until.After(f.From) {
		return nil, invalid(violation("until", "must be after from"))
	}
	stats, err := s.store.Statistics(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.GetStatisticsResponse{}
	working := map[spanKey][]float64{}
	for _, sp := range stats.Spans {
		k := spanKey{sp.Agency, sp.Step}
		working[k] = append(working[k], s.cal.WorkingTime(sp.Started, sp.Decided).Hours())
	}
	for _, c := range stats.Counts {
		resp.Counts = append(resp.Counts, &enginev1.CountRow{
			ProvinceCode: c.ProvinceCode, CommuneCode: c.CommuneCode,
			Group: c.Group.Proto(), Status: c.Status.Proto(), Count: c.Count,
		})
	}
	for _, t := range stats.Timings {
		rate := 0.0
		if t.Decided > 0 {
			rate = float64(t.OnTime) / float64(t.Decided)
		}
		wt := working[spanKey{t.Agency, t.Step}]
		resp.StepTimings = append(resp.StepTimings, &enginev1.StepTiming{
			Agency: t.Agency, Step: t.Step.Proto(), Decided: t.Decided, OnTime: t.OnTime,
			OnTimeRate: rate, P50Seconds: t.P50, P90Seconds: t.P90,
			P50WorkingHours: percentile(wt, 0.5), P90WorkingHours: percentile(wt, 0.9),
		})
	}
	for _, v := range stats.Volume {
		resp.Volume = append(resp.Volume, &enginev1.DailyVolume{Day: v.Day, Group: v.Group.Proto(), Count: v.Count})
	}
	for _, b := range stats.Backlog {
		resp.Backlog = append(resp.Backlog, &enginev1.BacklogBucket{Label: b.Label, Count: b.Count, Overdue: b.Overdue})
		resp.Open += b.Count
		resp.OpenOverdue += b.Overdue
	}
	resp.Ranking = rankProvinces(stats.Provinces)
	resp.CalendarWarnings = s.calendarWarnings(f.Now)
	return resp, nil
}

type spanKey struct {
	agency string
	step   dossier.StepKind
}

// percentile is the p-quantile of xs by linear interpolation between the
// nearest ranks (as PostgreSQL's percentile_cont), 0 for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	lo := int(pos)
	if lo+1 >= len(s) {
		return s[lo]
	}
	return s[lo] + (s[lo+1]-s[lo])*(pos-float64(lo))
}

// rankProvinces ranks provinces as supervisors publish it: by the share of
// finished dossiers finished on time (more finished breaks a tie), and by
// volume received. Equal figures share a rank.
func rankProvinces(rows []store.ProvinceRow) []*enginev1.ProvinceRank {
	out := make([]*enginev1.ProvinceRank, 0, len(rows))
	for _, r := range rows {
		rate := 0.0
		if r.Finished > 0 {
			rate = float64(r.OnTime) / float64(r.Finished)
		}
		out = append(out, &enginev1.ProvinceRank{
			ProvinceCode: r.ProvinceCode, Received: r.Received, Finished: r.Finished, OnTime: r.OnTime, OnTimeRate: rate,
		})
	}
	byVolume := slices.Clone(out)
	slices.SortStableFunc(byVolume, func(a, b *enginev1.ProvinceRank) int { return cmp.Compare(b.Received, a.Received) })
	for i, p := range byVolume {
		p.RankByVolume = int32(i + 1)
		if i > 0 && byVolume[i-1].Received == p.Received {
			p.RankByVolume = byVolume[i-1].RankByVolume
		}
	}
	slices.SortStableFunc(out, func(a, b *enginev1.ProvinceRank) int {
		if c := cmp.Compare(b.OnTimeRate, a.OnTimeRate); c != 0 {
			return c
		}
		return cmp.Compare(b.Finished, a.Finished)
	})
	for i, p := range out {
		p.RankByOnTime = int32(i + 1)
		if i > 0 && out[i-1].OnTimeRate == p.OnTimeRate && out[i-1].Finished == p.Finished {
			p.RankByOnTime = out[i-1].RankByOnTime
		}
	}
	return out
}

// Bounds of ListApologies.
const (
	defaultApologies = 200
	maxApologies     = 1000
)

// ListApologies lists the apologies late agencies were asked for, owed and
// issued, with counts per agency, within the supervisor's province.
func (ss *supervisorService) ListApologies(ctx context.Context, req *enginev1.ListApologiesRequest) (*enginev1.ListApologiesResponse, error) {
	s := ss.s
	var vs []dossier.FieldViolation
	switch req.GetAgency() {
	case "", dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance:
	default:
		vs = append(vs, violation("agency", "must be justice, police or insurance"))
	}
	if req.GetPageSize() < 0 {
		vs = append(vs, violation("page_size", "must not be negative"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	province, err := provinceScope(caller(ctx), "")
	if err != nil {
		return nil, err
	}
	limit := int(req.GetPageSize())
	if limit == 0 {
		limit = defaultApologies
	}
	f := store.ApologyFilter{ProvinceCode: province, Agency: req.GetAgency(), Limit: min(limit, maxApologies)}
	if t := req.GetSince(); t != nil {
		f.Since = t.AsTime()
	}
	rows, err := s.store.Apologies(ctx, f)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.ApologyCounts(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.ListApologiesResponse{}
	for _, r := range rows {
		resp.Apologies = append(resp.Apologies, &enginev1.ApologyEntry{
			DossierCode: r.Code, ProvinceCode: r.ProvinceCode, CommuneCode: r.CommuneCode,
			Step: r.Step.Proto(), Agency: r.Agency, Apology: r.Apology.Proto(),
		})
	}
	for _, c := range counts {
		resp.ByAgency = append(resp.ByAgency, &enginev1.AgencyApologies{Agency: c.Agency, Requested: int32(c.Requested), Issued: int32(c.Issued)})
	}
	return resp, nil
}
