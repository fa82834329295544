package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
)

// send calls the agency until it holds the case. Every attempt uses the same
// idempotency key. It returns false when the step ended without a case
// (refused or cancelled).
func (m *machine) send(ctx workflow.Context, s *step, send any, prepare func(*activities.StepInput)) bool {
	k := s.Kind
	backoff := m.timing.RetryInitial
	actx := m.agencyContext(ctx, k.Agency())
	for {
		in := activities.StepInput{Code: m.in.Code, Step: k, IdempotencyKey: m.in.Code + "/" + string(k), CallTimeout: m.timing.CallTimeout}
		if prepare != nil {
			prepare(&in)
		}
		started := workflow.Now(ctx)
		var res activities.StepResult
		err := workflow.ExecuteActivity(actx, send, in).Get(ctx, &res)
		s.Attempts++
		if err == nil {
			s.sent = true
			s.sentWithID = in.ChildIDNumber != ""
			s.LastError, s.LastErrorCode = "", ""
			m.event(ctx, dossier.Event{Kind: dossier.EventSent, Step: k, Outcome: string(res.Case.Status),
				LatencyMs: res.LatencyMs, Attempt: s.Attempts, Detail: "case " + res.Case.CaseID})
			m.offer(res.Case)
			m.applyLatest(ctx, s, viaSend)
			m.awaitAgency(ctx, s)
			return true
		}
		if ctx.Err() != nil || temporal.IsCanceledError(err) {
			return false
		}
		kind, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventAttemptFailed, Step: k, Error: msg,
			LatencyMs: workflow.Now(ctx).Sub(started).Milliseconds(), Attempt: s.Attempts})
		if kind == activities.ErrRefused {
			m.reject(ctx, s, msg)
			return false
		}
		s.LastError, s.LastErrorCode = msg, activities.FailureCode(err)
		m.commit(ctx, k, nil)
		s.retryNow = false
		wait := backoff
		if backoff >= m.timing.RetryMax && m.heldWaitsForReturn(ctx) {
			wait = m.timing.HeldMax
		}
		// A push for this step means the agency holds the case after all (an
		// earlier attempt reached it, its answer did not reach us): stop sending.
		if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool {
			return s.retryNow || s.latest != nil || s.Status.Terminal()
		}); err != nil {
			return false
		}
		if s.Status.Terminal() {
			return false
		}
		if s.latest != nil {
			s.sent = true
			s.LastError, s.LastErrorCode = "", ""
			m.applyLatest(ctx, s, viaPush)
			m.awaitAgency(ctx, s)
			return true
		}
		backoff = min(backoff*2, m.timing.RetryMax)
	}
}

// changeHeldWaitsForReturn: a step its agency has failed for as long as the
// backoff takes to reach Timing.RetryMax waits up to Timing.HeldMax, not
// RetryMax, for the agency's return. The resume sweep wakes it when the
// agency answers again (SignalAgencyBack), at the pace the workers can take.
// Before, every held step also woke on its own every RetryMax: after a day's
// outage, thousands of them a few minutes apart, which the workers could not
// keep up with while they drained the backlog, so every decision's read-model
// write queued behind them.
const changeHeldWaitsForReturn = "held-waits-for-return"

// heldWaitsForReturn says this dossier's held steps wait for the return
// sweep (changeHeldWaitsForReturn). It is asked only once a backoff has
// reached its cap, so histories that never got there replay unchanged.
func (m *machine) heldWaitsForReturn(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeHeldWaitsForReturn, workflow.DefaultVersion, 1) == 1
}

// awaitAgency moves a step whose case the agency now holds, and has not yet
// decided, from sending to waiting on the agency.
func (m *machine) awaitAgency(ctx workflow.Context, s *step) {
	if s.Status == dossier.StepSending {
		m.transition(ctx, s, dossier.StepAwaitingAgency, nextVersion)
	}
}

// agencyContext calls the agency once per attempt.
func (m *machine) agencyContext(ctx workflow.Context, agency string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           AgencyTaskQueue(agency),
		StartToCloseTimeout: m.timing.CallTimeout + 5*time.Second,
		// The step machine retries itself, so every attempt is visible to
		// supervisors and a "retry now" can cut a backoff short.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// persistentContext retries on the server until the call succeeds: for calls
// whose outcome the dossier cannot go on without (withdrawals, supplements).
func (m *machine) persistentContext(ctx workflow.Context, agency string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           AgencyTaskQueue(agency),
		StartToCloseTimeout: m.timing.CallTimeout + 5*time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        m.timing.RetryInitial,
			BackoffCoefficient:     2,
			MaximumInterval:        m.timing.RetryMax,
			NonRetryableErrorTypes: []string{activities.ErrRefused},
		},
	})
}

// classify names an activity failure for the trace and decides its fate.
func classify(err error) (string, string) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type(), appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return activities.ErrUnavailable, activities.FailureTimeout + ": the agency call timed out"
	}
	return activities.ErrUnavailable, err.Error()
}

// withdraw tells the agency the case is no longer needed.
func (m *machine) withdraw(ctx workflow.Context, s *step, reason string) {
	if s.CaseID == "" {
		return
	}
	k := s.Kind
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.WithdrawCase, activities.WithdrawInput{
		Agency: k.Agency(), CaseID: s.CaseID, Reason: reason, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Step: k, Outcome: "withdrawal failed", Error: msg})
		return
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Step: k, Outcome: "case withdrawn", Detail: reason})
}
