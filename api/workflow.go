package api

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/workflows"
)

// Timeouts for calls to Temporal. An update waits for the workflow to act
// (a supplement waits until the agency has it), so it gets longer.
const (
	startTimeout  = 10 * time.Second
	signalTimeout = 10 * time.Second
	updateTimeout = 30 * time.Second
)

// ensureWorkflow starts the dossier's workflow unless it runs or ran, then
// records that it exists. Submissions, retried submissions and the sweeper
// all come through here, so a start is never lost and never doubled: a
// running workflow is reused, and a closed one is never started again.
func (s *Server) ensureWorkflow(ctx context.Context, snap dossier.Snapshot) error {
	ctx, cancel := context.WithTimeout(ctx, s.startTimeout)
	defer cancel()
	in := workflows.DossierInput{
		Code:          snap.Code,
		CommuneCode:   snap.CommuneCode,
		ProvinceCode:  snap.ProvinceCode,
		ReceivedAt:    snap.ReceivedAt,
		DueAt:         snap.DueAt,
		AppointmentAt: snap.AppointmentAt,
		Limits:        workflows.DefaultLimits(),
		Timing:        s.retry,

		LateRegistrations: snap.LateRegistrations,
	}
	in.Limits.DrillStepDeadline = s.drillStepDeadline
	opts := client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(snap.Code),
		TaskQueue:                workflows.TaskQueueDossiers,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAGroup.ValueSet(string(snap.Group)),
			workflows.SACommune.ValueSet(snap.CommuneCode),
			workflows.SAProvince.ValueSet(snap.ProvinceCode),
			workflows.SAStatus.ValueSet(string(dossier.StatusReceived)),
		),
	}
	var err error
	switch snap.Group {
	case dossier.GroupBirth:
		_, err = s.temporal.ExecuteWorkflow(ctx, opts, workflows.WorkflowBirth, workflows.BirthInput{Dossier: in})
	case dossier.GroupDeath:
		_, err = s.temporal.ExecuteWorkflow(ctx, opts, workflows.WorkflowDeath, workflows.DeathInput{
			Dossier:          in,
			FuneralAllowance: snap.Step(dossier.StepFuneralAllowance) != nil,
			SurvivorBenefit:  snap.Step(dossier.StepSurvivorBenefit) != nil,
		})
	default:
		return dossier.Errorf(dossier.KindInternal, "dossier %s has unknown group %q", snap.Code, snap.Group)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return &dossier.Error{Kind: dossier.KindUnavailable, Message: "the dossier is stored but its workflow could not be started", Err: err}
	}
	if err := s.store.MarkWorkflowStarted(ctx, snap.Code); err != nil {
		return err
	}
	return nil
}

// update runs a workflow update and waits for its result. The workflow's
// validators refuse with a typed error (workflows.RefusedInput, naming the
// field, or workflows.RefusedState); they come back as InvalidArgument and
// FailedPrecondition.
func (s *Server) update(ctx context.Context, snap dossier.Snapshot, name, updateID string, arg any) (dossier.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	res, err := s.runUpdate(ctx, snap, name, updateID, arg)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && s.now().Sub(snap.ReceivedAt) < unstartedAge {
		// A dossier submitted a moment ago may still be in the start queue:
		// start it here, then update it. An older one without a workflow is
		// the sweeper's, and the caller is told it is still starting.
		if started, serr := s.store.WorkflowStarted(ctx, snap.Code); serr == nil && !started {
			if serr := s.ensureWorkflow(ctx, snap); serr == nil {
				res, err = s.runUpdate(ctx, snap, name, updateID, arg)
			}
		}
	}
	if err != nil {
		return dossier.Snapshot{}, s.updateError(ctx, snap, err)
	}
	return res.Snapshot, nil
}

func (s *Server) runUpdate(ctx context.Context, snap dossier.Snapshot, name, updateID string, arg any) (workflows.UpdateResult, error) {
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID,
		WorkflowID:   workflows.WorkflowID(snap.Code),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.UpdateResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, err
}

func (s *Server) updateError(ctx context.Context, snap dossier.Snapshot, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return s.closedWorkflowError(ctx, snap)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.RefusedInput:
			var r workflows.Refusal
			if derr := appErr.Details(&r); derr == nil && r.Field != "" {
				return invalid(violation(r.Field, "%s", appErr.Message()))
			}
		case workflows.RefusedState:
			return dossier.Errorf(dossier.KindFailedPrecondition, "%s", appErr.Message())
		}
		return &dossier.Error{Kind: dossier.KindInternal, Message: "the dossier's workflow refused the update", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &dossier.Error{Kind: dossier.KindUnavailable, Message: "the dossier's workflow did not answer in time", Err: err}
	}
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	if errors.As(err, &unavailable) || errors.As(err, &deadline) {
		return &dossier.Error{Kind: dossier.KindUnavailable, Message: "the workflow service is unavailable", Err: err}
	}
	return &dossier.Error{Kind: dossier.KindInternal, Message: "updating the dossier's workflow", Err: err}
}

// closedWorkflowError explains an update to a workflow that is not running.
func (s *Server) closedWorkflowError(ctx context.Context, snap dossier.Snapshot) error {
	if fresh, err := s.store.Dossier(ctx, snap.Code); err == nil {
		snap = fresh
	}
	if snap.Status.Terminal() {
		return dossier.Errorf(dossier.KindFailedPrecondition, "dossier is already %s", snap.Status)
	}
	if started, err := s.store.WorkflowStarted(ctx, snap.Code); err == nil && !started {
		return dossier.Errorf(dossier.KindUnavailable, "the dossier's workflow is still starting")
	}
	return dossier.Errorf(dossier.KindFailedPrecondition, "dossier's procedures have already finished")
}

// terminalError refuses to act on a dossier that is over.
func terminalError(snap dossier.Snapshot) error {
	if snap.Status.Terminal() {
		return dossier.Errorf(dossier.KindFailedPrecondition, "dossier is already %s", snap.Status)
	}
	return nil
}
