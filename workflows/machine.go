package workflows

import (
	"slices"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
)

// a is how workflows name activities: method values on a nil pointer.
var a *activities.Activities

// machine is the one step machine both groups share. It owns the dossier's
// state, turns every change into a new version, and feeds the read model
// from a queue so an outage never blocks a step. The portal is fed from the
// read model (package portalfeed); dossiers that started before that feed
// still publish from a second queue here.
//
// Its files split it by concern: the state of a step (state.go), the one
// transition every status change goes through and the versions it commits
// (transition.go), a step's run (run.go), the calls that send to an agency
// (send.go), the sync loops (sync.go), deadlines (deadlines.go) and the
// query, signal and update handlers (handlers.go).
type machine struct {
	in     DossierInput
	timing Timing
	logger log.Logger

	snap  dossier.Snapshot
	order []dossier.StepKind
	steps map[dossier.StepKind]*step

	out         outbox
	searchAttrs searchAttrs

	cancellation cancellation
	cancelSteps  workflow.CancelFunc
	wg           workflow.WaitGroup
}

// cancellation is a clerk's cancellation of the dossier.
type cancellation struct {
	requested     bool
	reason, actor string
}

// start sets up the machine, its handlers and its sync loops. The returned
// context is the one steps run in: cancelling the dossier cancels it, while
// the sync loops keep running until everything is written.
func start(ctx workflow.Context, group dossier.Group, in DossierInput, kinds []dossier.StepKind) (*machine, workflow.Context, error) {
	m := &machine{
		in:     in,
		timing: in.Timing.withDefaults(),
		logger: log.With(workflow.GetLogger(ctx), "dossier_id", in.Code),
		order:  kinds,
		steps:  map[dossier.StepKind]*step{},
		// The client starts the workflow with its status set.
		searchAttrs: searchAttrs{status: string(dossier.StatusReceived)},
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
	}
	// The steps hold pointers into the snapshot, so they are made once it
	// has all its steps.
	for i := range m.snap.Steps {
		m.steps[m.snap.Steps[i].Kind] = newStep(&m.snap.Steps[i])
	}

	if err := m.registerHandlers(ctx); err != nil {
		return nil, nil, err
	}
	m.out.portalFromReadModel = workflow.GetVersion(ctx, changePortalFromReadModel, workflow.DefaultVersion, 1) == 1
	syncCtx, _ := workflow.NewDisconnectedContext(ctx)
	m.startSync(syncCtx)

	stepsCtx, cancel := workflow.WithCancel(ctx)
	m.cancelSteps = cancel
	m.wg = workflow.NewWaitGroup(ctx)
	m.watchDossierDeadline(stepsCtx)
	m.commit(ctx, "", nil)
	return m, stepsCtx, nil
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
// the final version and every update has been answered, and returns it.
func (m *machine) finish(ctx workflow.Context) dossier.Snapshot {
	m.wg.Wait(ctx)
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if m.cancellation.requested || ctx.Err() != nil {
		m.cancelAll(dctx)
	}
	status, reason := m.outcome()
	now := workflow.Now(dctx)
	m.snap.Status, m.snap.OutcomeReason, m.snap.CompletedAt = status, reason, &now
	m.event(dctx, dossier.Event{Kind: dossier.EventCompleted, Outcome: string(status), Detail: reason})
	m.commit(dctx, "", nil)
	_ = workflow.Await(dctx, m.out.drained)
	// An update still running here is answered before the workflow closes,
	// not dropped with it. Today none can be: a cancellation answers once the
	// final version is committed, and every other update to a closed dossier
	// is refused by its validator or answered at once. The wait therefore
	// emits no command and changes no order, so histories recorded before it
	// replay; it keeps a handler added later from being cut off.
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
	return m.copySnapshot()
}

// cancelAll withdraws every open case and closes every open step; the
// dossier's final version carries them all.
func (m *machine) cancelAll(ctx workflow.Context) {
	reason := m.cancellation.reason
	if reason == "" {
		reason = "workflow cancelled"
	}
	m.event(ctx, dossier.Event{Kind: dossier.EventCancelled, Actor: m.cancellation.actor, Outcome: "dossier cancelled", Detail: reason})
	for _, k := range m.order {
		s := m.step(k)
		if s.Status.Terminal() {
			continue
		}
		m.withdraw(ctx, s, "dossier cancelled: "+reason)
		s.Reason = "dossier cancelled: " + reason
		m.transition(ctx, s, dossier.StepCancelled, finalVersion)
	}
	m.cancellation.requested = true
}

func (m *machine) outcome() (dossier.Status, string) {
	if m.cancellation.requested {
		return dossier.StatusCancelled, m.cancellation.reason
	}
	return m.snap.Settle(m.order[0])
}
