package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// changeLateAgencyApologises: a step past its legal deadline asks its agency,
// through the agency's queue, for an apology and a new appointment date.
const changeLateAgencyApologises = "late-agency-apologises"

// dueAfter counts working days on the calendar. The answer is recorded in
// history, so a later change of holiday data never changes a running dossier.
func (m *machine) dueAfter(ctx workflow.Context, from time.Time, days int) time.Time {
	var due time.Time
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		return calendar.Default().AddWorkingDays(from, days)
	}).Get(&due)
	return due
}

// stepDue is when step s must be decided, counted from now.
func (m *machine) stepDue(ctx workflow.Context, s *step, now time.Time) time.Time {
	if d := m.in.Limits.DrillStepDeadline; d > 0 {
		return now.Add(d)
	}
	return m.dueAfter(ctx, now, m.in.Limits.Steps[s.Kind])
}

// watchDossierDeadline marks the dossier overdue when it is still open at its
// legal time limit.
func (m *machine) watchDossierDeadline(ctx workflow.Context) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		wait := max(m.in.DueAt.Sub(workflow.Now(gctx)), 0)
		done, err := workflow.AwaitWithTimeout(gctx, wait, func() bool { return m.snap.Status.Terminal() })
		if err != nil || done {
			return
		}
		m.snap.Overdue = true
		m.event(gctx, dossier.Event{Kind: dossier.EventOverdue, Outcome: "dossier overdue",
			Detail: "legal time limit passed at " + m.in.DueAt.In(civil.Zone).Format("2006-01-02 15:04")})
		m.commit(gctx, "", nil)
	})
}

// watchStepDeadline marks step s overdue and escalates it when it is still
// open at due, then asks its agency for an apology.
func (m *machine) watchStepDeadline(ctx workflow.Context, s *step, due time.Time) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		wait := max(due.Sub(workflow.Now(gctx)), 0)
		done, err := workflow.AwaitWithTimeout(gctx, wait, func() bool { return s.Status.Terminal() })
		if err != nil || done {
			return
		}
		k := s.Kind
		s.Overdue = true
		m.event(gctx, dossier.Event{Kind: dossier.EventOverdue, Step: k, Outcome: "step overdue",
			Detail: fmt.Sprintf("%s did not decide by %s", k.Title(), due.In(civil.Zone).Format("2006-01-02 15:04"))})
		// Escalation reaches supervisors as an event naming the agency and the time.
		m.event(gctx, dossier.Event{Kind: dossier.EventEscalated, Step: k, Outcome: "escalated to " + k.Agency(),
			Detail: "overdue since " + due.In(civil.Zone).Format(time.RFC3339)})
		m.commit(gctx, k, nil)
		if workflow.GetVersion(gctx, changeLateAgencyApologises, workflow.DefaultVersion, 1) == 1 {
			m.requestApology(gctx, s, due)
		}
	})
}

// requestApology asks the agency of a late step to apologise, once it holds
// the case and while the step waits on it: time spent waiting for the
// applicant's supplement is not the agency's lateness.
func (m *machine) requestApology(ctx workflow.Context, s *step, due time.Time) {
	owes := func() bool {
		return s.CaseID != "" && !s.Status.Terminal() && s.Status != dossier.StepNeedsSupplement
	}
	if err := workflow.Await(ctx, func() bool { return s.Status.Terminal() || owes() }); err != nil || !owes() {
		return
	}
	k := s.Kind
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.RequestApology, activities.ApologyInput{
		Agency: k.Agency(), CaseID: s.CaseID, MissedDueAt: due, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventApologyRequested, Step: k, Outcome: "not delivered", Error: msg})
		return
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventApologyRequested, Step: k, Actor: "system",
		Outcome: "apology asked of " + k.Agency(), Detail: "missed " + due.In(civil.Zone).Format("2006-01-02 15:04")})
	m.offer(res.Case)
	m.applyLatest(ctx, s, viaApology)
}
