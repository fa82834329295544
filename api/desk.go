package api

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// deskService is an officer's desk over the agency's own case service.
type deskService struct {
	enginev1.UnimplementedDeskServiceServer
	s *Server
}

const (
	defaultDeskPage = 100
	maxDeskPage     = 500
)

// deskAgency is the agency whose cases the caller works: an officer's own,
// or the one an admin names.
func deskAgency(c auth.Claims, requested string) (string, error) {
	if c.Role == auth.RoleOfficer {
		if requested != "" && requested != c.Agency {
			return "", dossier.Errorf(dossier.KindPermissionDenied, "an officer of %s may work only that agency's cases", c.Agency)
		}
		return c.Agency, nil
	}
	if requested == "" {
		return "", invalid(violation("agency", "is required: justice, police or insurance"))
	}
	if !slices.Contains(deskAgencies, requested) {
		return "", invalid(violation("agency", "must be justice, police or insurance"))
	}
	return requested, nil
}

// caseArg checks a case id and that the caller may work it.
func caseArg(ctx context.Context, id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", invalid(violation("case_id", "is required"))
	}
	agency := agencyOfCase(id)
	if agency == "" || len(id) > 64 {
		return "", invalid(violation("case_id", "is not a case id of justice, police or insurance"))
	}
	c := caller(ctx)
	if c.Role == auth.RoleOfficer && c.Agency != agency {
		// Another agency's case is reported like an unknown one.
		return "", dossier.Errorf(dossier.KindNotFound, "case not found")
	}
	return agency, nil
}

// caseService checks a case id, and that the caller may work it, and
// returns its agency and that agency's case service.
func (ds *deskService) caseService(ctx context.Context, id string) (string, agencyv1.CaseServiceClient, error) {
	agency, err := caseArg(ctx, id)
	if err != nil {
		return "", nil, err
	}
	cs, err := ds.cases(agency)
	return agency, cs, err
}

func (ds *deskService) cases(agency string) (agencyv1.CaseServiceClient, error) {
	a, err := ds.s.agencyClients()
	if err != nil {
		return nil, err
	}
	cs := a.Cases[agency]
	if cs == nil {
		return nil, dossier.Errorf(dossier.KindUnavailable, "the %s case service is not connected", agency)
	}
	return cs, nil
}

func (ds *deskService) ListCases(ctx context.Context, req *enginev1.ListCasesRequest) (*enginev1.ListCasesResponse, error) {
	s := ds.s
	agency, err := deskAgency(caller(ctx), req.GetAgency())
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalid(violation("page_size", "must not be negative"))
	case size == 0:
		size = defaultDeskPage
	}
	areq := &agencyv1.ListCasesRequest{PageSize: int32(min(size, maxDeskPage))}
	for _, st := range req.GetStates() {
		if st == enginev1.CaseState_CASE_STATE_UNSPECIFIED {
			return nil, invalid(violation("states", "must name case states"))
		}
		areq.Statuses = append(areq.Statuses, agencyv1.CaseStatus(st))
	}
	if k := req.GetStep(); k != enginev1.StepKind_STEP_KIND_UNSPECIFIED {
		step := dossier.StepKindFromProto(k)
		if step.Agency() != agency {
			return nil, invalid(violation("step", "is not a step of %s", agency))
		}
		areq.Kind = string(step)
	}
	cs, err := ds.cases(agency)
	if err != nil {
		return nil, err
	}
	got, err := cs.ListCases(ctx, areq)
	if err != nil {
		return nil, agencyError(agency, err)
	}
	codes := make([]string, 0, len(got.GetCases()))
	for _, c := range got.GetCases() {
		codes = append(codes, c.GetDossierCode())
	}
	snaps, err := s.store.Snapshots(ctx, codes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	resp := &enginev1.ListCasesResponse{}
	for _, c := range got.GetCases() {
		resp.Cases = append(resp.Cases, s.deskCase(c, snaps[c.GetDossierCode()], now))
	}
	// Most urgent first: the nearest deadline, then the oldest case.
	slices.SortStableFunc(resp.Cases, func(a, b *enginev1.DeskCase) int {
		ad, bd := a.GetDueAt(), b.GetDueAt()
		switch {
		case ad == nil && bd != nil:
			return 1
		case ad != nil && bd == nil:
			return -1
		case ad != nil && bd != nil:
			if c := ad.AsTime().Compare(bd.AsTime()); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.GetCreatedAt().AsTime().UnixNano(), b.GetCreatedAt().AsTime().UnixNano())
	})
	return resp, nil
}

// deskCase joins an agency's case with what the engine knows of its step.
func (s *Server) deskCase(c *agencyv1.Case, snap dossier.Snapshot, now time.Time) *enginev1.DeskCase {
	step := dossier.StepKind(c.GetStep())
	out := &enginev1.DeskCase{
		CaseId: c.GetCaseId(), Agency: c.GetAgency(), Step: step.Proto(), State: enginev1.CaseState(c.GetStatus()),
		DossierCode: c.GetDossierCode(), ClaimedBy: c.GetClaimedBy(),
		CreatedAt: c.GetCreatedAt(), UpdatedAt: c.GetUpdatedAt(), DecidedAt: c.GetDecidedAt(),
		Reason: c.GetReason(), Missing: c.GetMissing(), Supplements: c.GetSupplements(),
		NewAppointmentAt: c.GetNewAppointmentAt(), Result: c.GetResult(),
		Apology: dossier.ApologyFromProto(c.GetApology()).Proto(),
	}
	if c.GetStatus() == agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID {
		out.WaitingIdSince = c.GetDecidedAt()
	}
	if snap.Code == "" {
		return out
	}
	out.Group, out.CommuneCode = snap.Group.Proto(), snap.CommuneCode
	st := snap.Step(step)
	if st == nil {
		return out
	}
	if st.Status == dossier.StepWaitingIDNumber && out.WaitingIdSince == nil {
		out.WaitingIdSince = timestamppb.New(st.StatusSince)
	}
	if st.DueAt != nil {
		out.DueAt = timestamppb.New(*st.DueAt)
		open := !slices.Contains([]agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_APPROVED,
			agencyv1.CaseStatus_CASE_STATUS_REJECTED, agencyv1.CaseStatus_CASE_STATUS_WITHDRAWN}, c.GetStatus())
		out.Overdue = st.Overdue || (open && now.After(*st.DueAt))
		out.WorkingDaysLeft = s.workingDaysLeft(now, *st.DueAt)
	}
	return out
}

// workingDaysLeft counts working days from now to due: 0 on the due day,
// negative once it has passed.
func (s *Server) workingDaysLeft(now, due time.Time) int32 {
	if now.After(due) {
		return -int32(s.cal.WorkingDaysBetween(due, now))
	}
	return int32(s.cal.WorkingDaysBetween(now, due))
}

func (ds *deskService) GetCase(ctx context.Context, req *enginev1.GetCaseRequest) (*enginev1.GetCaseResponse, error) {
	s := ds.s
	agency, cs, err := ds.caseService(ctx, req.GetCaseId())
	if err != nil {
		return nil, err
	}
	got, err := cs.GetCase(ctx, &agencyv1.GetCaseRequest{CaseId: req.GetCaseId()})
	if err != nil {
		return nil, agencyError(agency, err)
	}
	c := got.GetCase()
	snap, err := s.store.Dossier(ctx, c.GetDossierCode())
	if err != nil {
		return nil, err
	}
	now := s.now()
	resp := &enginev1.GetCaseResponse{Case: s.deskCase(c, snap, now), Dossier: dossierProto(snap, now)}
	// The officer decides on the applicant's data: that is a read of personal data.
	group, raw, err := s.store.Form(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	if err := attachForm(resp.Dossier, group, raw); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "view", snap.Code, "deciding case "+c.GetCaseId()); err != nil {
		return nil, err
	}
	return resp, nil
}

func (ds *deskService) ClaimCase(ctx context.Context, req *enginev1.ClaimCaseRequest) (*enginev1.ClaimCaseResponse, error) {
	s := ds.s
	agency, cs, err := ds.caseService(ctx, req.GetCaseId())
	if err != nil {
		return nil, err
	}
	got, err := cs.ClaimCase(ctx, &agencyv1.ClaimCaseRequest{CaseId: req.GetCaseId(), Officer: officerID(caller(ctx))})
	if err != nil {
		return nil, agencyError(agency, err)
	}
	return &enginev1.ClaimCaseResponse{Case: s.deskCaseOf(ctx, got.GetCase())}, nil
}

func (ds *deskService) DecideCase(ctx context.Context, req *enginev1.DecideCaseRequest) (*enginev1.DecideCaseResponse, error) {
	s := ds.s
	agency, cs, err := ds.caseService(ctx, req.GetCaseId())
	if err != nil {
		return nil, err
	}
	var vs []dossier.FieldViolation
	reason := strings.TrimSpace(req.GetReason())
	var missing []string
	for _, m := range req.GetMissing() {
		if m = strings.TrimSpace(m); m != "" {
			missing = append(missing, m)
		}
	}
	switch req.GetDecision() {
	case enginev1.CaseDecision_CASE_DECISION_APPROVE:
	case enginev1.CaseDecision_CASE_DECISION_REJECT:
		if reason == "" {
			vs = append(vs, violation("reason", "is required to reject: the applicant is told why"))
		}
	case enginev1.CaseDecision_CASE_DECISION_REQUEST_SUPPLEMENT:
		if reason == "" {
			vs = append(vs, violation("reason", "is required to ask for a supplement"))
		}
		if len(missing) == 0 {
			vs = append(vs, violation("missing", "must name at least one item the applicant must supply"))
		}
	default:
		vs = append(vs, violation("decision", "is required: approve, reject or request a supplement"))
	}
	if t := req.GetNewAppointmentAt(); t != nil && !t.AsTime().After(s.now()) {
		vs = append(vs, violation("new_appointment_at", "must be in the future"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	officer := officerID(caller(ctx))
	got, err := cs.DecideCase(ctx, &agencyv1.DecideCaseRequest{
		CaseId: req.GetCaseId(), Officer: officer, Decision: agencyv1.Decision(req.GetDecision()),
		Reason: reason, Missing: missing, NewAppointmentAt: req.GetNewAppointmentAt(),
	})
	if err != nil {
		return nil, agencyError(agency, err)
	}
	c := got.GetCase()
	if err := s.audit(ctx, "decide", c.GetDossierCode(), fmt.Sprintf("%s %s", c.GetCaseId(), req.GetDecision())); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "case decided at the desk", "dossier_id", c.GetDossierCode(), "step", c.GetStep(), "case_id", c.GetCaseId(),
		"decision", req.GetDecision().String(), "officer", officer)
	return &enginev1.DecideCaseResponse{Case: s.deskCaseOf(ctx, c)}, nil
}

// IssueApology answers a late case with the apology and the new appointment
// date. The agency issues and numbers the slip; the engine learns of it by
// the agency's push, moves the appointment and tells the applicant.
func (ds *deskService) IssueApology(ctx context.Context, req *enginev1.IssueApologyRequest) (*enginev1.IssueApologyResponse, error) {
	s := ds.s
	agency, cs, err := ds.caseService(ctx, req.GetCaseId())
	if err != nil {
		return nil, err
	}
	var vs []dossier.FieldViolation
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		vs = append(vs, violation("reason", "is required: the applicant is told why the agency is late"))
	}
	at := req.GetNewAppointmentAt()
	switch {
	case at == nil:
		vs = append(vs, violation("new_appointment_at", "is required: the date the applicant will get the result"))
	case !at.AsTime().After(s.now()):
		vs = append(vs, violation("new_appointment_at", "must be in the future"))
	case !s.cal.IsWorkingDay(at.AsTime()):
		vs = append(vs, violation("new_appointment_at", "must be a working day"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	officer := officerID(caller(ctx))
	got, err := cs.IssueApology(ctx, &agencyv1.IssueApologyRequest{CaseId: req.GetCaseId(), Officer: officer, Reason: reason, NewAppointmentAt: at})
	if err != nil {
		return nil, agencyError(agency, err)
	}
	c := got.GetCase()
	if err := s.audit(ctx, "apologise", c.GetDossierCode(), c.GetCaseId()+" "+c.GetApology().GetNumber()); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "apology issued at the desk", "dossier_id", c.GetDossierCode(), "step", c.GetStep(), "case_id", c.GetCaseId(),
		"officer", officer)
	return &enginev1.IssueApologyResponse{Case: s.deskCaseOf(ctx, c)}, nil
}

// deskCaseOf joins one case with its dossier; a read-model miss only loses
// the deadline, never the answer.
func (s *Server) deskCaseOf(ctx context.Context, c *agencyv1.Case) *enginev1.DeskCase {
	snap, err := s.store.Dossier(ctx, c.GetDossierCode())
	if err != nil {
		snap = dossier.Snapshot{}
	}
	return s.deskCase(c, snap, s.now())
}

// officerID is how the agency records the officer: the person's subject.
// An admin acting at a desk is recorded as such.
func officerID(c auth.Claims) string {
	if c.Role == auth.RoleOfficer {
		return c.Subject
	}
	return c.Actor()
}
