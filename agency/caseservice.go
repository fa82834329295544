package agency

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency/internal/deskdb"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// caseService is the case desk over gRPC: status queries for the engine and
// the officers' queue.
type caseService struct {
	agencyv1.UnimplementedCaseServiceServer
	d *desk
}

func (s *caseService) GetCase(ctx context.Context, req *agencyv1.GetCaseRequest) (*agencyv1.GetCaseResponse, error) {
	var c *caseRecord
	var err error
	switch {
	case req.GetCaseId() != "":
		c, err = s.d.byID(ctx, s.d.pool, req.GetCaseId())
	case req.GetIdempotencyKey() != "":
		c, err = s.d.byKey(ctx, s.d.pool, req.GetIdempotencyKey())
	default:
		var v violations
		v.add("case_id", "case_id or idempotency_key is required")
		return nil, v.err()
	}
	if err != nil {
		return nil, dbError(err, "getting case")
	}
	return &agencyv1.GetCaseResponse{Case: c.proto(s.d.agency)}, nil
}

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// pageToken is where the next page of the queue starts.
type pageToken struct {
	CreatedAt time.Time `json:"t"`
	CaseID    string    `json:"id"`
}

// ListCases is the queue, oldest first.
func (s *caseService) ListCases(ctx context.Context, req *agencyv1.ListCasesRequest) (*agencyv1.ListCasesResponse, error) {
	size := int(req.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	size = min(size, maxPageSize)
	var after pageToken
	if t := req.GetPageToken(); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if err == nil {
			err = json.Unmarshal(raw, &after)
		}
		if err != nil {
			var v violations
			v.add("page_token", "is not a token this service returned")
			return nil, v.err()
		}
	}
	statuses := []string{}
	for _, st := range req.GetStatuses() {
		if st == agencyv1.CaseStatus_CASE_STATUS_UNSPECIFIED {
			continue
		}
		statuses = append(statuses, statusText(st))
	}
	rows, err := s.d.queries(s.d.pool).ListCases(ctx, deskdb.ListCasesParams{
		Statuses: statuses, Kind: req.GetKind(), AfterCreatedAt: after.CreatedAt, AfterCaseID: after.CaseID,
		Lim: int32(size + 1),
	})
	if err != nil {
		return nil, dbError(err, "listing cases")
	}
	cases := make([]*caseRecord, 0, len(rows))
	for _, r := range rows {
		c, err := caseOf(deskdb.CaseByIDRow(r))
		if err != nil {
			return nil, dbError(err, "listing cases")
		}
		cases = append(cases, c)
	}
	out := &agencyv1.ListCasesResponse{}
	if len(cases) > size {
		cases = cases[:size]
		last := cases[size-1]
		raw, _ := json.Marshal(pageToken{CreatedAt: last.CreatedAt, CaseID: last.ID})
		out.NextPageToken = base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, c := range cases {
		out.Cases = append(out.Cases, c.proto(s.d.agency))
	}
	return out, nil
}

// ClaimCase gives a RECEIVED case to one officer. Claiming it again is a
// no-op for the holder and refused for anyone else.
func (s *caseService) ClaimCase(ctx context.Context, req *agencyv1.ClaimCaseRequest) (*agencyv1.ClaimCaseResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	v.require("officer", req.GetOfficer())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := s.d.change(ctx, req.GetCaseId(), func(_ context.Context, _ pgx.Tx, c *caseRecord, _ time.Time) (outcome, error) {
		switch c.Status {
		case agencyv1.CaseStatus_CASE_STATUS_RECEIVED:
			c.Status = agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW
			c.ClaimedBy = req.GetOfficer()
			return changed, nil
		case agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW:
			if c.ClaimedBy == req.GetOfficer() {
				return unchanged, nil
			}
			return unchanged, failedPrecondition("case %s is claimed by officer %q", c.ID, c.ClaimedBy)
		}
		return unchanged, failedPrecondition("case %s is %s; only a RECEIVED case can be claimed", c.ID, statusText(c.Status))
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.ClaimCaseResponse{Case: c.proto(s.d.agency)}, nil
}

// DecideCase records an officer's decision. A case claimed by another
// officer is refused; repeating the decision already taken is a no-op. A
// case waiting for a supplement may still be approved or rejected.
func (s *caseService) DecideCase(ctx context.Context, req *agencyv1.DecideCaseRequest) (*agencyv1.DecideCaseResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	v.require("officer", req.GetOfficer())
	switch req.GetDecision() {
	case agencyv1.Decision_DECISION_APPROVE:
	case agencyv1.Decision_DECISION_REJECT:
		v.require("reason", req.GetReason())
	case agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT:
		v.require("reason", req.GetReason())
		if len(req.GetMissing()) == 0 {
			v.add("missing", "lists what the applicant must supply")
		}
		for _, m := range req.GetMissing() {
			if m == "" {
				v.add("missing", "must not contain empty items")
				break
			}
		}
	default:
		v.add("decision", "must be DECISION_APPROVE, DECISION_REJECT or DECISION_REQUEST_SUPPLEMENT")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	verdict := verdict{decision: req.GetDecision(), reason: req.GetReason(), missing: req.GetMissing()}
	if t := req.GetNewAppointmentAt(); t != nil {
		at := t.AsTime().Truncate(time.Microsecond)
		verdict.newAppointmentAt = &at
	}
	c, err := s.d.change(ctx, req.GetCaseId(), func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		if c.ClaimedBy != "" && c.ClaimedBy != req.GetOfficer() && c.Status == agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW {
			return unchanged, failedPrecondition("case %s is claimed by officer %q", c.ID, c.ClaimedBy)
		}
		switch c.Status {
		case agencyv1.CaseStatus_CASE_STATUS_RECEIVED, agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW:
		case agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT:
			// An officer may still close a case whose supplement never came.
			if req.GetDecision() == agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT {
				if c.ClaimedBy == req.GetOfficer() {
					return unchanged, nil
				}
				return unchanged, failedPrecondition("case %s already waits for a supplement", c.ID)
			}
		default:
			if c.ClaimedBy == req.GetOfficer() && sameDecision(req.GetDecision(), c.Status) {
				return unchanged, nil
			}
			return unchanged, failedPrecondition("case %s is already %s", c.ID, statusText(c.Status))
		}
		c.ClaimedBy = req.GetOfficer()
		if err := s.d.apply(ctx, tx, c, verdict, now); err != nil {
			return unchanged, err
		}
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.DecideCaseResponse{Case: c.proto(s.d.agency)}, nil
}

func sameDecision(d agencyv1.Decision, s agencyv1.CaseStatus) bool {
	switch d {
	case agencyv1.Decision_DECISION_APPROVE:
		return s == agencyv1.CaseStatus_CASE_STATUS_APPROVED || s == agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID
	case agencyv1.Decision_DECISION_REJECT:
		return s == agencyv1.CaseStatus_CASE_STATUS_REJECTED
	case agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT:
		return s == agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT
	}
	return false
}

// SupplementCase takes the applicant's supplement and puts the case back in
// the queue. The supplement's key makes a retried delivery a no-op.
func (s *caseService) SupplementCase(ctx context.Context, req *agencyv1.SupplementCaseRequest) (*agencyv1.SupplementCaseResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	v.require("idempotency_key", req.GetIdempotencyKey())
	if err := v.err(); err != nil {
		return nil, err
	}
	hash, err := requestHash("supplement", req)
	if err != nil {
		return nil, err
	}
	fields := req.GetFields()
	if fields == nil {
		fields = map[string]string{}
	}
	c, err := s.d.change(ctx, req.GetCaseId(), func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		q := s.d.queries(tx)
		seen, err := q.SupplementByKey(ctx, req.GetIdempotencyKey())
		switch {
		case err == nil:
			if seen.CaseID != c.ID || !bytes.Equal(seen.RequestHash, hash) {
				return unchanged, conflict("supplement idempotency key was already used for a different supplement (case %s)", seen.CaseID)
			}
			return unchanged, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return unchanged, err
		}
		if c.Status != agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT {
			return unchanged, failedPrecondition("case %s is %s; it is not waiting for a supplement", c.ID, statusText(c.Status))
		}
		fieldsJSON, err := json.Marshal(fields)
		if err != nil {
			return unchanged, err
		}
		if err := q.InsertSupplement(ctx, deskdb.InsertSupplementParams{
			IdempotencyKey: req.GetIdempotencyKey(), CaseID: c.ID, RequestHash: hash, Fields: fieldsJSON,
			Note: req.GetNote(), ReceivedAt: now,
		}); err != nil {
			return unchanged, err
		}
		c.Status = agencyv1.CaseStatus_CASE_STATUS_RECEIVED
		c.Supplements++
		c.Reason, c.Missing, c.ClaimedBy, c.DecidedAt = "", nil, "", nil
		due := now.Add(s.d.autoDelay(c.ID, c.Supplements))
		c.DueAt = &due
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.SupplementCaseResponse{Case: c.proto(s.d.agency)}, nil
}

// WithdrawCase stops a case still waiting for a decision. Withdrawing it
// again is a no-op; a decided case stays decided.
func (s *caseService) WithdrawCase(ctx context.Context, req *agencyv1.WithdrawCaseRequest) (*agencyv1.WithdrawCaseResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := s.d.change(ctx, req.GetCaseId(), func(_ context.Context, _ pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		if c.Status == agencyv1.CaseStatus_CASE_STATUS_WITHDRAWN {
			return unchanged, nil
		}
		if !open(c.Status) {
			return unchanged, failedPrecondition("case %s is already %s and cannot be withdrawn", c.ID, statusText(c.Status))
		}
		c.Status = agencyv1.CaseStatus_CASE_STATUS_WITHDRAWN
		c.Reason = req.GetReason()
		if c.Reason == "" {
			c.Reason = "withdrawn at the caller's request"
		}
		c.Missing, c.DueAt = nil, nil
		c.DecidedAt = &now
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.WithdrawCaseResponse{Case: c.proto(s.d.agency)}, nil
}

// RequestApology marks a late case: the engine found its legal deadline
// passed. The officer's queue then shows the apology as owed. An agency in
// auto mode issues it at once, as its officers would by routine. Asking
// again changes nothing; a closed case owes nothing.
func (s *caseService) RequestApology(ctx context.Context, req *agencyv1.RequestApologyRequest) (*agencyv1.RequestApologyResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	if req.GetMissedDueAt() == nil {
		v.add("missed_due_at", "is required: the deadline the case missed")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := s.d.change(ctx, req.GetCaseId(), func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		if c.Apology != nil || !open(c.Status) {
			return unchanged, nil
		}
		c.Apology = &agencyv1.Apology{RequestedAt: timestamppb.New(now), MissedDueAt: req.GetMissedDueAt()}
		if s.d.settings.isAuto() {
			next := calendar.Default().AddWorkingDays(now, autoApologyDays)
			if err := s.d.issueApology(ctx, tx, c, "auto", autoApologyReason, next, now); err != nil {
				return unchanged, err
			}
		}
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.RequestApologyResponse{Case: c.proto(s.d.agency)}, nil
}

// What the auto decider writes on an apology: its officers' routine answer.
const (
	autoApologyReason = "Số lượng hồ sơ tăng cao, cơ quan chưa kịp giải quyết đúng hạn."
	autoApologyDays   = 1
)

// IssueApology issues the apology a late case owes, with the reason and the
// new appointment date. Issuing the same apology again is a no-op; another
// one is refused, since the applicant already holds the first.
func (s *caseService) IssueApology(ctx context.Context, req *agencyv1.IssueApologyRequest) (*agencyv1.IssueApologyResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	v.require("officer", req.GetOfficer())
	v.require("reason", req.GetReason())
	if req.GetNewAppointmentAt() == nil {
		v.add("new_appointment_at", "is required: the date the applicant will get the result")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	at := req.GetNewAppointmentAt().AsTime().Truncate(time.Microsecond)
	c, err := s.d.change(ctx, req.GetCaseId(), func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		switch {
		case c.Apology == nil:
			return unchanged, failedPrecondition("case %s is not late: no apology was asked for", c.ID)
		case c.Apology.GetIssuedAt() != nil:
			if c.Apology.GetReason() == req.GetReason() && c.Apology.GetNewAppointmentAt().AsTime().Equal(at) {
				return unchanged, nil
			}
			return unchanged, failedPrecondition("case %s: apology %s was already issued", c.ID, c.Apology.GetNumber())
		case !open(c.Status):
			return unchanged, failedPrecondition("case %s is already %s", c.ID, statusText(c.Status))
		case !at.After(now):
			var v violations
			v.add("new_appointment_at", "must be in the future")
			return unchanged, v.err()
		}
		if err := s.d.issueApology(ctx, tx, c, req.GetOfficer(), req.GetReason(), at, now); err != nil {
			return unchanged, err
		}
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.IssueApologyResponse{Case: c.proto(s.d.agency)}, nil
}

// issueApology numbers the slip in the agency's register for the year and
// moves the case's appointment to the new date.
func (d *desk) issueApology(ctx context.Context, tx pgx.Tx, c *caseRecord, officer, reason string, at, now time.Time) error {
	year := now.In(civil.Zone).Year()
	n, err := d.queries(tx).NextApologyNumber(ctx, int32(year))
	if err != nil {
		return err
	}
	c.Apology.IssuedAt = timestamppb.New(now)
	c.Apology.Number = fmt.Sprintf("%s-%d-%06d/PXL", d.prefix, year, n)
	c.Apology.Reason = reason
	c.Apology.NewAppointmentAt = timestamppb.New(at)
	c.Apology.IssuedBy = officer
	c.NewAppointmentAt = &at
	return nil
}
