package agency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// A late case owes an apology once the engine asks; an officer issues it,
// numbered in the agency's register, with the new appointment date; asking
// or issuing again changes nothing, and a case on time cannot apologise.
func TestApologyInManualMode(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
	open := func(t *testing.T, serial int) *agencyv1.Case {
		t.Helper()
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, serial)))
		require.NoError(t, err)
		return resp.GetCase()
	}
	missed := timestamppb.New(time.Now().Add(-time.Hour).Truncate(time.Microsecond))
	newDate := time.Now().Add(72 * time.Hour).Truncate(time.Second)

	c := open(t, 5101)
	_, err := a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: c.GetCaseId(), Officer: "officer-a",
		Reason: "ốm", NewAppointmentAt: timestamppb.New(newDate)})
	requireCode(t, codes.FailedPrecondition, err)

	asked, err := a.cases.RequestApology(a.ctx(t), &agencyv1.RequestApologyRequest{CaseId: c.GetCaseId(), MissedDueAt: missed})
	require.NoError(t, err)
	ap := asked.GetCase().GetApology()
	require.NotNil(t, ap)
	require.Nil(t, ap.GetIssuedAt(), "manual mode: owed until an officer issues it")
	require.True(t, missed.AsTime().Equal(ap.GetMissedDueAt().AsTime()))
	require.Equal(t, c.GetVersion()+1, asked.GetCase().GetVersion(), "the engine sees that it was asked")

	again, err := a.cases.RequestApology(a.ctx(t), &agencyv1.RequestApologyRequest{CaseId: c.GetCaseId(), MissedDueAt: missed})
	require.NoError(t, err)
	require.Equal(t, asked.GetCase().GetVersion(), again.GetCase().GetVersion())

	got, err := a.cases.GetCase(a.ctx(t), &agencyv1.GetCaseRequest{CaseId: c.GetCaseId()})
	require.NoError(t, err)
	require.NotNil(t, got.GetCase().GetApology(), "stored, not only answered")

	_, err = a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: c.GetCaseId(), Officer: "officer-a",
		Reason: "ốm", NewAppointmentAt: timestamppb.New(time.Now().Add(-time.Minute))})
	requireCode(t, codes.InvalidArgument, err)

	issued, err := a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: c.GetCaseId(), Officer: "officer-a",
		Reason: "Cán bộ hộ tịch nghỉ ốm", NewAppointmentAt: timestamppb.New(newDate)})
	require.NoError(t, err)
	ap = issued.GetCase().GetApology()
	require.NotNil(t, ap.GetIssuedAt())
	require.Regexp(t, `^JUS-\d{4}-000001/PXL$`, ap.GetNumber())
	require.Equal(t, "officer-a", ap.GetIssuedBy())
	require.True(t, newDate.Equal(ap.GetNewAppointmentAt().AsTime()))
	require.True(t, newDate.Equal(issued.GetCase().GetNewAppointmentAt().AsTime()), "the case's appointment moves too")

	same, err := a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: c.GetCaseId(), Officer: "officer-a",
		Reason: "Cán bộ hộ tịch nghỉ ốm", NewAppointmentAt: timestamppb.New(newDate)})
	require.NoError(t, err)
	require.Equal(t, issued.GetCase().GetVersion(), same.GetCase().GetVersion(), "a retried issue is a no-op")
	_, err = a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: c.GetCaseId(), Officer: "officer-a",
		Reason: "another reason", NewAppointmentAt: timestamppb.New(newDate.Add(24 * time.Hour))})
	requireCode(t, codes.FailedPrecondition, err)

	second := open(t, 5102)
	_, err = a.cases.RequestApology(a.ctx(t), &agencyv1.RequestApologyRequest{CaseId: second.GetCaseId(), MissedDueAt: missed})
	require.NoError(t, err)
	next, err := a.cases.IssueApology(a.ctx(t), &agencyv1.IssueApologyRequest{CaseId: second.GetCaseId(), Officer: "officer-b",
		Reason: "Hệ thống gián đoạn", NewAppointmentAt: timestamppb.New(newDate)})
	require.NoError(t, err)
	require.Regexp(t, `-000002/PXL$`, next.GetCase().GetApology().GetNumber(), "one register, numbered in turn")
}

// An agency deciding automatically apologises at once, with its routine
// reason and the next working day.
func TestApologyInAutoMode(t *testing.T) {
	t.Parallel()
	// The case is due an hour or two after it opens, under the delays it
	// opened with, so the auto decider cannot approve it (and leave no
	// apology to ask for) while the test runs.
	slow := &agencyv1.AutoDecider{MinDelay: durationpb.New(time.Hour), MaxDelay: durationpb.New(2 * time.Hour)}
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL, Auto: slow})
	resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 5201)))
	require.NoError(t, err)
	_, err = a.admin.SetMode(a.adminCtx(t), &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO, Auto: slow})
	require.NoError(t, err)
	asked, err := a.cases.RequestApology(a.ctx(t), &agencyv1.RequestApologyRequest{CaseId: resp.GetCase().GetCaseId(),
		MissedDueAt: timestamppb.New(time.Now().Add(-time.Hour))})
	require.NoError(t, err)
	ap := asked.GetCase().GetApology()
	require.NotNil(t, ap.GetIssuedAt())
	require.Equal(t, "auto", ap.GetIssuedBy())
	require.NotEmpty(t, ap.GetReason())
	require.True(t, ap.GetNewAppointmentAt().AsTime().After(time.Now()))
}
