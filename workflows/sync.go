package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
)

// changePortalFromReadModel: the portal is published from the read model by
// the workers' portal feed, not by an activity per batch of versions. That
// takes about half of a dossier's activity tasks off the engine, and the
// portal no longer waits behind new agency work for workflow tasks.
const changePortalFromReadModel = "portal-from-read-model"

// outbox holds what the read model and the portal have not yet received,
// oldest first, so an outage delays a step's news but never blocks the step.
type outbox struct {
	readModel []dossier.Snapshot
	events    []dossier.Event
	portal    []dossier.Snapshot
	// portalFromReadModel: the portal takes this dossier's versions from the
	// read model, so the workflow publishes none itself.
	portalFromReadModel bool
	// inFlight counts the writes under way.
	inFlight int
	// eventSeq numbers the dossier's trace events.
	eventSeq int
}

// queue adds a version for the read model and, for dossiers that publish it
// themselves, the portal.
func (o *outbox) queue(snap dossier.Snapshot) {
	o.readModel = append(o.readModel, snap)
	if !o.portalFromReadModel {
		o.portal = append(o.portal, snap)
	}
}

// drained says every version reached the read model and the portal.
func (o *outbox) drained() bool {
	return len(o.readModel) == 0 && len(o.portal) == 0 && len(o.events) == 0 && o.inFlight == 0
}

// startSync runs the read-model loop and, for dossiers that publish to the
// portal themselves, the portal loop. Each takes everything queued, writes it
// oldest first, and only then drops it, so a crash or an outage delays a
// status but never loses or reorders one.
func (m *machine) startSync(ctx workflow.Context) {
	workflow.Go(ctx, m.syncReadModel)
	if !m.out.portalFromReadModel {
		workflow.Go(ctx, m.syncPortal)
	}
}

func (m *machine) syncReadModel(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
	for {
		if err := workflow.Await(ctx, func() bool { return len(m.out.readModel) > 0 || len(m.out.events) > 0 }); err != nil {
			return
		}
		snaps, events := m.out.readModel, m.out.events
		m.out.inFlight++
		var res activities.SyncResult
		err := workflow.ExecuteLocalActivity(lctx, a.SyncReadModel, activities.SyncInput{Snapshots: snaps, Events: events}).Get(ctx, &res)
		m.out.inFlight--
		if err != nil {
			m.syncStopped("read model", err)
		}
		m.out.readModel = m.out.readModel[len(snaps):]
		m.out.events = m.out.events[len(events):]
	}
}

func (m *machine) syncPortal(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
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
		if err := workflow.Await(ctx, func() bool { return len(m.out.portal) > 0 }); err != nil {
			return
		}
		snaps := m.out.portal
		m.out.inFlight++
		var res activities.PortalResult
		err := workflow.ExecuteActivity(actx, a.PublishPortal, activities.PortalInput{Snapshots: snaps}).Get(ctx, &res)
		m.out.inFlight--
		if err != nil {
			m.syncStopped("portal", err)
		}
		m.out.portal = m.out.portal[len(snaps):]
	}
}

// syncStopped fails the workflow task. Both loops retry without limit, so an
// error here is one no retry will cure: a non-retryable refusal, which means a
// bug or bad data. Returning would leave finish waiting forever for a drain
// that cannot come, with nothing to show for it; failing the dossier would
// close it with its last versions unwritten. A panic in workflow code instead
// fails the workflow task: the dossier stays open and keeps its state, the
// failure shows in the engine's history, UI and task-failure metrics with this
// message, and the engine retries the task. A local activity's failure is not
// recorded until its task completes, so for the read model each retry writes
// again and the dossier goes on once the cause is fixed; a portal failure is
// in history, so that one needs a fix and a reset.
func (m *machine) syncStopped(target string, err error) {
	m.logger.Error(target+" sync stopped", "error", err)
	panic(fmt.Errorf("%s sync stopped: %w", target, err))
}
