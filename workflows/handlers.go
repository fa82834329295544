package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/dossier"
)

// registerHandlers answers the state query, takes the agencies' pushes and
// accepts the clerks' and supervisors' updates. Each update has a validator
// that refuses, before anything is written to history, what the dossier's
// state does not allow.
func (m *machine) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, m.queryState); err != nil {
		return fmt.Errorf("registering state query: %w", err)
	}

	cases := workflow.GetSignalChannel(ctx, SignalCaseUpdate)
	workflow.Go(ctx, func(c workflow.Context) { m.receiveCases(c, cases) })
	// Listening writes no command, so histories recorded before this signal
	// existed replay unchanged, and dossiers already running hear it too.
	back := workflow.GetSignalChannel(ctx, SignalAgencyBack)
	workflow.Go(ctx, func(c workflow.Context) { m.receiveAgencyBack(c, back) })

	for _, u := range []struct {
		name               string
		handler, validator any
	}{
		{UpdateSupplement, m.supplement, m.validateSupplement},
		{UpdateCancel, m.cancel, m.validateCancel},
		{UpdateRetryStep, m.retryStep, m.validateRetryStep},
		{UpdateEscalate, m.escalate, m.validateEscalate},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler,
			workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return fmt.Errorf("registering %s update: %w", u.name, err)
		}
	}
	return nil
}

// queryState answers QueryState.
func (m *machine) queryState() (dossier.Snapshot, error) {
	return m.copySnapshot(), nil
}

// receiveCases takes the agencies' pushes (SignalCaseUpdate) for as long as
// the workflow runs.
func (m *machine) receiveCases(ctx workflow.Context, cases workflow.ReceiveChannel) {
	for {
		var c dossier.Case
		if !cases.Receive(ctx, &c) {
			return
		}
		m.offer(c)
	}
}

// receiveAgencyBack cuts short the backoff of every step still sending to an
// agency that answers again (SignalAgencyBack). After a long outage every
// held step sleeps up to Timing.HeldMax; without this they would wake
// spread over that long after the agency returned.
func (m *machine) receiveAgencyBack(ctx workflow.Context, back workflow.ReceiveChannel) {
	for {
		var in AgencyBackInput
		if !back.Receive(ctx, &in) {
			return
		}
		for _, st := range m.snap.Steps {
			s := m.step(st.Kind)
			if s.Agency == in.Agency && s.Status == dossier.StepSending && s.LastError != "" {
				s.retryNow = true
			}
		}
	}
}

// supplement queues a clerk's supplement for its step (UpdateSupplement) and
// answers once the agency has it, so the clerk sees it taken.
func (m *machine) supplement(ctx workflow.Context, in SupplementInput) (UpdateResult, error) {
	s := m.step(in.Step)
	if in.RequestID != "" && s.delivered[in.RequestID] {
		return UpdateResult{Snapshot: m.copySnapshot()}, nil
	}
	s.supplements = append(s.supplements, in)
	err := workflow.Await(ctx, func() bool {
		return len(s.supplements) == 0 || s.Status.Terminal()
	})
	return UpdateResult{Snapshot: m.copySnapshot()}, err
}

func (m *machine) validateSupplement(in SupplementInput) error {
	s := m.step(in.Step)
	if s == nil {
		return RefuseState("this dossier has no step %q", in.Step)
	}
	if in.RequestID != "" && s.delivered[in.RequestID] {
		return nil
	}
	if s.Status != dossier.StepNeedsSupplement {
		return RefuseState("%s is not awaiting a supplement (it is %s)", in.Step, s.Status)
	}
	if len(in.Fields) == 0 && strings.TrimSpace(in.Note) == "" {
		return RefuseInput("fields", "a supplement needs at least one field or a note")
	}
	return nil
}

// cancel cancels the dossier (UpdateCancel) and answers once it is cancelled,
// every open case withdrawn.
func (m *machine) cancel(ctx workflow.Context, in CancelInput) (UpdateResult, error) {
	if !m.cancellation.requested {
		m.cancellation = cancellation{requested: true, reason: in.Reason, actor: in.Actor}
		m.cancelSteps()
	}
	err := workflow.Await(ctx, func() bool { return m.snap.Status == dossier.StatusCancelled })
	return UpdateResult{Snapshot: m.copySnapshot()}, err
}

func (m *machine) validateCancel(in CancelInput) error {
	if strings.TrimSpace(in.Reason) == "" {
		return RefuseInput("reason", "a cancellation needs a reason")
	}
	if m.snap.Status.Terminal() {
		return RefuseState("the dossier is already %s", m.snap.Status)
	}
	if m.cancellation.requested {
		return RefuseState("the dossier is already being cancelled")
	}
	return nil
}

// retryStep cuts short the wait before a step's next attempt or poll
// (UpdateRetryStep).
func (m *machine) retryStep(ctx workflow.Context, in RetryInput) (UpdateResult, error) {
	m.step(in.Step).retryNow = true
	m.event(ctx, dossier.Event{Kind: dossier.EventRemedy, Actor: in.Actor, Step: in.Step, Outcome: "retry now", Detail: in.Reason})
	return UpdateResult{Snapshot: m.copySnapshot()}, nil
}

func (m *machine) validateRetryStep(in RetryInput) error {
	s := m.step(in.Step)
	if s == nil {
		return RefuseState("this dossier has no step %q", in.Step)
	}
	switch s.Status {
	case dossier.StepSending, dossier.StepAwaitingAgency:
		return nil
	default:
		return RefuseState("%s cannot be retried while it is %s", in.Step, s.Status)
	}
}

// escalate records a supervisor's escalation in the trace (UpdateEscalate).
func (m *machine) escalate(ctx workflow.Context, in EscalateInput) (UpdateResult, error) {
	m.event(ctx, dossier.Event{Kind: dossier.EventEscalated, Actor: in.Actor, Step: in.Step,
		Outcome: "escalated to " + in.Step.Agency(), Detail: in.Note})
	return UpdateResult{Snapshot: m.copySnapshot()}, nil
}

func (m *machine) validateEscalate(in EscalateInput) error {
	s := m.step(in.Step)
	if s == nil {
		return RefuseState("this dossier has no step %q", in.Step)
	}
	if s.Status.Terminal() {
		return RefuseState("%s is already %s", in.Step, s.Status)
	}
	return nil
}
