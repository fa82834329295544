package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// run executes one step: send to the agency until it has the case, then wait
// for the decision by push, with a reconcile poll as the safety net, handling
// supplements on the way. It returns the step's final status.
func (m *machine) run(ctx workflow.Context, k dossier.StepKind, send any, prepare func(*activities.StepInput)) dossier.StepStatus {
	s := m.step(k)
	if s.Status.Terminal() {
		return s.Status
	}
	now := workflow.Now(ctx)
	due := m.stepDue(ctx, s, now)
	s.StartedAt, s.DueAt = &now, &due
	m.transition(ctx, s, dossier.StepSending, nextVersion)
	m.watchStepDeadline(ctx, s, due)

	if !m.send(ctx, s, send, prepare) {
		return s.Status
	}
	poll := m.timing.PollInitial
	for !s.Status.Terminal() {
		if ctx.Err() != nil {
			return s.Status
		}
		if s.Status == dossier.StepNeedsSupplement {
			m.awaitSupplement(ctx, s)
			poll = m.timing.PollInitial
			continue
		}
		seen := s.applied
		s.retryNow = false
		arrived, err := workflow.AwaitWithTimeout(ctx, poll, func() bool {
			return s.hasNews(seen) || s.retryNow || s.Status.Terminal()
		})
		if err != nil {
			return s.Status
		}
		if s.Status.Terminal() {
			break
		}
		if arrived && !s.retryNow {
			m.applyLatest(ctx, s, viaPush)
			poll = m.timing.PollInitial
			continue
		}
		// No push in time, or a supervisor asked: ask the agency directly.
		if m.reconcile(ctx, s) {
			poll = m.timing.PollInitial
			continue
		}
		poll = min(poll*2, m.timing.PollMax)
	}
	return s.Status
}

// reconcile polls the agency; it reports whether the case had changed.
func (m *machine) reconcile(ctx workflow.Context, s *step) bool {
	if s.CaseID == "" {
		return false
	}
	k := s.Kind
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.agencyContext(ctx, k.Agency()), a.GetCase, activities.CaseInput{
		Agency: k.Agency(), CaseID: s.CaseID, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventAttemptFailed, Step: k, Error: msg, Detail: "reconcile poll"})
		return false
	}
	before := s.applied
	m.offer(res.Case)
	if s.hasNews(before) {
		m.applyLatest(ctx, s, viaPoll)
		return true
	}
	return false
}

// via says how the case being applied reached the workflow. The trace names
// it, and a poll that finds what a push should have brought is worth a line of
// its own.
type via string

const (
	viaSend       via = "send"       // the agency's answer to the send
	viaPush       via = "push"       // the agency's signal
	viaPoll       via = "poll"       // the reconcile poll
	viaSupplement via = "supplement" // the answer to a forwarded supplement
	viaApology    via = "apology"    // the answer to a request for an apology
	viaAttach     via = "attach"     // the answer to attaching a late ID number
)

// applyLatest moves the step to what the newest known case says.
func (m *machine) applyLatest(ctx workflow.Context, s *step, how via) {
	c := s.latest
	if c == nil || c.Version <= s.applied {
		return
	}
	s.applied = c.Version
	// A step closed here (skipped, cancelled, rejected) stays closed; only an
	// approved record may still gain results, such as a late ID number.
	if s.Status.Terminal() && (s.Status != dossier.StepApproved ||
		(c.Status != dossier.CaseApproved && c.Status != dossier.CaseApprovedPendingID)) {
		return
	}
	k := s.Kind
	before := *s.Step
	s.CaseID = c.CaseID
	if c.NewAppointmentAt != nil && (s.NewAppointmentAt == nil || !s.NewAppointmentAt.Equal(*c.NewAppointmentAt)) {
		t := *c.NewAppointmentAt
		s.NewAppointmentAt = &t
		if t.After(m.snap.AppointmentAt) {
			m.snap.AppointmentAt = t
		}
		m.event(ctx, dossier.Event{Kind: dossier.EventNewAppointment, Step: k, Actor: "agency:" + k.Agency(),
			Outcome: "apology and new appointment", Detail: t.In(civil.Zone).Format("2006-01-02 15:04")})
	}
	if c.Apology != nil && !apologiesEqual(s.Apology, c.Apology) {
		issuedNow := c.Apology.Issued() && !s.Apology.Issued()
		ap := *c.Apology
		s.Apology = &ap
		if issuedNow {
			detail := ap.Number
			if ap.NewAppointmentAt != nil {
				detail += ", new appointment " + ap.NewAppointmentAt.In(civil.Zone).Format("2006-01-02 15:04")
			}
			m.event(ctx, dossier.Event{Kind: dossier.EventApologyIssued, Step: k, Actor: "agency:" + k.Agency(),
				Outcome: "apology issued", Detail: detail + ": " + ap.Reason})
		}
	}
	to := s.Status
	var decidedAt *time.Time
	switch c.Status {
	case dossier.CaseReceived, dossier.CaseInReview:
		to = dossier.StepAwaitingAgency
		s.Missing = nil
	case dossier.CaseNeedsSupplement:
		s.Reason, s.Missing = c.Reason, slices.Clone(c.Missing)
		to = dossier.StepNeedsSupplement
		decidedAt = c.DecidedAt
	case dossier.CaseApproved, dossier.CaseApprovedPendingID:
		s.Result = mergeResult(s.Result, c.Result)
		s.Reason, s.Missing = "", nil
		s.DecidedAt = c.DecidedAt
		to = dossier.StepApproved
		decidedAt = c.DecidedAt
	case dossier.CaseRejected:
		s.Reason = c.Reason
		s.DecidedAt = c.DecidedAt
		to = dossier.StepRejected
		decidedAt = c.DecidedAt
	case dossier.CaseWithdrawn:
		if s.Reason == "" {
			s.Reason = "withdrawn: " + c.Reason
		}
		to = dossier.StepCancelled
		decidedAt = c.DecidedAt
	}
	if decidedAt == nil {
		t := c.UpdatedAt
		decidedAt = &t
	}
	if to == before.Status && mapsEqual(s.Result, before.Result) && s.NewAppointmentAt == before.NewAppointmentAt &&
		s.Apology == before.Apology {
		return
	}
	if to != before.Status && to != dossier.StepAwaitingAgency {
		m.event(ctx, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "agency:" + k.Agency(),
			Outcome: string(c.Status), Detail: strings.TrimSpace(c.Reason + " (via " + string(how) + ")")})
	}
	if how == viaPoll {
		m.event(ctx, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "system",
			Outcome: "reconciled", Detail: "the agency's push had not arrived; the poll found version " + fmt.Sprint(c.Version)})
	}
	m.transition(ctx, s, to, decided(decidedAt))
}

// awaitSupplement waits for the clerk's supplement within the legal window
// and forwards it; with none in time the procedure is rejected.
func (m *machine) awaitSupplement(ctx workflow.Context, s *step) {
	k := s.Kind
	now := workflow.Now(ctx)
	deadline := m.dueAfter(ctx, now, m.in.Limits.SupplementDays)
	seen := s.applied
	got, err := workflow.AwaitWithTimeout(ctx, deadline.Sub(now), func() bool {
		return len(s.supplements) > 0 || s.hasNews(seen)
	})
	if err != nil {
		return
	}
	if !got {
		reason := fmt.Sprintf("no supplement within %d working days (due %s)", m.in.Limits.SupplementDays,
			deadline.In(civil.Zone).Format("2006-01-02 15:04"))
		m.withdraw(ctx, s, reason)
		m.reject(ctx, s, reason)
		return
	}
	if len(s.supplements) == 0 {
		m.applyLatest(ctx, s, viaPush)
		return
	}
	sup := s.supplements[0]
	var res activities.CaseResult
	err = workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.SupplementCase, activities.SupplementInput{
		Agency: k.Agency(), CaseID: s.CaseID, IdempotencyKey: fmt.Sprintf("%s/%s/supplement/%s", m.in.Code, k, sup.RequestID),
		Fields: sup.Fields, Note: sup.Note, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	s.supplements = s.supplements[1:]
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventSupplement, Step: k, Actor: sup.Actor, Outcome: "not delivered", Error: msg})
		return
	}
	if sup.RequestID != "" {
		s.delivered[sup.RequestID] = true
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventSupplement, Step: k, Actor: sup.Actor, Outcome: "delivered",
		Detail: fmt.Sprintf("%d field(s)", len(sup.Fields))})
	m.offer(res.Case)
	m.applyLatest(ctx, s, viaSupplement)
}

// skip closes steps that will not run because one they depend on failed,
// withdrawing any case their agency already holds.
func (m *machine) skip(ctx workflow.Context, reason string, kinds ...dossier.StepKind) {
	for _, k := range kinds {
		s := m.step(k)
		if s.Status.Terminal() {
			continue
		}
		if s.CaseID != "" {
			m.withdraw(ctx, s, reason)
		}
		s.Reason = reason
		m.transition(ctx, s, dossier.StepSkipped, nextVersion)
	}
}
