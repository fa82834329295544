package stack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/config"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// TestLateAgencyApologisesOnTheRealStack runs the lateness flow on the
// whole stack: Police, in manual mode, lets a residence cancellation pass
// its deadline (shortened by --drill-step-deadline); the engine asks Police
// through its queue; a Police officer answers at the desk with the reason
// and a new date; the dossier's appointment moves, the apology reaches the
// read model and the supervisor's list, and the dossier then completes.
func TestLateAgencyApologisesOnTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{}, func(c *config.Config) { c.DrillStepDeadline = 3 * time.Second })
	ctx := context.Background()
	_, err := agencyv1.NewAdminServiceClient(s.conn(t, s.addrs.Agencies["police"], s.cfg.AgencyAdminKey)).SetMode(ctx,
		&agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
	require.NoError(t, err)
	desk := enginev1.NewDeskServiceClient(s.conn(t, s.addrs.API, s.addrs.Tokens["officer congan-1"]))
	supervisor := enginev1.NewSupervisorServiceClient(s.conn(t, s.addrs.API, s.addrs.Tokens["supervisor supervisor-national"]))

	sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(7, time.Now(), "late-death-1", false))
	require.NoError(t, err)
	code := sub.GetCode()

	// The officer's queue shows the apology as owed once the deadline passed.
	var owed *enginev1.DeskCase
	require.Eventually(t, func() bool {
		resp, err := desk.ListCases(ctx, &enginev1.ListCasesRequest{})
		if err != nil {
			return false
		}
		for _, c := range resp.GetCases() {
			if c.GetDossierCode() == code && c.GetApology() != nil {
				owed = c
				return true
			}
		}
		return false
	}, 90*time.Second, 200*time.Millisecond, "the late case is marked in Police's queue")
	require.Nil(t, owed.GetApology().GetIssuedAt())
	require.True(t, owed.GetOverdue())

	// A refused answer names its field.
	_, err = desk.IssueApology(ctx, &enginev1.IssueApologyRequest{CaseId: owed.GetCaseId(), NewAppointmentAt: timestamppb.New(time.Now().Add(-time.Hour))})
	require.Error(t, err)

	// Later than the dossier's own appointment (5 working days), so it moves.
	newDate := calendar.Default().AddWorkingDays(time.Now(), 7)
	issued, err := desk.IssueApology(ctx, &enginev1.IssueApologyRequest{CaseId: owed.GetCaseId(),
		Reason: "Cơ sở dữ liệu cư trú gián đoạn", NewAppointmentAt: timestamppb.New(newDate)})
	require.NoError(t, err)
	number := issued.GetCase().GetApology().GetNumber()
	require.NotEmpty(t, number)

	// The engine learns it by the agency's push: the step keeps the slip,
	// and the dossier's appointment moves to the new date.
	var seen *enginev1.Dossier
	require.Eventually(t, func() bool {
		resp, err := s.clerk.GetDossier(ctx, &enginev1.GetDossierRequest{Code: code, Purpose: "lateness test"})
		if err != nil {
			return false
		}
		seen = resp.GetDossier()
		st := s.stepOf(seen, enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION)
		return st.GetApology().GetNumber() == number && seen.GetAppointmentAt().AsTime().Equal(newDate)
	}, 30*time.Second, 100*time.Millisecond, "the apology and the new appointment reach the read model")
	require.NotNil(t, seen)

	// The applicant is told the new date by SMS, with the apology.
	require.Eventually(t, func() bool {
		resp, err := s.clerk.GetDossier(ctx, &enginev1.GetDossierRequest{Code: code, Purpose: "lateness test"})
		if err != nil {
			return false
		}
		for _, n := range resp.GetNotifications() {
			if n.GetKind() == enginev1.NotificationKind_NOTIFICATION_KIND_APPOINTMENT && n.GetChannel() == enginev1.NotificationChannel_NOTIFICATION_CHANNEL_SMS &&
				n.GetState() == enginev1.NotificationState_NOTIFICATION_STATE_SENT {
				return strings.Contains(n.GetText(), newDate.In(civil.Zone).Format("02/01/2006")) && strings.Contains(n.GetText(), "xin lỗi")
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "the new date and the apology reach the applicant by SMS")

	list, err := supervisor.ListApologies(ctx, &enginev1.ListApologiesRequest{Agency: "police"})
	require.NoError(t, err)
	require.Len(t, list.GetByAgency(), 1)
	require.EqualValues(t, 1, list.GetByAgency()[0].GetIssued())
	require.Equal(t, code, list.GetApologies()[0].GetDossierCode())

	_, err = desk.ClaimCase(ctx, &enginev1.ClaimCaseRequest{CaseId: owed.GetCaseId()})
	require.NoError(t, err)
	_, err = desk.DecideCase(ctx, &enginev1.DecideCaseRequest{CaseId: owed.GetCaseId(), Decision: enginev1.CaseDecision_CASE_DECISION_APPROVE})
	require.NoError(t, err)
	d := s.waitTerminal(t, code, 60*time.Second)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
	s.checkConsistent(t, code)
	s.record(t, "death-late-police-apology", code)

	trace, err := supervisor.TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: code})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, ev := range trace.GetEvents() {
		kinds[ev.GetKind()]++
	}
	require.Equal(t, 1, kinds["apology_requested"], "asked once")
	require.Equal(t, 1, kinds["apology_issued"])
	require.Equal(t, 1, kinds["new_appointment"])
}
