// Package activities holds the work the dossier workflows hand out: calls to
// the Justice, Police, Insurance and Portal services over gRPC, and writes to
// the engine's read model. Activities are methods on Activities, which holds
// their dependencies. They turn gRPC failures into the application error
// types in types.go. This package must not import workflows or api.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
)

// Agencies are the gRPC clients of the four agencies.
type Agencies struct {
	Justice   agencyv1.JusticeServiceClient
	Police    agencyv1.PoliceServiceClient
	Insurance agencyv1.InsuranceServiceClient
	Portal    agencyv1.PortalServiceClient
	// Cases is each agency's case desk, by agency name.
	Cases map[string]agencyv1.CaseServiceClient
}

// Activities hold what the activities need.
type Activities struct {
	Store    *store.Store
	Agencies Agencies
	Logger   *slog.Logger
	Metrics  *Metrics
	// Availability hears every agency call's outcome; nil hears none.
	Availability *Availability
}

func (a *Activities) log(in StepInput) *slog.Logger {
	l := a.Logger
	if l == nil {
		l = slog.Default()
	}
	return l.With("dossier_id", in.Code, "step", string(in.Step))
}

func callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return context.WithTimeout(ctx, timeout)
}

// caseCall runs one agency call and classifies its failure.
func (a *Activities) caseCall(ctx context.Context, in StepInput, call func(ctx context.Context) (*agencyv1.Case, error)) (StepResult, error) {
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	start := time.Now()
	c, err := call(cctx)
	latency := time.Since(start)
	a.Metrics.observeCall(in.Step.Agency(), string(in.Step), latency, err)
	if err != nil {
		err = classify(err)
	}
	a.Availability.Observe(in.Step.Agency(), err)
	if err != nil {
		a.log(in).WarnContext(ctx, "agency call failed", "error", err, "latency_ms", latency.Milliseconds())
		return StepResult{}, err
	}
	return StepResult{Case: dossier.CaseFromProto(c), LatencyMs: latency.Milliseconds()}, nil
}

// classify maps a gRPC status to a retryable or final application error,
// with the code's name as its detail (see FailureCode).
func classify(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			return temporal.NewApplicationError("DEADLINE_EXCEEDED: the agency did not answer in time", ErrUnavailable, codeName(codes.DeadlineExceeded))
		}
		return temporal.NewApplicationError(err.Error(), ErrUnavailable, codeName(codes.Unavailable))
	}
	name := codeName(st.Code())
	msg := fmt.Sprintf("%s: %s", name, st.Message())
	switch st.Code() {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.OutOfRange, codes.Unimplemented:
		return temporal.NewNonRetryableApplicationError(msg, ErrRefused, nil, name)
	case codes.Unauthenticated:
		return temporal.NewApplicationError(msg, ErrUnauthenticated, name)
	default:
		return temporal.NewApplicationError(msg, ErrUnavailable, name)
	}
}

// codeName spells a gRPC code as the API's errors and google.rpc.Code do,
// e.g. UNAVAILABLE.
func codeName(c codes.Code) string {
	return code.Code(c).String() //nolint:gosec // G115: gRPC codes are small non-negative numbers
}

func (a *Activities) caseDesk(agency string) (agencyv1.CaseServiceClient, error) {
	c, ok := a.Agencies.Cases[agency]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError("no case desk configured for "+agency, ErrRefused, nil)
	}
	return c, nil
}

// GetCase reads a case from its agency: the reconcile poll.
func (a *Activities) GetCase(ctx context.Context, in CaseInput) (CaseResult, error) {
	desk, err := a.caseDesk(in.Agency)
	if err != nil {
		return CaseResult{}, err
	}
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	resp, err := desk.GetCase(cctx, &agencyv1.GetCaseRequest{CaseId: in.CaseID, IdempotencyKey: in.IdempotencyKey})
	if err != nil {
		err = classify(err)
	}
	a.Availability.Observe(in.Agency, err)
	if err != nil {
		return CaseResult{}, err
	}
	return CaseResult{Case: dossier.CaseFromProto(resp.GetCase())}, nil
}

// SupplementCase forwards a clerk's supplement.
func (a *Activities) SupplementCase(ctx context.Context, in SupplementInput) (CaseResult, error) {
	desk, err := a.caseDesk(in.Agency)
	if err != nil {
		return CaseResult{}, err
	}
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	resp, err := desk.SupplementCase(cctx, &agencyv1.SupplementCaseRequest{
		CaseId: in.CaseID, IdempotencyKey: in.IdempotencyKey, Fields: in.Fields, Note: in.Note,
	})
	if err != nil {
		return CaseResult{}, classify(err)
	}
	return CaseResult{Case: dossier.CaseFromProto(resp.GetCase())}, nil
}

// WithdrawCase withdraws a case the dossier no longer needs. A case that is
// already closed is fine: withdrawal is then a no-op.
func (a *Activities) WithdrawCase(ctx context.Context, in WithdrawInput) (CaseResult, error) {
	desk, err := a.caseDesk(in.Agency)
	if err != nil {
		return CaseResult{}, err
	}
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	resp, err := desk.WithdrawCase(cctx, &agencyv1.WithdrawCaseRequest{CaseId: in.CaseID, Reason: in.Reason})
	if err != nil {
		if status.Code(err) == codes.FailedPrecondition {
			got, gerr := desk.GetCase(cctx, &agencyv1.GetCaseRequest{CaseId: in.CaseID})
			if gerr == nil {
				return CaseResult{Case: dossier.CaseFromProto(got.GetCase())}, nil
			}
		}
		return CaseResult{}, classify(err)
	}
	return CaseResult{Case: dossier.CaseFromProto(resp.GetCase())}, nil
}

// RequestApology asks a late agency, through its case desk, to apologise
// and set a new appointment date. Asking twice changes nothing.
func (a *Activities) RequestApology(ctx context.Context, in ApologyInput) (CaseResult, error) {
	desk, err := a.caseDesk(in.Agency)
	if err != nil {
		return CaseResult{}, err
	}
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	resp, err := desk.RequestApology(cctx, &agencyv1.RequestApologyRequest{CaseId: in.CaseID, MissedDueAt: timestamppb.New(in.MissedDueAt)})
	if err != nil {
		return CaseResult{}, classify(err)
	}
	return CaseResult{Case: dossier.CaseFromProto(resp.GetCase())}, nil
}

// AttachIDNumber adds a late ID number to a birth record.
func (a *Activities) AttachIDNumber(ctx context.Context, in AttachIDInput) (CaseResult, error) {
	cctx, cancel := callContext(ctx, in.CallTimeout)
	defer cancel()
	resp, err := a.Agencies.Justice.AttachIdNumber(cctx, &agencyv1.AttachIdNumberRequest{CaseId: in.CaseID, IdNumber: in.IDNumber})
	if err != nil {
		return CaseResult{}, classify(err)
	}
	return CaseResult{Case: dossier.CaseFromProto(resp.GetCase())}, nil
}

// SyncReadModel writes snapshots and trace events to the read model. It runs
// as a local activity: the read model is our own database, next to the worker.
func (a *Activities) SyncReadModel(ctx context.Context, in SyncInput) (SyncResult, error) {
	res, err := a.Store.ApplySnapshots(ctx, in.Snapshots, in.Events)
	if err != nil {
		return SyncResult{}, fmt.Errorf("syncing read model: %w", err)
	}
	now := time.Now()
	for _, s := range in.Snapshots {
		if s.DecidedAt != nil {
			a.Metrics.observeSyncLag("read_model", now.Sub(*s.DecidedAt))
		}
	}
	a.Metrics.observeDecisions(in.Snapshots, res.Versions)
	return SyncResult{Version: res.Version, Applied: res.Applied}, nil
}

// portalStep labels the portal's calls in the agency metrics.
const portalStep = "publish_status"

// PublishPortal pushes snapshots, oldest first, to the national portal, which
// keeps the newest and ignores any older version that arrives late.
func (a *Activities) PublishPortal(ctx context.Context, in PortalInput) (PortalResult, error) {
	if len(in.Snapshots) == 0 {
		return PortalResult{}, nil
	}
	code := in.Snapshots[0].Code
	phoneHash, err := a.Store.PhoneHash(ctx, code)
	if err != nil {
		return PortalResult{}, fmt.Errorf("publishing to portal: %w", err)
	}
	var out PortalResult
	for _, s := range in.Snapshots {
		// A backlog after an outage can take a while; each delivered version
		// is progress the server can see, so a dead worker is noticed quickly.
		activity.RecordHeartbeat(ctx, s.Version)
		cctx, cancel := callContext(ctx, 10*time.Second)
		start := time.Now()
		resp, err := a.Agencies.Portal.PublishStatus(cctx, &agencyv1.PublishStatusRequest{Status: PortalStatus(s), PhoneHash: phoneHash})
		cancel()
		a.Metrics.observeCall(dossier.AgencyPortal, portalStep, time.Since(start), err)
		if err != nil {
			return out, classify(err)
		}
		out.StoredVersion = resp.GetStoredVersion()
		if s.DecidedAt != nil {
			a.Metrics.observeSyncLag("portal", time.Since(*s.DecidedAt))
		}
	}
	last := in.Snapshots[len(in.Snapshots)-1]
	if err := a.Store.MarkPortalSynced(ctx, code, last.Version, time.Now()); err != nil {
		return out, fmt.Errorf("recording portal sync: %w", err)
	}
	return out, nil
}

// PortalStatus is what the portal may show: statuses and dates, nothing personal.
func PortalStatus(s dossier.Snapshot) *agencyv1.PortalStatus {
	ps := &agencyv1.PortalStatus{
		DossierCode: s.Code,
		Version:     s.Version,
		Group:       string(s.Group),
		Status:      string(s.Status),
	}
	ps.AppointmentAt = timestamp(s.AppointmentAt)
	ps.UpdatedAt = timestamp(s.At)
	for _, st := range s.Steps {
		note := ""
		switch st.Status {
		case dossier.StepNeedsSupplement:
			note = "supplement needed"
		case dossier.StepRejected, dossier.StepSkipped:
			note = st.Reason
		}
		ps.Steps = append(ps.Steps, &agencyv1.PortalStep{Step: string(st.Kind), Agency: st.Agency, Status: string(st.Status), Note: note})
	}
	return ps
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
