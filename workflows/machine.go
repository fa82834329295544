package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// a is how workflows name activities: method values on a nil pointer.
var a *activities.Activities

// machine is the one step machine both groups share. It owns the dossier's
// state, turns every change into a new version, and feeds the read model
// from a queue so an outage never blocks a step. The portal is fed from the
// read model (package portalfeed); dossiers that started before that feed
// still publish from a second queue here.
type machine struct {
	in     DossierInput
	timing Timing
	logger log.Logger

	snap  dossier.Snapshot
	order []dossier.StepKind
	state map[dossier.StepKind]*stepState

	// Versions not yet written to the read model or the portal, oldest first.
	readModelQueue []dossier.Snapshot
	portalQueue    []dossier.Snapshot
	// portalFromReadModel: the portal takes this dossier's versions from the
	// read model, so the workflow publishes none itself.
	portalFromReadModel bool
	pendingEvents       []dossier.Event
	syncing             int
	eventSeq            int

	cancelled    bool
	cancelReason string
	cancelActor  string
	cancelSteps  workflow.CancelFunc
	wg           workflow.WaitGroup

	searchAttrs map[string]string
}

// stepState is what the machine knows of a step beyond the snapshot.
type stepState struct {
	// latest is the newest case the agency reported, by push or poll.
	latest *dossier.Case
	// applied is the case version the step last acted on.
	applied     int64
	sent        bool
	retryNow    bool
	supplements []SupplementInput
	delivered   map[string]bool
	// sentWithID records whether the birth record went out with the child's ID number.
	sentWithID bool
}

// start sets up the machine, its handlers and its sync loops. The returned
// context is the one steps run in: cancelling the dossier cancels it, while
// the sync loops keep running until everything is written.
func start(ctx workflow.Context, group dossier.Group, in DossierInput, kinds []dossier.StepKind) (*machine, workflow.Context, error) {
	m := &machine{
		in:          in,
		timing:      in.Timing.withDefaults(),
		logger:      log.With(workflow.GetLogger(ctx), "dossier_id", in.Code),
		order:       kinds,
		state:       map[dossier.StepKind]*stepState{},
		searchAttrs: map[string]string{},
	}
	if in.Limits.Steps == nil {
		m.in.Limits = DefaultLimits()
	}
	m.snap = dossier.Snapshot{
		Code:          in.Code,
		Group:         group,
		Status:        dossier.StatusReceived,
		CommuneCode:   in.CommuneCode,
		ProvinceCode:  in.ProvinceCode,
		ReceivedAt:    in.ReceivedAt,
		DueAt:         in.DueAt,
		AppointmentAt: in.AppointmentAt,

		LateRegistrations: slices.Clone(in.LateRegistrations),
	}
	for _, k := range kinds {
		m.snap.Steps = append(m.snap.Steps, dossier.Step{
			Kind: k, Agency: k.Agency(), Status: dossier.StepPending,
			StatusSince: in.ReceivedAt, UpdatedAt: in.ReceivedAt,
		})
		m.state[k] = &stepState{delivered: map[string]bool{}}
	}
	m.searchAttrs[SAStatus.GetName()] = string(dossier.StatusReceived)

	if err := m.registerHandlers(ctx); err != nil {
		return nil, nil, err
	}
	m.portalFromReadModel = workflow.GetVersion(ctx, changePortalFromReadModel, workflow.DefaultVersion, 1) == 1
	syncCtx, _ := workflow.NewDisconnectedContext(ctx)
	m.startSync(syncCtx)

	stepsCtx, cancel := workflow.WithCancel(ctx)
	m.cancelSteps = cancel
	m.wg = workflow.NewWaitGroup(ctx)
	m.watchDossierDeadline(stepsCtx)
	m.commit(ctx, "", nil)
	return m, stepsCtx, nil
}

// ---- handlers -------------------------------------------------------------

func (m *machine) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (dossier.Snapshot, error) {
		return m.copySnapshot(), nil
	}); err != nil {
		return fmt.Errorf("registering state query: %w", err)
	}

	cases := workflow.GetSignalChannel(ctx, SignalCaseUpdate)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var c dossier.Case
			if !cases.Receive(gctx, &c) {
				return
			}
			m.offer(c)
		}
	})

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSupplement,
		func(uctx workflow.Context, in SupplementInput) (UpdateResult, error) {
			st := m.state[in.Step]
			if in.RequestID != "" && st.delivered[in.RequestID] {
				return UpdateResult{Snapshot: m.copySnapshot()}, nil
			}
			st.supplements = append(st.supplements, in)
			// Answer once the agency has the supplement, so the clerk sees it taken.
			err := workflow.Await(uctx, func() bool {
				return len(st.supplements) == 0 || m.step(in.Step).Status.Terminal()
			})
			return UpdateResult{Snapshot: m.copySnapshot()}, err
		},
		workflow.UpdateHandlerOptions{Validator: func(in SupplementInput) error {
			st, ok := m.state[in.Step]
			if !ok {
				return RefuseState("this dossier has no step %q", in.Step)
			}
			if in.RequestID != "" && st.delivered[in.RequestID] {
				return nil
			}
			if s := m.step(in.Step).Status; s != dossier.StepNeedsSupplement {
				return RefuseState("%s is not awaiting a supplement (it is %s)", in.Step, s)
			}
			if len(in.Fields) == 0 && strings.TrimSpace(in.Note) == "" {
				return RefuseInput("fields", "a supplement needs at least one field or a note")
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("registering supplement update: %w", err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(uctx workflow.Context, in CancelInput) (UpdateResult, error) {
			if !m.cancelled {
				m.cancelled, m.cancelReason, m.cancelActor = true, in.Reason, in.Actor
				m.cancelSteps()
			}
			err := workflow.Await(uctx, func() bool { return m.snap.Status == dossier.StatusCancelled })
			return UpdateResult{Snapshot: m.copySnapshot()}, err
		},
		workflow.UpdateHandlerOptions{Validator: func(in CancelInput) error {
			if strings.TrimSpace(in.Reason) == "" {
				return RefuseInput("reason", "a cancellation needs a reason")
			}
			if m.snap.Status.Terminal() {
				return RefuseState("the dossier is already %s", m.snap.Status)
			}
			if m.cancelled {
				return RefuseState("the dossier is already being cancelled")
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("registering cancel update: %w", err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRetryStep,
		func(uctx workflow.Context, in RetryInput) (UpdateResult, error) {
			m.state[in.Step].retryNow = true
			m.event(uctx, dossier.Event{Kind: dossier.EventRemedy, Actor: in.Actor, Step: in.Step, Outcome: "retry now", Detail: in.Reason})
			return UpdateResult{Snapshot: m.copySnapshot()}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in RetryInput) error {
			if _, ok := m.state[in.Step]; !ok {
				return RefuseState("this dossier has no step %q", in.Step)
			}
			switch s := m.step(in.Step).Status; s {
			case dossier.StepSending, dossier.StepAwaitingAgency:
				return nil
			default:
				return RefuseState("%s cannot be retried while it is %s", in.Step, s)
			}
		}},
	); err != nil {
		return fmt.Errorf("registering retry update: %w", err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateEscalate,
		func(uctx workflow.Context, in EscalateInput) (UpdateResult, error) {
			m.event(uctx, dossier.Event{Kind: dossier.EventEscalated, Actor: in.Actor, Step: in.Step,
				Outcome: "escalated to " + in.Step.Agency(), Detail: in.Note})
			return UpdateResult{Snapshot: m.copySnapshot()}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in EscalateInput) error {
			if _, ok := m.state[in.Step]; !ok {
				return RefuseState("this dossier has no step %q", in.Step)
			}
			if s := m.step(in.Step).Status; s.Terminal() {
				return RefuseState("%s is already %s", in.Step, s)
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("registering escalate update: %w", err)
	}
	return nil
}

// offer records a case the agency reported, if it is newer than what we hold.
// Duplicates and out-of-order pushes fall away here.
func (m *machine) offer(c dossier.Case) {
	st, ok := m.state[c.Step]
	if !ok || c.DossierCode != m.in.Code {
		return
	}
	if st.latest == nil || c.Version > st.latest.Version {
		cp := c
		st.latest = &cp
	}
}

// ---- state and versions ---------------------------------------------------

func (m *machine) step(k dossier.StepKind) *dossier.Step { return m.snap.Step(k) }

func (m *machine) setStatus(ctx workflow.Context, k dossier.StepKind, s dossier.StepStatus) {
	st := m.step(k)
	if st.Status != s {
		st.Status = s
		st.StatusSince = workflow.Now(ctx)
	}
}

// commit makes the current state a new version and queues it for the read
// model and the portal, in order.
func (m *machine) commit(ctx workflow.Context, changed dossier.StepKind, decidedAt *time.Time) {
	now := workflow.Now(ctx)
	if changed != "" {
		m.step(changed).UpdatedAt = now
	}
	m.snap.Status = m.snap.DerivedStatus()
	m.snap.CurrentStep, m.snap.CurrentAgency = m.snap.Current()
	m.snap.Version++
	m.snap.At = now
	m.snap.ChangedStep = changed
	m.snap.DecidedAt = decidedAt
	snap := m.copySnapshot()
	m.readModelQueue = append(m.readModelQueue, snap)
	if !m.portalFromReadModel {
		m.portalQueue = append(m.portalQueue, snap)
	}
	m.upsertSearchAttributes(ctx)
}

func (m *machine) copySnapshot() dossier.Snapshot {
	s := m.snap
	s.LateRegistrations = slices.Clone(m.snap.LateRegistrations)
	s.Steps = make([]dossier.Step, len(m.snap.Steps))
	for i, st := range m.snap.Steps {
		cp := st
		cp.Missing = slices.Clone(st.Missing)
		cp.Result = maps.Clone(st.Result)
		s.Steps[i] = cp
	}
	return s
}

func (m *machine) upsertSearchAttributes(ctx workflow.Context) {
	want := map[string]string{
		SAStatus.GetName(): string(m.snap.Status),
		SAStep.GetName():   string(m.snap.CurrentStep),
		SAAgency.GetName(): m.snap.CurrentAgency,
	}
	var updates []temporal.SearchAttributeUpdate
	for _, key := range []temporal.SearchAttributeKeyKeyword{SAStatus, SAStep, SAAgency} {
		v := want[key.GetName()]
		if m.searchAttrs[key.GetName()] == v {
			continue
		}
		m.searchAttrs[key.GetName()] = v
		if v == "" {
			updates = append(updates, key.ValueUnset())
		} else {
			updates = append(updates, key.ValueSet(v))
		}
	}
	overdue := "false"
	if m.snap.Overdue {
		overdue = "true"
	}
	if m.searchAttrs[SAOverdue.GetName()] != overdue && (m.snap.Overdue || m.searchAttrs[SAOverdue.GetName()] != "") {
		m.searchAttrs[SAOverdue.GetName()] = overdue
		updates = append(updates, SAOverdue.ValueSet(m.snap.Overdue))
	}
	if len(updates) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		m.logger.Warn("upserting search attributes", "error", err)
	}
}

// event queues a trace event; its key makes a retried sync write it once.
func (m *machine) event(ctx workflow.Context, ev dossier.Event) {
	m.eventSeq++
	ev.Code = m.in.Code
	ev.Key = fmt.Sprintf("%s/%d", m.in.Code, m.eventSeq)
	if ev.At.IsZero() {
		ev.At = workflow.Now(ctx)
	}
	if ev.Actor == "" {
		ev.Actor = "system"
	}
	m.pendingEvents = append(m.pendingEvents, ev)
}

// ---- sync loops -----------------------------------------------------------

// changePortalFromReadModel: the portal is published from the read model by
// the workers' portal feed, not by an activity per batch of versions. That
// takes about half of a dossier's activity tasks off the engine, and the
// portal no longer waits behind new agency work for workflow tasks.
const changePortalFromReadModel = "portal-from-read-model"

// startSync runs the read-model loop and, for dossiers that publish to the
// portal themselves, the portal loop. Each takes everything queued, writes it
// oldest first, and only then drops it, so a crash or an outage delays a
// status but never loses or reorders one.
func (m *machine) startSync(ctx workflow.Context) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		lctx := workflow.WithLocalActivityOptions(gctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: 15 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:    200 * time.Millisecond,
				BackoffCoefficient: 2,
				MaximumInterval:    30 * time.Second,
			},
		})
		for {
			if err := workflow.Await(gctx, func() bool { return len(m.readModelQueue) > 0 || len(m.pendingEvents) > 0 }); err != nil {
				return
			}
			snaps, events := m.readModelQueue, m.pendingEvents
			m.syncing++
			var res activities.SyncResult
			err := workflow.ExecuteLocalActivity(lctx, a.SyncReadModel, activities.SyncInput{Snapshots: snaps, Events: events}).Get(gctx, &res)
			m.syncing--
			if err != nil {
				m.logger.Error("read model sync stopped", "error", err)
				return
			}
			m.readModelQueue = m.readModelQueue[len(snaps):]
			m.pendingEvents = m.pendingEvents[len(events):]
		}
	})
	if m.portalFromReadModel {
		return
	}
	workflow.Go(ctx, func(gctx workflow.Context) {
		actx := workflow.WithActivityOptions(gctx, workflow.ActivityOptions{
			TaskQueue: TaskQueuePortal,
			// A batch of versions may take longer than one call; heartbeats
			// after each version catch a dead worker within HeartbeatTimeout.
			StartToCloseTimeout: 5 * time.Minute,
			HeartbeatTimeout:    m.timing.CallTimeout,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:    time.Second,
				BackoffCoefficient: 2,
				MaximumInterval:    time.Minute,
			},
		})
		for {
			if err := workflow.Await(gctx, func() bool { return len(m.portalQueue) > 0 }); err != nil {
				return
			}
			snaps := m.portalQueue
			m.syncing++
			var res activities.PortalResult
			err := workflow.ExecuteActivity(actx, a.PublishPortal, activities.PortalInput{Snapshots: snaps}).Get(gctx, &res)
			m.syncing--
			if err != nil {
				m.logger.Error("portal sync stopped", "error", err)
				return
			}
			m.portalQueue = m.portalQueue[len(snaps):]
		}
	})
}

// drained says every version reached the read model and the portal.
func (m *machine) drained() bool {
	return len(m.readModelQueue) == 0 && len(m.portalQueue) == 0 && len(m.pendingEvents) == 0 && m.syncing == 0
}

// ---- deadlines ------------------------------------------------------------

// dueAfter counts working days on the calendar. The answer is recorded in
// history, so a later change of holiday data never changes a running dossier.
func (m *machine) dueAfter(ctx workflow.Context, from time.Time, days int) time.Time {
	var due time.Time
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		return calendar.Default().AddWorkingDays(from, days)
	}).Get(&due)
	return due
}

func (m *machine) watchDossierDeadline(ctx workflow.Context) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		wait := m.in.DueAt.Sub(workflow.Now(gctx))
		if wait < 0 {
			wait = 0
		}
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

func (m *machine) watchStepDeadline(ctx workflow.Context, k dossier.StepKind, due time.Time) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		wait := due.Sub(workflow.Now(gctx))
		if wait < 0 {
			wait = 0
		}
		done, err := workflow.AwaitWithTimeout(gctx, wait, func() bool { return m.step(k).Status.Terminal() })
		if err != nil || done {
			return
		}
		st := m.step(k)
		st.Overdue = true
		m.event(gctx, dossier.Event{Kind: dossier.EventOverdue, Step: k, Outcome: "step overdue",
			Detail: fmt.Sprintf("%s did not decide by %s", k.Title(), due.In(civil.Zone).Format("2006-01-02 15:04"))})
		// Escalation reaches supervisors as an event naming the agency and the time.
		m.event(gctx, dossier.Event{Kind: dossier.EventEscalated, Step: k, Outcome: "escalated to " + k.Agency(),
			Detail: "overdue since " + due.In(civil.Zone).Format(time.RFC3339)})
		m.commit(gctx, k, nil)
		if workflow.GetVersion(gctx, changeLateAgencyApologises, workflow.DefaultVersion, 1) == 1 {
			m.requestApology(gctx, k, due)
		}
	})
}

// changeLateAgencyApologises: a step past its legal deadline asks its agency,
// through the agency's queue, for an apology and a new appointment date.
const changeLateAgencyApologises = "late-agency-apologises"

// requestApology asks the agency of a late step to apologise, once it holds
// the case and while the step waits on it: time spent waiting for the
// applicant's supplement is not the agency's lateness.
func (m *machine) requestApology(ctx workflow.Context, k dossier.StepKind, due time.Time) {
	owes := func() bool {
		st := m.step(k)
		return st.CaseID != "" && !st.Status.Terminal() && st.Status != dossier.StepNeedsSupplement
	}
	if err := workflow.Await(ctx, func() bool { return m.step(k).Status.Terminal() || owes() }); err != nil || !owes() {
		return
	}
	step := m.step(k)
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.RequestApology, activities.ApologyInput{
		Agency: k.Agency(), CaseID: step.CaseID, MissedDueAt: due, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventApologyRequested, Step: k, Outcome: "not delivered", Error: msg})
		return
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventApologyRequested, Step: k, Actor: "system",
		Outcome: "apology asked of " + k.Agency(), Detail: "missed " + due.In(civil.Zone).Format("2006-01-02 15:04")})
	m.offer(res.Case)
	m.applyLatest(ctx, k, "apology")
}

// ---- the step machine ----------------------------------------------------

// run executes one step: send to the agency until it has the case, then wait
// for the decision by push, with a reconcile poll as the safety net, handling
// supplements on the way. It returns the step's final status.
func (m *machine) run(ctx workflow.Context, k dossier.StepKind, send any, prepare func(*activities.StepInput)) dossier.StepStatus {
	st := m.state[k]
	if m.step(k).Status.Terminal() {
		return m.step(k).Status
	}
	now := workflow.Now(ctx)
	var due time.Time
	if d := m.in.Limits.DrillStepDeadline; d > 0 {
		due = now.Add(d)
	} else {
		due = m.dueAfter(ctx, now, m.in.Limits.Steps[k])
	}
	step := m.step(k)
	step.StartedAt, step.DueAt = &now, &due
	m.setStatus(ctx, k, dossier.StepSending)
	m.commit(ctx, k, nil)
	m.watchStepDeadline(ctx, k, due)

	if !m.send(ctx, k, send, prepare) {
		return m.step(k).Status
	}
	poll := m.timing.PollInitial
	for !m.step(k).Status.Terminal() {
		if ctx.Err() != nil {
			return m.step(k).Status
		}
		if m.step(k).Status == dossier.StepNeedsSupplement {
			m.awaitSupplement(ctx, k)
			poll = m.timing.PollInitial
			continue
		}
		seen := st.applied
		st.retryNow = false
		arrived, err := workflow.AwaitWithTimeout(ctx, poll, func() bool {
			return (st.latest != nil && st.latest.Version > seen) || st.retryNow || m.step(k).Status.Terminal()
		})
		if err != nil {
			return m.step(k).Status
		}
		if m.step(k).Status.Terminal() {
			break
		}
		if arrived && !st.retryNow {
			m.applyLatest(ctx, k, "push")
			poll = m.timing.PollInitial
			continue
		}
		// No push in time, or a supervisor asked: ask the agency directly.
		if m.reconcile(ctx, k) {
			poll = m.timing.PollInitial
			continue
		}
		poll = min(poll*2, m.timing.PollMax)
	}
	return m.step(k).Status
}

// send calls the agency until it holds the case. Every attempt uses the same
// idempotency key. It returns false when the step ended without a case
// (refused or cancelled).
func (m *machine) send(ctx workflow.Context, k dossier.StepKind, send any, prepare func(*activities.StepInput)) bool {
	st := m.state[k]
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
		step := m.step(k)
		step.Attempts++
		if err == nil {
			st.sent = true
			st.sentWithID = in.ChildIDNumber != ""
			step.LastError = ""
			m.event(ctx, dossier.Event{Kind: dossier.EventSent, Step: k, Outcome: string(res.Case.Status),
				LatencyMs: res.LatencyMs, Attempt: step.Attempts, Detail: "case " + res.Case.CaseID})
			m.offer(res.Case)
			m.applyLatest(ctx, k, "send")
			if !m.step(k).Status.Terminal() && m.step(k).Status == dossier.StepSending {
				m.setStatus(ctx, k, dossier.StepAwaitingAgency)
				m.commit(ctx, k, nil)
			}
			return true
		}
		if ctx.Err() != nil || temporal.IsCanceledError(err) {
			return false
		}
		kind, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventAttemptFailed, Step: k, Error: msg,
			LatencyMs: workflow.Now(ctx).Sub(started).Milliseconds(), Attempt: step.Attempts})
		if kind == activities.ErrRefused {
			now := workflow.Now(ctx)
			step.DecidedAt = &now
			step.Reason = msg
			m.setStatus(ctx, k, dossier.StepRejected)
			m.commit(ctx, k, &now)
			return false
		}
		step.LastError = msg
		m.commit(ctx, k, nil)
		st.retryNow = false
		// A push for this step means the agency holds the case after all (an
		// earlier attempt reached it, its answer did not reach us): stop sending.
		if _, err := workflow.AwaitWithTimeout(ctx, backoff, func() bool {
			return st.retryNow || st.latest != nil || m.step(k).Status.Terminal()
		}); err != nil {
			return false
		}
		if m.step(k).Status.Terminal() {
			return false
		}
		if st.latest != nil {
			st.sent = true
			step.LastError = ""
			m.applyLatest(ctx, k, "push")
			if m.step(k).Status == dossier.StepSending {
				m.setStatus(ctx, k, dossier.StepAwaitingAgency)
				m.commit(ctx, k, nil)
			}
			return true
		}
		backoff = min(backoff*2, m.timing.RetryMax)
	}
}

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
		return activities.ErrUnavailable, "TIMEOUT: the agency call timed out"
	}
	return activities.ErrUnavailable, err.Error()
}

// reconcile polls the agency; it reports whether the case had changed.
func (m *machine) reconcile(ctx workflow.Context, k dossier.StepKind) bool {
	st := m.state[k]
	step := m.step(k)
	if step.CaseID == "" {
		return false
	}
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           AgencyTaskQueue(k.Agency()),
		StartToCloseTimeout: m.timing.CallTimeout + 5*time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res activities.CaseResult
	err := workflow.ExecuteActivity(pctx, a.GetCase, activities.CaseInput{
		Agency: k.Agency(), CaseID: step.CaseID, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventAttemptFailed, Step: k, Error: msg, Detail: "reconcile poll"})
		return false
	}
	before := st.applied
	m.offer(res.Case)
	if st.latest != nil && st.latest.Version > before {
		m.applyLatest(ctx, k, "poll")
		return true
	}
	return false
}

// applyLatest moves the step to what the newest known case says.
func (m *machine) applyLatest(ctx workflow.Context, k dossier.StepKind, via string) {
	st := m.state[k]
	c := st.latest
	if c == nil || c.Version <= st.applied {
		return
	}
	st.applied = c.Version
	step := m.step(k)
	// A step closed here (skipped, cancelled, rejected) stays closed; only an
	// approved record may still gain results, such as a late ID number.
	if step.Status.Terminal() && (step.Status != dossier.StepApproved ||
		(c.Status != dossier.CaseApproved && c.Status != dossier.CaseApprovedPendingID)) {
		return
	}
	before := *step
	step.CaseID = c.CaseID
	if c.NewAppointmentAt != nil && (step.NewAppointmentAt == nil || !step.NewAppointmentAt.Equal(*c.NewAppointmentAt)) {
		t := *c.NewAppointmentAt
		step.NewAppointmentAt = &t
		if t.After(m.snap.AppointmentAt) {
			m.snap.AppointmentAt = t
		}
		m.event(ctx, dossier.Event{Kind: dossier.EventNewAppointment, Step: k, Actor: "agency:" + k.Agency(),
			Outcome: "apology and new appointment", Detail: t.In(civil.Zone).Format("2006-01-02 15:04")})
	}
	if c.Apology != nil && !apologiesEqual(step.Apology, c.Apology) {
		issuedNow := c.Apology.Issued() && !step.Apology.Issued()
		ap := *c.Apology
		step.Apology = &ap
		if issuedNow {
			detail := ap.Number
			if ap.NewAppointmentAt != nil {
				detail += ", new appointment " + ap.NewAppointmentAt.In(civil.Zone).Format("2006-01-02 15:04")
			}
			m.event(ctx, dossier.Event{Kind: dossier.EventApologyIssued, Step: k, Actor: "agency:" + k.Agency(),
				Outcome: "apology issued", Detail: detail + ": " + ap.Reason})
		}
	}
	var decided *time.Time
	switch c.Status {
	case dossier.CaseReceived, dossier.CaseInReview:
		m.setStatus(ctx, k, dossier.StepAwaitingAgency)
		step.Missing = nil
	case dossier.CaseNeedsSupplement:
		step.Reason, step.Missing = c.Reason, slices.Clone(c.Missing)
		m.setStatus(ctx, k, dossier.StepNeedsSupplement)
		decided = c.DecidedAt
	case dossier.CaseApproved, dossier.CaseApprovedPendingID:
		step.Result = mergeResult(step.Result, c.Result)
		step.Reason, step.Missing = "", nil
		step.DecidedAt = c.DecidedAt
		m.setStatus(ctx, k, dossier.StepApproved)
		decided = c.DecidedAt
	case dossier.CaseRejected:
		step.Reason = c.Reason
		step.DecidedAt = c.DecidedAt
		m.setStatus(ctx, k, dossier.StepRejected)
		decided = c.DecidedAt
	case dossier.CaseWithdrawn:
		if step.Reason == "" {
			step.Reason = "withdrawn: " + c.Reason
		}
		m.setStatus(ctx, k, dossier.StepCancelled)
		decided = c.DecidedAt
	}
	if decided == nil {
		t := c.UpdatedAt
		decided = &t
	}
	if step.Status != before.Status || !mapsEqual(step.Result, before.Result) || step.NewAppointmentAt != before.NewAppointmentAt ||
		step.Apology != before.Apology {
		if step.Status != before.Status && step.Status != dossier.StepAwaitingAgency {
			m.event(ctx, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "agency:" + k.Agency(),
				Outcome: string(c.Status), Detail: strings.TrimSpace(c.Reason + " (via " + via + ")")})
		}
		if via == "poll" {
			m.event(ctx, dossier.Event{Kind: dossier.EventDecision, Step: k, Actor: "system",
				Outcome: "reconciled", Detail: "the agency's push had not arrived; the poll found version " + fmt.Sprint(c.Version)})
		}
		m.commit(ctx, k, decided)
	}
}

// awaitSupplement waits for the clerk's supplement within the legal window
// and forwards it; with none in time the procedure is rejected.
func (m *machine) awaitSupplement(ctx workflow.Context, k dossier.StepKind) {
	st := m.state[k]
	now := workflow.Now(ctx)
	deadline := m.dueAfter(ctx, now, m.in.Limits.SupplementDays)
	seen := st.applied
	got, err := workflow.AwaitWithTimeout(ctx, deadline.Sub(now), func() bool {
		return len(st.supplements) > 0 || (st.latest != nil && st.latest.Version > seen)
	})
	if err != nil {
		return
	}
	if !got {
		reason := fmt.Sprintf("no supplement within %d working days (due %s)", m.in.Limits.SupplementDays,
			deadline.In(civil.Zone).Format("2006-01-02 15:04"))
		m.withdraw(ctx, k, reason)
		step := m.step(k)
		t := workflow.Now(ctx)
		step.Reason, step.DecidedAt = reason, &t
		m.setStatus(ctx, k, dossier.StepRejected)
		m.commit(ctx, k, &t)
		return
	}
	if len(st.supplements) == 0 {
		m.applyLatest(ctx, k, "push")
		return
	}
	sup := st.supplements[0]
	step := m.step(k)
	var res activities.CaseResult
	err = workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.SupplementCase, activities.SupplementInput{
		Agency: k.Agency(), CaseID: step.CaseID, IdempotencyKey: fmt.Sprintf("%s/%s/supplement/%s", m.in.Code, k, sup.RequestID),
		Fields: sup.Fields, Note: sup.Note, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	st.supplements = st.supplements[1:]
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventSupplement, Step: k, Actor: sup.Actor, Outcome: "not delivered", Error: msg})
		return
	}
	if sup.RequestID != "" {
		st.delivered[sup.RequestID] = true
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventSupplement, Step: k, Actor: sup.Actor, Outcome: "delivered",
		Detail: fmt.Sprintf("%d field(s)", len(sup.Fields))})
	m.offer(res.Case)
	m.applyLatest(ctx, k, "supplement")
}

// withdraw tells the agency the case is no longer needed.
func (m *machine) withdraw(ctx workflow.Context, k dossier.StepKind, reason string) {
	step := m.step(k)
	if step.CaseID == "" {
		return
	}
	var res activities.CaseResult
	err := workflow.ExecuteActivity(m.persistentContext(ctx, k.Agency()), a.WithdrawCase, activities.WithdrawInput{
		Agency: k.Agency(), CaseID: step.CaseID, Reason: reason, CallTimeout: m.timing.CallTimeout,
	}).Get(ctx, &res)
	if err != nil {
		_, msg := classify(err)
		m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Step: k, Outcome: "withdrawal failed", Error: msg})
		return
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Step: k, Outcome: "case withdrawn", Detail: reason})
}

// skip marks steps that will not run because one they depend on failed.
func (m *machine) skip(ctx workflow.Context, reason string, kinds ...dossier.StepKind) {
	for _, k := range kinds {
		step := m.step(k)
		if step.Status.Terminal() {
			continue
		}
		if step.CaseID != "" {
			m.withdraw(ctx, k, reason)
		}
		step.Reason = reason
		m.setStatus(ctx, k, dossier.StepSkipped)
		m.commit(ctx, k, nil)
	}
}

// goStep runs a step in parallel with others.
func (m *machine) goStep(ctx workflow.Context, fn func(workflow.Context)) {
	m.wg.Add(1)
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer m.wg.Done()
		fn(gctx)
	})
}

// finish settles the outcome, waits until the read model and the portal hold
// the final version, and returns it.
func (m *machine) finish(ctx workflow.Context) dossier.Snapshot {
	m.wg.Wait(ctx)
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if m.cancelled || ctx.Err() != nil {
		m.cancelAll(dctx)
	}
	status, reason := m.outcome()
	now := workflow.Now(dctx)
	m.snap.Status, m.snap.OutcomeReason, m.snap.CompletedAt = status, reason, &now
	m.event(dctx, dossier.Event{Kind: dossier.EventCompleted, Outcome: string(status), Detail: reason})
	m.commit(dctx, "", nil)
	_ = workflow.Await(dctx, m.drained)
	return m.copySnapshot()
}

// cancelAll withdraws every open case and closes every open step.
func (m *machine) cancelAll(ctx workflow.Context) {
	reason := m.cancelReason
	if reason == "" {
		reason = "workflow cancelled"
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Actor: m.cancelActor, Outcome: "dossier cancelled", Detail: reason})
	for _, k := range m.order {
		step := m.step(k)
		if step.Status.Terminal() {
			continue
		}
		m.withdraw(ctx, k, "dossier cancelled: "+reason)
		step.Reason = "dossier cancelled: " + reason
		m.setStatus(ctx, k, dossier.StepCancelled)
	}
	m.cancelled = true
}

func (m *machine) outcome() (dossier.Status, string) {
	if m.cancelled {
		return dossier.StatusCancelled, m.cancelReason
	}
	return m.snap.Settle(m.order[0])
}

// mergeResult adds src's keys to dst, src winning.
//
//workflowcheck:ignore the result is the same whatever order the keys are copied in.
func mergeResult(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	maps.Copy(dst, src)
	return dst
}

// apologiesEqual says two apologies hold the same facts.
func apologiesEqual(x, y *dossier.Apology) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.RequestedAt.Equal(y.RequestedAt) && x.MissedDueAt.Equal(y.MissedDueAt) && timesEqual(x.IssuedAt, y.IssuedAt) &&
		x.Number == y.Number && x.Reason == y.Reason && timesEqual(x.NewAppointmentAt, y.NewAppointmentAt) && x.IssuedBy == y.IssuedBy
}

func timesEqual(x, y *time.Time) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.Equal(*y)
}

// mapsEqual says two results hold the same keys and values.
//
//workflowcheck:ignore equality does not depend on the order the keys are compared in.
func mapsEqual(x, y map[string]string) bool {
	return maps.Equal(x, y)
}
