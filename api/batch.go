package api

import (
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/workflows"
)

// Batch retry bounds.
const (
	defaultBatch = 200
	maxBatch     = 1000
)

// batchRules are what a batch retry matches when the request names none:
// the steps that are failing or not moving, never the ones waiting for a
// person (a supplement) or for an ID number the population database owes.
var batchRules = []enginev1.StuckRule{
	enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING,
	enginev1.StuckRule_STUCK_RULE_IDLE,
	enginev1.StuckRule_STUCK_RULE_OVERDUE,
}

// RetryBatch retries, one dossier after another, every stuck step the filter
// matches. Each retry is the same workflow update a single retry sends, so
// a step that moved on in the meantime is reported as skipped, not retried.
func (ss *supervisorService) RetryBatch(ctx context.Context, req *enginev1.RetryBatchRequest) (*enginev1.RetryBatchResponse, error) {
	s := ss.s
	var vs []dossier.FieldViolation
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		vs = append(vs, violation("reason", "is required: say why, for the trace and the audit"))
	}
	vs = append(vs, checkRules(req.GetRules())...)
	if a := req.GetAgency(); a != "" && !slices.Contains([]string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance}, a) {
		vs = append(vs, violation("agency", "must be justice, police or insurance"))
	}
	var step dossier.StepKind
	if req.GetStep() != enginev1.StepKind_STEP_KIND_UNSPECIFIED {
		if step = dossier.StepKindFromProto(req.GetStep()); !step.Valid() {
			vs = append(vs, violation("step", "is not a known step"))
		}
	}
	if req.GetLimit() < 0 {
		vs = append(vs, violation("limit", "must not be negative"))
	}
	only := map[string]bool{}
	if len(req.GetCodes()) > maxBatch {
		vs = append(vs, violation("codes", "must name at most %d dossiers", maxBatch))
	}
	for _, c := range req.GetCodes() {
		if checkCode(c) != nil {
			vs = append(vs, violation("codes", "is not a dossier code"))
			break
		}
		only[c] = true
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	province, err := provinceScope(caller(ctx), req.GetProvinceCode())
	if err != nil {
		return nil, err
	}
	now := s.now()
	f := defaultStuckFilter(now)
	f.ProvinceCode, f.Agency, f.MinAttempts = province, req.GetAgency(), 1
	rules := req.GetRules()
	if len(rules) == 0 {
		rules = batchRules
	}
	f.Rules = stuckRules(rules)
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = defaultBatch
	}
	limit = min(limit, maxBatch)
	f.Limit = limit
	if step != "" || req.GetSince() != nil || len(only) > 0 {
		// The step and since filters apply below, after the query, which
		// lists the longest stuck first: read as many rows as a batch may
		// hold so older steps of other kinds do not use up the limit.
		f.Limit = maxBatch
	}
	rows, err := s.store.StuckSteps(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.RetryBatchResponse{}
	actor := caller(ctx).Actor()
	for _, o := range rows {
		if len(resp.Results) == limit {
			break
		}
		if step != "" && o.Step.Kind != step {
			continue
		}
		if t := req.GetSince(); t != nil && o.Step.StatusSince.Before(t.AsTime()) {
			continue
		}
		if len(only) > 0 && !only[o.Code] {
			continue
		}
		delete(only, o.Code)
		r := &enginev1.RetryBatchResult{Code: o.Code, Step: o.Step.Kind.Proto(), Agency: o.Step.Agency}
		resp.Results = append(resp.Results, r)
		if req.GetDryRun() {
			r.Outcome, r.Message = enginev1.RetryOutcome_RETRY_OUTCOME_WOULD_RETRY, "would be retried now"
			continue
		}
		snap, err := s.store.Dossier(ctx, o.Code)
		if err == nil {
			err = terminalError(snap)
		}
		if err == nil {
			_, err = s.update(ctx, snap, workflows.UpdateRetryStep, "", workflows.RetryInput{Step: o.Step.Kind, Reason: reason, Actor: actor})
		}
		switch {
		case err == nil:
			r.Outcome, r.Message = enginev1.RetryOutcome_RETRY_OUTCOME_RETRIED, "retried now"
			resp.Retried++
			s.log.InfoContext(ctx, "step retried in a batch", "dossier_id", o.Code, "step", string(o.Step.Kind), "actor", actor)
		case dossier.KindOf(err) == dossier.KindFailedPrecondition:
			r.Outcome, r.Message = enginev1.RetryOutcome_RETRY_OUTCOME_SKIPPED, publicMessage(err)
			resp.Skipped++
		default:
			r.Outcome, r.Message = enginev1.RetryOutcome_RETRY_OUTCOME_FAILED, publicMessage(err)
			resp.Failed++
			s.log.WarnContext(ctx, "batch retry failed", "dossier_id", o.Code, "step", string(o.Step.Kind), "error", err)
		}
	}
	// The named dossiers that are no longer stuck moved on by themselves.
	for _, c := range req.GetCodes() {
		if !only[c] {
			continue
		}
		delete(only, c)
		resp.Results = append(resp.Results, &enginev1.RetryBatchResult{
			Code: c, Outcome: enginev1.RetryOutcome_RETRY_OUTCOME_SKIPPED, Message: "no longer stuck: it moved on by itself",
		})
		resp.Skipped++
	}
	return resp, nil
}

// publicMessage is what a caller may read of an error: a domain error's own
// message, never an internal cause.
func publicMessage(err error) string {
	var de *dossier.Error
	if errors.As(err, &de) && de.Kind != dossier.KindInternal {
		return de.Message
	}
	return internalMessage
}

// ListAudit lists who read or changed a dossier's personal data. Reading the
// audit is itself recorded.
func (ss *supervisorService) ListAudit(ctx context.Context, req *enginev1.ListAuditRequest) (*enginev1.ListAuditResponse, error) {
	s := ss.s
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	entries, err := s.store.AuditOf(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "read audit", snap.Code, "ListAudit"); err != nil {
		return nil, err
	}
	resp := &enginev1.ListAuditResponse{}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, &enginev1.AuditEntry{
			At: timestamppb.New(e.At), Actor: e.Actor, Role: e.Role, Action: e.Action, Purpose: e.Purpose,
		})
	}
	return resp, nil
}
