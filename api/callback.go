package api

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/api/serviceerror"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/workflows"
)

type callbackService struct {
	enginev1.UnimplementedAgencyCallbackServiceServer
	s *Server
}

// ReportCase passes an agency's push to the dossier's workflow as a signal.
// The workflow orders reports by case version, so duplicates and reports
// out of order do no harm. A report for a dossier whose workflow has ended
// (or never existed) is acknowledged with applied=false, so the agency's
// outbox stops retrying it.
func (cb *callbackService) ReportCase(ctx context.Context, req *enginev1.ReportCaseRequest) (*enginev1.ReportCaseResponse, error) {
	s := cb.s
	c := req.GetCase()
	if c == nil {
		return nil, invalid(violation("case", "is required"))
	}
	step := dossier.StepKind(c.GetStep())
	var vs []dossier.FieldViolation
	if strings.TrimSpace(c.GetDossierCode()) == "" {
		vs = append(vs, violation("case.dossier_code", "is required"))
	}
	if strings.TrimSpace(c.GetAgency()) == "" {
		vs = append(vs, violation("case.agency", "is required"))
	}
	if !step.Valid() {
		vs = append(vs, violation("case.step", "is not a step of any procedure group"))
	}
	if c.GetStatus() == agencyv1.CaseStatus_CASE_STATUS_UNSPECIFIED {
		vs = append(vs, violation("case.status", "is required"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}

	who := caller(ctx)
	if who.Role == auth.RoleAgency && c.GetAgency() != who.Agency {
		return nil, dossier.Errorf(dossier.KindPermissionDenied, "agency %s may report only its own cases, not %s's", who.Agency, c.GetAgency())
	}
	if step.Agency() != c.GetAgency() {
		return nil, dossier.Errorf(dossier.KindPermissionDenied, "step %s belongs to %s, not %s", step, step.Agency(), c.GetAgency())
	}

	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	err := s.temporal.SignalWorkflow(sctx, workflows.WorkflowID(c.GetDossierCode()), "", workflows.SignalCaseUpdate, dossier.CaseFromProto(c))
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return &enginev1.ReportCaseResponse{Applied: true}, nil
	case errors.As(err, &notFound):
		s.log.InfoContext(ctx, "case report for a closed or unknown dossier", "dossier_id", c.GetDossierCode(), "step", string(step), "agency", c.GetAgency())
		return &enginev1.ReportCaseResponse{Applied: false}, nil
	default:
		return nil, &dossier.Error{Kind: dossier.KindUnavailable, Message: "passing the report to the dossier's workflow", Err: err}
	}
}
