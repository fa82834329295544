package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/freeport"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

func countDossiers(t *testing.T, e *env) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM engine.dossiers`).Scan(&n))
	return n
}

func requireCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	require.Equal(t, want, st.Code(), st.Message())
	return st
}

func TestSubmitIsIdempotent(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	now := time.Now()

	req := validBirth(now, "birth-idem-1")
	first, err := e.clerk().SubmitBirth(as(t, clerkA), req)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(first.GetCode(), "00004-"), first.GetCode())
	want := e.srv.cal.AddWorkingDays(first.GetDossier().GetReceivedAt().AsTime(), birthGroupDays)
	require.True(t, first.GetAppointmentAt().AsTime().Equal(want), "appointment %v, want %v", first.GetAppointmentAt().AsTime(), want)
	require.Len(t, first.GetDossier().GetSteps(), len(workflows.BirthSteps))

	// A retry (the same id, the phone written differently) is the same dossier.
	retry := validBirth(now, "birth-idem-1")
	retry.Form.Requester.Phone = "+84912345678"
	second, err := e.clerk().SubmitBirth(as(t, clerkA), retry)
	require.NoError(t, err)
	require.Equal(t, first.GetCode(), second.GetCode())
	require.Equal(t, 1, countDossiers(t, e))

	// The workflow runs, was started once, and is recorded as started. The
	// start follows the answer (the starters' queue), so wait for it.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(first.GetCode()), "")
		if assert.NoError(c, err) {
			assert.NotNil(c, desc.GetWorkflowExecutionInfo())
		}
		started, err := e.store.WorkflowStarted(context.Background(), first.GetCode())
		assert.NoError(c, err)
		assert.True(c, started, "recorded as started")
	}, 10*time.Second, 20*time.Millisecond)

	// The same id with another body is a conflict: AlreadyExists, 409 over REST.
	other := validBirth(now, "birth-idem-1")
	other.Form.Child.FullName = "Nguyễn Minh Anh"
	_, err = e.clerk().SubmitBirth(as(t, clerkA), other)
	requireCode(t, err, codes.AlreadyExists)
	body, err := protojson.Marshal(other)
	require.NoError(t, err)
	code, resp := e.rest(t, http.MethodPost, "/v1/dossiers/birth", token(t, clerkA), body)
	require.Equal(t, http.StatusConflict, code, resp)
	require.Contains(t, resp["message"], "birth-idem-1")
	require.Equal(t, 1, countDossiers(t, e))

	// The same through REST with the original body returns the dossier.
	body, err = protojson.Marshal(req)
	require.NoError(t, err)
	code, resp = e.rest(t, http.MethodPost, "/v1/dossiers/birth", token(t, clerkA), body)
	require.Equal(t, http.StatusOK, code, resp)
	require.Equal(t, first.GetCode(), resp["code"])

	// A submission is audited.
	audits, err := e.store.AuditOf(context.Background(), first.GetCode())
	require.NoError(t, err)
	require.NotEmpty(t, audits)
	require.Equal(t, "clerk:clerk-a", audits[0].Actor)
	require.Equal(t, "submit", audits[0].Action)
}

func TestSubmitDeathNotesLateRegistration(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	now := time.Now()
	req := validDeath(now, "death-late-1")
	req.Form.Deceased.DeathTime = timestamppb.New(now.AddDate(0, 0, -20))
	resp, err := e.clerk().SubmitDeath(as(t, clerkA), req)
	require.NoError(t, err)
	require.Len(t, resp.GetDossier().GetSteps(), 3, "bundle THREE adds the funeral allowance")
	want := e.srv.cal.AddWorkingDays(resp.GetDossier().GetReceivedAt().AsTime(), deathGroupDays)
	require.True(t, resp.GetAppointmentAt().AsTime().Equal(want))

	events, err := e.store.Events(context.Background(), resp.GetCode())
	require.NoError(t, err)
	kinds := make([]string, 0, len(events))
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	require.Contains(t, kinds, "late_registration")

	// The dossier carries the flag too, on the receipt and on every later read.
	wantLate := func(d *enginev1.Dossier) {
		t.Helper()
		require.Len(t, d.GetLateRegistrations(), 1)
		late := d.GetLateRegistrations()[0]
		require.Equal(t, enginev1.StepKind_STEP_KIND_DEATH_REGISTRATION, late.GetStep())
		require.EqualValues(t, 20, late.GetDays())
		require.EqualValues(t, DeathRegistrationDays, late.GetLimitDays())
		require.EqualValues(t, 5, late.GetDaysLate())
		require.Equal(t, "death", late.GetCountedFrom())
	}
	wantLate(resp.GetDossier())
	got, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: resp.GetCode(), Purpose: "test"})
	require.NoError(t, err)
	wantLate(got.GetDossier())

	two := validDeath(now, "death-two-1")
	two.Form.Bundle, two.Form.Recipient = enginev1.DeathBundle_DEATH_BUNDLE_TWO, nil
	resp, err = e.clerk().SubmitDeath(as(t, clerkA), two)
	require.NoError(t, err)
	require.Len(t, resp.GetDossier().GetSteps(), 2)
	require.Empty(t, resp.GetDossier().GetLateRegistrations(), "a death registered in time is not flagged")

	four := validDeathFour(now, "death-four-1")
	resp, err = e.clerk().SubmitDeath(as(t, clerkA), four)
	require.NoError(t, err)
	steps := resp.GetDossier().GetSteps()
	require.Len(t, steps, 4, "bundle FOUR adds the survivor benefit")
	require.Equal(t, enginev1.StepKind_STEP_KIND_SURVIVOR_BENEFIT, steps[3].GetKind())
	require.Equal(t, "insurance", steps[3].GetAgency())
	got, err = e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: resp.GetCode(), Purpose: "test"})
	require.NoError(t, err)
	require.Len(t, got.GetDossier().GetDeath().GetSurvivorBenefit().GetSurvivors(), 2, "the claim is stored with the form")
	require.NotNil(t, got.GetDossier().GetDeath().GetRecipient(), "bundle FOUR keeps the allowance's recipient")
}

func TestSubmitStartsWorkflowLaterWhenTemporalIsDown(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	down, err := client.NewLazyClient(client.Options{HostPort: freeport.Addr(t), Namespace: testNamespace, Logger: quietTemporalLogger{}})
	require.NoError(t, err)
	defer down.Close()

	e := newEnv(t, down)
	e.srv.startTimeout = time.Second
	req := validBirth(time.Now(), "birth-down-1")
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), req)
	require.NoError(t, err, "the clerk gets the receipt: the dossier is stored, and its workflow starts after")
	require.Equal(t, 1, countDossiers(t, e))
	require.Never(t, func() bool {
		started, err := e.store.WorkflowStarted(context.Background(), sub.GetCode())
		return err != nil || started
	}, 2*time.Second, 100*time.Millisecond, "with Temporal down, the start fails and waits for the sweeper")

	t.Run("with no starter running, the submission starts the workflow itself and says when it cannot", func(t *testing.T) {
		alone, err := New(context.Background(), Options{Store: e.store, Temporal: down, TokenKey: testKey, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
		require.NoError(t, err)
		alone.startTimeout = time.Second
		t.Cleanup(func() { alone.closeListeners(); _ = alone.gwConn.Close() })
		_, err = (&clerkService{s: alone}).SubmitBirth(auth.NewContext(context.Background(), clerkA), validBirth(time.Now(), "birth-down-2"))
		require.Equal(t, dossier.KindUnavailable, dossier.KindOf(err), "%v", err)
	})

	// A second API on the same database, with Temporal up: the client's retry
	// starts the workflow of the stored dossier.
	up, err := New(context.Background(), Options{Store: e.store, Temporal: tc, TokenKey: testKey, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	cs := &clerkService{s: up}
	ctx := auth.NewContext(context.Background(), clerkA)
	resp, err := cs.SubmitBirth(ctx, req)
	require.NoError(t, err)
	require.Equal(t, resp.GetCode(), sub.GetCode())
	require.Equal(t, 2, countDossiers(t, e))
	_, err = tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(resp.GetCode()), "")
	require.NoError(t, err)

	// A clerk who cancels a dossier whose workflow has not started yet is
	// not refused: the cancellation starts it first.
	queued, err := e.clerk().SubmitDeath(as(t, clerkA), validDeath(time.Now(), "death-down-1"))
	require.NoError(t, err)
	cancelled, err := cs.CancelDossier(ctx, &enginev1.CancelDossierRequest{Code: queued.GetCode(), Reason: "người dân rút hồ sơ"})
	require.NoError(t, err)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_CANCELLED, cancelled.GetDossier().GetStatus())
	up.closeListeners()
	_ = up.gwConn.Close()
}

func TestSweeperStartsStoredDossiers(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	old := seedDossier(t, e.store, dossier.GroupDeath, "00004", "001", time.Now().Add(-3*time.Minute), nil)
	fresh := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", time.Now(), nil)

	e.srv.sweep(context.Background())

	started, err := e.store.WorkflowStarted(context.Background(), old.Code)
	require.NoError(t, err)
	require.True(t, started)
	_, err = tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(old.Code), "")
	require.NoError(t, err)
	started, err = e.store.WorkflowStarted(context.Background(), fresh.Code)
	require.NoError(t, err)
	require.False(t, started, "a dossier younger than a minute is left to its own submission")
}

func TestRESTValidationIs400WithViolations(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	tok := token(t, clerkA)
	now := time.Now()

	bad := validBirth(now, "rest-bad-1")
	bad.Form.Child.FullName = ""
	bad.Form.Requester.Phone = "024 3825 1234"
	bad.Form.Residence.HouseholdHeadConsent = false
	body, err := protojson.Marshal(bad)
	require.NoError(t, err)
	code, resp := e.rest(t, http.MethodPost, "/v1/dossiers/birth", tok, body)
	require.Equal(t, http.StatusBadRequest, code, resp)
	vs := violationsOf(resp)
	require.Contains(t, vs, "form.child.full_name")
	require.Contains(t, vs, "form.requester.phone")
	require.Contains(t, vs, "form.residence.household_head_consent")

	// A relative of the survivor-benefit claim is named by its place in the list.
	four := validDeathFour(now, "rest-bad-2")
	four.Form.SurvivorBenefit.Survivors[1].WorkingCapacityLossPercent = 150
	body, err = protojson.Marshal(four)
	require.NoError(t, err)
	code, resp = e.rest(t, http.MethodPost, "/v1/dossiers/death", tok, body)
	require.Equal(t, http.StatusBadRequest, code, resp)
	require.Contains(t, violationsOf(resp)["form.survivor_benefit.survivors[1].working_capacity_loss_percent"], "0 to 100")

	code, _ = e.rest(t, http.MethodPost, "/v1/dossiers/birth", tok, `{"form": {"child": `)
	require.Equal(t, http.StatusBadRequest, code, "malformed JSON")
	code, _ = e.rest(t, http.MethodPost, "/v1/dossiers/birth", tok, `{"form": {"delivery": "BY_PIGEON"}}`)
	require.Equal(t, http.StatusBadRequest, code, "unknown enum")
	code, resp = e.rest(t, http.MethodPost, "/v1/dossiers/birth", tok, `{}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, violationsOf(resp), "request_id")

	code, resp = e.rest(t, http.MethodPost, "/v1/lookup", "", map[string]string{"code": "00004-260101-0001", "phone": "hello"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, violationsOf(resp), "phone")

	code, resp = e.rest(t, http.MethodGet, "/v1/dossiers?pageToken=garbage", tok, nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, violationsOf(resp), "page_token")
	require.Equal(t, 0, countDossiers(t, e))
}

func TestGetDossierAuditsPersonalData(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "get-audit-1"))
	require.NoError(t, err)
	code := sub.GetCode()

	got, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: code, Purpose: "trả kết quả"})
	require.NoError(t, err)
	form := got.GetDossier().GetBirth()
	require.NotNil(t, form, "a clerk sees the form")
	require.Equal(t, "+84912345678", form.GetRequester().GetPhone(), "the phone is stored in E.164")

	audits, err := e.store.AuditOf(context.Background(), code)
	require.NoError(t, err)
	last := audits[len(audits)-1]
	require.Equal(t, "view", last.Action)
	require.Equal(t, "trả kết quả", last.Purpose)
	require.Equal(t, "clerk", last.Role)

	// A supervisor reads the read model without the form, and no view is recorded.
	sup, err := e.clerk().GetDossier(as(t, supHN), &enginev1.GetDossierRequest{Code: code})
	require.NoError(t, err)
	require.Nil(t, sup.GetDossier().GetForm())
	after, err := e.store.AuditOf(context.Background(), code)
	require.NoError(t, err)
	require.Len(t, after, len(audits))

	// The supervisor's trace shows who viewed the data, and why.
	trace, err := e.supervisor().TraceDossier(as(t, supHN), &enginev1.TraceDossierRequest{Code: code})
	require.NoError(t, err)
	var viewed, audited bool
	for _, ev := range trace.GetEvents() {
		if ev.GetKind() == dossier.EventViewed && ev.GetActor() == "clerk:clerk-a" && strings.Contains(ev.GetDetail(), "trả kết quả") {
			viewed = true
		}
		if ev.GetKind() == "audit" && ev.GetOutcome() == "view" {
			audited = true
		}
	}
	require.True(t, viewed, "trace has the viewed event")
	require.True(t, audited, "trace has the audit row")

	// Reading the audit through the trace is itself audited.
	read, err := e.store.AuditOf(context.Background(), code)
	require.NoError(t, err)
	require.Len(t, read, len(audits)+1)
	require.Equal(t, store.AuditEntry{At: read[len(audits)].At, Actor: "supervisor:sup-hn", Role: "supervisor",
		Action: "read audit", Code: code, Purpose: "TraceDossier"}, read[len(audits)])
	_, err = e.supervisor().TraceDossier(as(t, supNA), &enginev1.TraceDossierRequest{Code: code})
	requireCode(t, err, codes.NotFound)
	refused, err := e.store.AuditOf(context.Background(), code)
	require.NoError(t, err)
	require.Len(t, refused, len(read), "a refused trace reads nothing and records nothing")
}

func TestSupplementCancelAndClosedWorkflows(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "supp-1"))
	require.NoError(t, err)
	code := sub.GetCode()
	e.waitStarted(t, code)

	// Police asks for a supplement on the residence step.
	rep, err := e.callback().ReportCase(as(t, agencyPolice), &enginev1.ReportCaseRequest{Case: &agencyv1.Case{
		CaseId: "p-1", Agency: "police", DossierCode: code, Step: "residence_registration",
		Status: agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT, Version: 2, Missing: []string{"household_book"},
	}})
	require.NoError(t, err)
	require.True(t, rep.GetApplied())
	require.Eventually(t, func() bool {
		v, err := tc.QueryWorkflow(context.Background(), workflows.WorkflowID(code), "", workflows.QueryState)
		if err != nil {
			return false
		}
		var snap dossier.Snapshot
		return v.Get(&snap) == nil && snap.Step(dossier.StepResidenceRegistration).Status == dossier.StepNeedsSupplement
	}, 10*time.Second, 50*time.Millisecond)

	_, err = e.clerk().SupplementDossier(as(t, clerkA), &enginev1.SupplementDossierRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION})
	st := requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "fields")

	_, err = e.clerk().SupplementDossier(as(t, clerkA), &enginev1.SupplementDossierRequest{
		Code: code, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD, Note: "ảnh hộ khẩu",
	})
	st = requireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "child_card is not awaiting a supplement")

	ok, err := e.clerk().SupplementDossier(as(t, clerkA), &enginev1.SupplementDossierRequest{
		Code: code, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION,
		Fields: map[string]string{"household_book": "SHK-123"}, RequestId: "supp-1-a",
	})
	require.NoError(t, err)
	for _, s := range ok.GetDossier().GetSteps() {
		if s.GetKind() == enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION {
			require.Equal(t, enginev1.StepStatus_STEP_STATUS_AWAITING_AGENCY, s.GetStatus())
		}
	}

	// Retry and escalate reach the workflow; its validators answer for the step.
	_, err = e.supervisor().RetryStep(as(t, supHN), &enginev1.RetryStepRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION})
	require.NoError(t, err)
	_, err = e.supervisor().RetryStep(as(t, supHN), &enginev1.RetryStepRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD})
	st = requireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "cannot be retried")
	_, err = e.supervisor().RetryStep(as(t, supHN), &enginev1.RetryStepRequest{Code: code})
	requireCode(t, err, codes.InvalidArgument)
	_, err = e.supervisor().EscalateStep(as(t, supHN), &enginev1.EscalateStepRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD, Note: "gọi BHXH"})
	require.NoError(t, err)

	_, err = e.clerk().CancelDossier(as(t, clerkA), &enginev1.CancelDossierRequest{Code: code})
	st = requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "reason")

	cancelled, err := e.clerk().CancelDossier(as(t, clerkA), &enginev1.CancelDossierRequest{Code: code, Reason: "người dân rút hồ sơ"})
	require.NoError(t, err)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_CANCELLED, cancelled.GetDossier().GetStatus())

	// The workflow has ended; the read model has not caught up in this test.
	require.Eventually(t, func() bool {
		d, err := tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(code), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	}, 10*time.Second, 50*time.Millisecond)
	_, err = e.clerk().SupplementDossier(as(t, clerkA), &enginev1.SupplementDossierRequest{
		Code: code, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION, Note: "again",
	})
	st = requireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "already finished")

	// Once the read model says so, the answer names the status.
	snap, err := e.store.Dossier(context.Background(), code)
	require.NoError(t, err)
	snap.Version, snap.Status, snap.At = 5, dossier.StatusCompleted, time.Now()
	_, err = e.store.ApplySnapshots(context.Background(), []dossier.Snapshot{snap}, nil)
	require.NoError(t, err)
	_, err = e.clerk().SupplementDossier(as(t, clerkA), &enginev1.SupplementDossierRequest{
		Code: code, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION, Note: "again",
	})
	st = requireCode(t, err, codes.FailedPrecondition)
	require.Equal(t, "dossier is already COMPLETED", st.Message())
	code2, resp := e.rest(t, http.MethodPost, "/v1/dossiers/"+code+"/cancel", token(t, clerkA), map[string]string{"reason": "x"})
	require.Equal(t, http.StatusBadRequest, code2, resp)
}

func TestReportCaseRules(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "report-1"))
	require.NoError(t, err)
	e.waitStarted(t, sub.GetCode())
	c := func(agency, step, code string) *enginev1.ReportCaseRequest {
		return &enginev1.ReportCaseRequest{Case: &agencyv1.Case{
			CaseId: "c", Agency: agency, DossierCode: code, Step: step, Status: agencyv1.CaseStatus_CASE_STATUS_APPROVED, Version: 1,
		}}
	}
	justice := auth.Claims{Subject: "agency-justice", Role: auth.RoleAgency, Agency: dossier.AgencyJustice}

	_, err = e.callback().ReportCase(as(t, justice), c("police", "residence_registration", sub.GetCode()))
	requireCode(t, err, codes.PermissionDenied) // another agency's case
	_, err = e.callback().ReportCase(as(t, justice), c("justice", "residence_registration", sub.GetCode()))
	requireCode(t, err, codes.PermissionDenied) // another agency's step
	_, err = e.callback().ReportCase(as(t, justice), c("justice", "no_such_step", sub.GetCode()))
	requireCode(t, err, codes.InvalidArgument)

	rep, err := e.callback().ReportCase(as(t, justice), c("justice", "birth_registration", sub.GetCode()))
	require.NoError(t, err)
	require.True(t, rep.GetApplied())
	// Duplicates are harmless.
	rep, err = e.callback().ReportCase(as(t, justice), c("justice", "birth_registration", sub.GetCode()))
	require.NoError(t, err)
	require.True(t, rep.GetApplied())

	rep, err = e.callback().ReportCase(as(t, justice), c("justice", "birth_registration", "00004-000101-0001"))
	require.NoError(t, err)
	require.False(t, rep.GetApplied(), "an unknown dossier is acknowledged, not an error")
}

func TestCitizenLookup(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "lookup-1"))
	require.NoError(t, err)
	code := sub.GetCode()
	snap, err := e.store.Dossier(context.Background(), code)
	require.NoError(t, err)
	snap.Version, snap.Status, snap.At, snap.ChangedStep = 1, dossier.StatusInProgress, time.Now(), dossier.StepBirthRegistration
	snap.Steps[0].Status, snap.Steps[0].Attempts, snap.Steps[0].LastError = dossier.StepAwaitingAgency, 2, "UNAVAILABLE: down"
	snap.Steps[0].Result = map[string]string{"registration_number": "KS-1"}
	_, err = e.store.ApplySnapshots(context.Background(), []dossier.Snapshot{snap}, nil)
	require.NoError(t, err)

	// No token needed: the code and phone are the credential.
	anon, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := e.citizen().LookupDossier(anon, &enginev1.LookupDossierRequest{Code: code, Phone: "+84 912 345 678"})
	require.NoError(t, err)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_IN_PROGRESS, resp.GetStatus())
	require.Len(t, resp.GetTimeline(), 2)
	require.Equal(t, "dossier received", resp.GetTimeline()[0].GetNote())
	require.Equal(t, enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION, resp.GetTimeline()[1].GetStep())
	first := resp.GetSteps()[0]
	require.Equal(t, enginev1.StepStatus_STEP_STATUS_AWAITING_AGENCY, first.GetStatus())
	require.Empty(t, first.GetResult(), "no agency results")
	require.Empty(t, first.GetLastError())
	require.Zero(t, first.GetAttempts())

	_, err = e.citizen().LookupDossier(as(t, citizen), &enginev1.LookupDossierRequest{Code: code, Phone: "0912345678"})
	require.NoError(t, err)

	_, err = e.citizen().LookupDossier(anon, &enginev1.LookupDossierRequest{Code: code, Phone: "0987000000"})
	wrong := requireCode(t, err, codes.NotFound)
	_, err = e.citizen().LookupDossier(anon, &enginev1.LookupDossierRequest{Code: "00004-000101-0001", Phone: "0912345678"})
	unknown := requireCode(t, err, codes.NotFound)
	require.Equal(t, unknown.Message(), wrong.Message(), "a wrong phone reads exactly like an unknown code")

	code3, body := e.rest(t, http.MethodPost, "/v1/lookup", "", map[string]string{"code": code, "phone": "0912345678"})
	require.Equal(t, http.StatusOK, code3, body)
}

// lookupAt calls the REST look-up at base, as the load balancer would for
// the client from.
func lookupAt(t *testing.T, base, from, code, phone string) (int, string) {
	t.Helper()
	b, err := json.Marshal(map[string]string{"code": code, "phone": phone})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/v1/lookup", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", from)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// behindProxy trusts the test's own address as the load balancer, so
// X-Forwarded-For names the client.
func behindProxy(o *Options) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }

// The applicant's phone in validBirth, as typed.
const rightPhone = "0912345678"

// statuses counts answers by HTTP status.
func statuses(t *testing.T, n int, call func(i int) int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	out := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			st := call(i)
			mu.Lock()
			out[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// The look-up throttles the client and the client's pair with the code,
// in PostgreSQL: an attacker's wrong tries slow the attacker, with growing
// waits, and never the applicant; a flood of made-up codes blocks the
// flooder and is still counted; replicas share the count.
func TestLookupThrottle(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc, behindProxy)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "throttle-1"))
	require.NoError(t, err)
	code := sub.GetCode()
	lookup := func(t *testing.T, from, code, phone string) (int, string) {
		t.Helper()
		return lookupAt(t, e.base, from, code, phone)
	}
	const attacker, applicant, flooder = "203.0.113.5", "198.51.100.7", "192.0.2.44"

	t.Run("wrong phones slow the attacker, with growing waits", func(t *testing.T) {
		for i := range lookupPairPolicy.Free {
			st, _ := lookup(t, attacker, code, fmt.Sprintf("091000000%d", i))
			require.Equal(t, http.StatusNotFound, st, "try %d is free", i+1)
		}
		st, body := lookup(t, attacker, code, "0910000009")
		require.Equal(t, http.StatusTooManyRequests, st, body)
		require.Contains(t, body, "try again in 2 s")
		st, _ = lookup(t, attacker, code, rightPhone)
		require.Equal(t, http.StatusTooManyRequests, st, "while refused, even the right phone from the attacker waits")
	})

	t.Run("the applicant is never locked out by someone else", func(t *testing.T) {
		st, body := lookup(t, applicant, code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
	})

	t.Run("200 wrong phones from client A on one code, then the right phone from client B: 200", func(t *testing.T) {
		const a, b = "203.0.113.20", "198.51.100.20"
		got := map[int]int{}
		for i := range 200 {
			st, _ := lookup(t, a, code, fmt.Sprintf("0910%06d", i))
			got[st]++
		}
		require.Equal(t, map[int]int{http.StatusNotFound: lookupPairPolicy.Free, http.StatusTooManyRequests: 200 - lookupPairPolicy.Free}, got)
		st, body := lookup(t, b, code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
		st, _ = lookup(t, a, code, rightPhone)
		require.Equal(t, http.StatusTooManyRequests, st, "A itself still waits")
	})

	t.Run("right answers keep working under an attack on the same code", func(t *testing.T) {
		stop := make(chan struct{})
		var attack sync.WaitGroup
		for i := range 8 {
			attack.Go(func() {
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					default:
					}
					lookup(t, fmt.Sprintf("203.0.113.%d", 100+i), code, fmt.Sprintf("0911%06d", j))
				}
			})
		}
		for range 20 {
			st, body := lookup(t, applicant, code, rightPhone)
			require.Equal(t, http.StatusOK, st, body)
		}
		close(stop)
		attack.Wait()
	})

	t.Run("a flood of made-up codes blocks the flooder and is still counted", func(t *testing.T) {
		for i := range lookupClientPolicy.Free {
			st, _ := lookup(t, flooder, fmt.Sprintf("00004-000101-%04d", i), rightPhone)
			require.Equal(t, http.StatusNotFound, st)
		}
		st, _ := lookup(t, flooder, "00004-000101-9999", rightPhone)
		require.Equal(t, http.StatusTooManyRequests, st)
		st, _ = lookup(t, flooder, code, rightPhone)
		require.Equal(t, http.StatusTooManyRequests, st, "a blocked client is refused on every code")
		require.Equal(t, lookupClientPolicy.Free+2, throttleRowsOf(t, e, flooder), "one row per code tried, and the client's")
		st, body := lookup(t, applicant, code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
	})

	// The handler is called in-process, as the gateway would call it, to
	// make 100,001 real attempts in seconds (10,001 in the fast loop).
	t.Run("100,001 made-up codes from one client, then guesses on a real code: still throttled", func(t *testing.T) {
		const from = "192.0.2.99"
		flood := int64(100_001)
		if testing.Short() {
			flood = 10_001
		}
		cs := &citizenService{s: e.srv}
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(mdClient, from, mdGatewayKey, e.srv.gatewayKey))
		var next, judged, refused atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 8 {
			wg.Go(func() {
				for i := next.Add(1); i <= flood; i = next.Add(1) {
					_, err := cs.LookupDossier(ctx, &enginev1.LookupDossierRequest{Code: fmt.Sprintf("made-up-%06d", i), Phone: rightPhone})
					switch {
					case status.Code(err) == codes.ResourceExhausted:
						refused.Add(1)
					case dossier.KindOf(err) == dossier.KindNotFound:
						judged.Add(1)
					default:
						t.Errorf("attempt %d: %v", i, err)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%d attempts in %v", flood, time.Since(start))
		require.EqualValues(t, lookupClientPolicy.Free, judged.Load(), "the free tries are answered; the next starts the wait")
		require.EqualValues(t, flood-int64(lookupClientPolicy.Free), refused.Load())
		// Only the attempts that found no wait were counted, each with its
		// code's row: the free ones, then one each time a doubled wait ran out.
		var counted int
		require.NoError(t, e.store.Pool().QueryRow(context.Background(),
			`SELECT failures FROM engine.lookup_throttle WHERE key = 'c:' || $1`, from).Scan(&counted))
		require.Equal(t, counted+1, throttleRowsOf(t, e, from), "refused attempts add no rows")
		require.Less(t, counted, lookupClientPolicy.Free+1+8, "a few waits of 2 s, 4 s, 8 s ... ran out during the flood, no more")

		for _, phone := range []string{"0987000001", "0987000002", rightPhone} {
			_, err := cs.LookupDossier(ctx, &enginev1.LookupDossierRequest{Code: code, Phone: phone})
			requireCode(t, err, codes.ResourceExhausted)
		}
		st, body := lookup(t, applicant, code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
	})

	t.Run("the limit holds across two API replicas", func(t *testing.T) {
		other := newEnvOn(t, tc, e.pool, behindProxy)
		bases := []string{e.base, other.base}
		const guesser, flood = "192.0.2.80", "192.0.2.81"
		got := statuses(t, 40, func(i int) int {
			st, _ := lookupAt(t, bases[i%2], guesser, code, fmt.Sprintf("0912%06d", i))
			return st
		})
		require.Equal(t, map[int]int{http.StatusNotFound: lookupPairPolicy.Free, http.StatusTooManyRequests: 40 - lookupPairPolicy.Free}, got,
			"parallel guesses on both replicas get the free tries once")
		got = statuses(t, 80, func(i int) int {
			st, _ := lookupAt(t, bases[i%2], flood, fmt.Sprintf("00004-000102-%04d", i), rightPhone)
			return st
		})
		require.Equal(t, map[int]int{http.StatusNotFound: lookupClientPolicy.Free, http.StatusTooManyRequests: 80 - lookupClientPolicy.Free}, got)
		st, body := lookupAt(t, other.base, applicant, code, rightPhone)
		require.Equal(t, http.StatusOK, st, body)
	})

	t.Run("only the gateway may name the client", func(t *testing.T) {
		forged := metadata.NewIncomingContext(context.Background(), metadata.Pairs(mdClient, applicant, mdGatewayKey, "guessed"))
		require.Equal(t, "unknown", e.srv.clientOfCtx(forged), "a forged key names nobody")
		real := metadata.NewIncomingContext(context.Background(), metadata.Pairs(mdClient, applicant, mdGatewayKey, e.srv.gatewayKey))
		require.Equal(t, applicant, e.srv.clientOfCtx(real))
		require.Equal(t, "2001:db8:1:2::/64", clientKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1")), "an IPv6 client is its /64")
	})

	t.Run("pruning keeps the table bounded, oldest first", func(t *testing.T) {
		n, err := e.store.PruneThrottle(context.Background(), time.Now(), time.Hour, 5)
		require.NoError(t, err)
		require.Positive(t, n)
		var rows int
		require.NoError(t, e.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engine.lookup_throttle`).Scan(&rows))
		require.Equal(t, 5, rows)
	})
}

// throttleRowsOf counts the throttle's rows about one client.
func throttleRowsOf(t *testing.T, e *env, client string) int {
	t.Helper()
	var rows int
	require.NoError(t, e.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM engine.lookup_throttle WHERE key = 'c:' || $1 OR key LIKE 'p:' || $1 || '|%'`, client).Scan(&rows))
	return rows
}

func TestListDossiersPagesAndScopes(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	base := time.Now().Add(-10 * time.Hour)
	var want []string
	for i := range 5 {
		s := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", base.Add(time.Duration(i)*time.Hour), nil)
		want = append([]string{s.Code}, want...)
	}
	late := seedDossier(t, e.store, dossier.GroupDeath, "00008", "001", base.Add(-100*time.Hour), func(s *dossier.Snapshot) {
		s.Status = dossier.StatusInProgress
	})
	seedDossier(t, e.store, dossier.GroupBirth, "16681", "040", base, nil)

	var got []string
	token := ""
	pages := 0
	for {
		resp, err := e.clerk().ListDossiers(as(t, clerkA), &enginev1.ListDossiersRequest{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		pages++
		for _, d := range resp.GetDossiers() {
			got = append(got, d.GetCode())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	require.Equal(t, want, got, "newest first, own commune only")
	require.Equal(t, 3, pages)

	resp, err := e.clerk().ListDossiers(as(t, supHN), &enginev1.ListDossiersRequest{OverdueOnly: true})
	require.NoError(t, err)
	require.Len(t, resp.GetDossiers(), 1)
	require.Equal(t, late.Code, resp.GetDossiers()[0].GetCode())
	require.True(t, resp.GetDossiers()[0].GetOverdue())

	resp, err = e.clerk().ListDossiers(as(t, supNational), &enginev1.ListDossiersRequest{Group: enginev1.Group_GROUP_DEATH})
	require.NoError(t, err)
	require.Len(t, resp.GetDossiers(), 1)
	resp, err = e.clerk().ListDossiers(as(t, admin), &enginev1.ListDossiersRequest{
		Statuses: []enginev1.DossierStatus{enginev1.DossierStatus_DOSSIER_STATUS_RECEIVED}, ProvinceCode: "040",
	})
	require.NoError(t, err)
	require.Len(t, resp.GetDossiers(), 1)

	_, err = e.clerk().ListDossiers(as(t, clerkA), &enginev1.ListDossiersRequest{CommuneCode: "16681"})
	requireCode(t, err, codes.PermissionDenied)
	_, err = e.clerk().ListDossiers(as(t, supHN), &enginev1.ListDossiersRequest{ProvinceCode: "040"})
	requireCode(t, err, codes.PermissionDenied)
}

func TestListStuckDiagnoses(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	ctx := context.Background()
	now := time.Now()
	future := now.Add(48 * time.Hour)
	week := now.AddDate(0, 0, -7)
	mark := func(s dossier.Snapshot) dossier.Snapshot {
		require.NoError(t, e.store.MarkWorkflowStarted(ctx, s.Code))
		return s
	}
	at := func(t time.Time) *time.Time { return &t }

	failing := mark(seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", week, func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, future
		st := s.Step(dossier.StepResidenceRegistration)
		st.Status, st.StatusSince, st.StartedAt, st.DueAt = dossier.StepSending, week, at(week), at(future)
		st.Attempts, st.LastError, st.LastErrorCode = 14, "UNAUTHENTICATED: unknown API key", "UNAUTHENTICATED"
	}))
	lateID := mark(seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-2*time.Hour), func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, future
		st := s.Step(dossier.StepIDNumber)
		st.Status, st.StatusSince, st.StartedAt, st.DueAt = dossier.StepAwaitingAgency, now.Add(-2*time.Hour), at(now.Add(-2*time.Hour)), at(future)
	}))
	supplement := mark(seedDossier(t, e.store, dossier.GroupBirth, "00008", "001", now.Add(-30*time.Minute), func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusNeedsSupplement, future
		st := s.Step(dossier.StepChildCard)
		st.Status, st.StatusSince, st.StartedAt, st.DueAt = dossier.StepNeedsSupplement, now.Add(-10*time.Minute), at(now.Add(-20*time.Minute)), at(future)
		st.Missing = []string{"birth_extract"}
	}))
	overdue := mark(seedDossier(t, e.store, dossier.GroupDeath, "00004", "001", now.Add(-96*time.Hour), func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, now.Add(-time.Hour)
		st := s.Step(dossier.StepDeathRegistration)
		st.Status, st.StatusSince, st.StartedAt, st.DueAt = dossier.StepAwaitingAgency, now.Add(-5*time.Minute), at(now.Add(-90*time.Hour)), at(now.Add(-80*time.Hour))
	}))
	unstarted := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-5*time.Minute), nil)
	mark(seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-5*time.Minute), func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, future
		st := s.Step(dossier.StepBirthRegistration)
		st.Status, st.StatusSince, st.StartedAt, st.DueAt = dossier.StepAwaitingAgency, now.Add(-4*time.Minute), at(now.Add(-4*time.Minute)), at(future)
	}))
	mark(seedDossier(t, e.store, dossier.GroupBirth, "16681", "040", now.Add(-3*time.Hour), func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, future
		st := s.Step(dossier.StepBirthRegistration)
		st.Status, st.StatusSince, st.DueAt = dossier.StepAwaitingAgency, now.Add(-3*time.Hour), at(future)
	}))

	resp, err := e.supervisor().ListStuck(as(t, supHN), &enginev1.ListStuckRequest{})
	require.NoError(t, err)
	byCode := map[string]*enginev1.StuckCase{}
	for _, c := range resp.GetCases() {
		require.Equal(t, "001", c.GetProvinceCode(), "a province supervisor sees the own province")
		byCode[c.GetCode()] = c
	}
	require.Len(t, byCode, 5, "every stuck dossier once, the healthy one not at all")

	c := byCode[failing.Code]
	require.Equal(t, enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING, c.GetRule())
	require.Equal(t, "sending to Police residence registration for "+e.srv.elapsed(week, time.Now())+
		", 14 failed attempts, last error UNAUTHENTICATED", c.GetDiagnosis())
	require.Contains(t, c.GetRemedy(), "credentials")
	require.Equal(t, "UNAUTHENTICATED", c.GetLastErrorCode(), "the code comes typed, beside the message")
	require.EqualValues(t, 14, c.GetAttempts())

	require.Equal(t, enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER, byCode[lateID.Code].GetRule())
	require.Contains(t, byCode[lateID.Code].GetDiagnosis(), "waiting on Police ID number for 2h")
	require.Equal(t, enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT, byCode[supplement.Code].GetRule())
	require.Contains(t, byCode[supplement.Code].GetDiagnosis(), "missing: birth_extract")
	require.Equal(t, enginev1.StuckRule_STUCK_RULE_OVERDUE, byCode[overdue.Code].GetRule())
	require.Contains(t, byCode[overdue.Code].GetDiagnosis(), "past its deadline")
	require.Contains(t, byCode[overdue.Code].GetRemedy(), "Escalate to justice")
	require.Equal(t, enginev1.StuckRule_STUCK_RULE_IDLE, byCode[unstarted.Code].GetRule())
	require.Contains(t, byCode[unstarted.Code].GetDiagnosis(), "workflow has not started")

	resp, err = e.supervisor().ListStuck(as(t, admin), &enginev1.ListStuckRequest{Rules: []enginev1.StuckRule{enginev1.StuckRule_STUCK_RULE_OVERDUE}})
	require.NoError(t, err)
	require.Len(t, resp.GetCases(), 1)
	require.Equal(t, overdue.Code, resp.GetCases()[0].GetCode())

	resp, err = e.supervisor().ListStuck(as(t, supNational), &enginev1.ListStuckRequest{Agency: "police", IdleMinutes: 120})
	require.NoError(t, err)
	require.Len(t, resp.GetCases(), 2, "the residence and ID number steps")

	resp, err = e.supervisor().ListStuck(as(t, supNA), &enginev1.ListStuckRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetCases(), 1)
	require.Equal(t, "040", resp.GetCases()[0].GetProvinceCode())
	_, err = e.supervisor().ListStuck(as(t, supNA), &enginev1.ListStuckRequest{ProvinceCode: "001"})
	requireCode(t, err, codes.PermissionDenied)

	// The gauges count the same from the read model.
	e.srv.refreshGauges(ctx)
	code, _ := e.rest(t, http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, code)
	metrics := httpGet(t, e.base+"/metrics")
	require.Contains(t, metrics, "lienthong_steps_stuck 6")
	require.Contains(t, metrics, "lienthong_dossiers_overdue 1")
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp := httpDo(t, url)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func httpDo(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

func TestStatistics(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	// 2026-03-02 17:30 UTC is already 3 March in Vietnam.
	received := time.Date(2026, 3, 2, 17, 30, 0, 0, time.UTC)
	for i, secs := range []int{60, 120, 600} {
		seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", received.Add(time.Duration(i)*time.Minute), func(s *dossier.Snapshot) {
			s.Status = dossier.StatusInProgress
			st := s.Step(dossier.StepBirthRegistration)
			started := received
			decided := started.Add(time.Duration(secs) * time.Second)
			due := started.Add(5 * time.Minute)
			st.Status, st.StartedAt, st.DecidedAt, st.DueAt = dossier.StepApproved, &started, &decided, &due
		})
	}
	seedDossier(t, e.store, dossier.GroupDeath, "16681", "040", received, nil)

	resp, err := e.supervisor().GetStatistics(as(t, supNational), &enginev1.GetStatisticsRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetCounts(), 2)
	require.EqualValues(t, 3, resp.GetCounts()[0].GetCount())
	require.Len(t, resp.GetStepTimings(), 1)
	st := resp.GetStepTimings()[0]
	require.Equal(t, "justice", st.GetAgency())
	require.EqualValues(t, 3, st.GetDecided())
	require.EqualValues(t, 2, st.GetOnTime())
	require.InDelta(t, 2.0/3, st.GetOnTimeRate(), 1e-9)
	// Seconds come from the statistics' rollup, within its error.
	require.InEpsilon(t, 120, st.GetP50Seconds(), store.PercentileError)
	require.InEpsilon(t, 504, st.GetP90Seconds(), store.PercentileError)
	require.Len(t, resp.GetVolume(), 2)
	require.Equal(t, "2026-03-03", resp.GetVolume()[0].GetDay())
	require.Len(t, resp.GetCalendarWarnings(), len(e.srv.cal.MissingYears(time.Now())), "the statistics carry the calendar's warnings")

	resp, err = e.supervisor().GetStatistics(as(t, supNA), &enginev1.GetStatisticsRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetCounts(), 1)
	require.Equal(t, "040", resp.GetCounts()[0].GetProvinceCode())

	_, err = e.supervisor().GetStatistics(as(t, admin), &enginev1.GetStatisticsRequest{
		From: timestamppb.New(received), Until: timestamppb.New(received.Add(-time.Hour)),
	})
	requireCode(t, err, codes.InvalidArgument)
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc, func(o *Options) {
		o.DevSamples = map[string]json.RawMessage{"birth": json.RawMessage(`{"communeCode":"00004"}`)}
	})

	require.Contains(t, httpGet(t, e.base+"/healthz"), "ok")
	require.Eventually(t, func() bool {
		resp := httpDo(t, e.base+"/readyz")
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 200*time.Millisecond, "ready once Temporal, PostgreSQL and a worker answer")

	docs, err := os.ReadFile("../docs/openapi/lienthong.swagger.json")
	require.NoError(t, err)
	require.Equal(t, string(docs), httpGet(t, e.base+"/openapi.json"))

	page := httpGet(t, e.base+"/")
	require.Contains(t, page, "Liên thông")
	require.Contains(t, httpGet(t, e.base+"/console/dev-samples"), "00004")

	metrics := httpGet(t, e.base+"/metrics")
	require.Contains(t, metrics, "lienthong_dossiers_overdue")
	require.Contains(t, metrics, "lienthong_steps_stuck")

	// gRPC health and an unauthenticated REST call.
	code, _ := e.rest(t, http.MethodGet, "/v1/dossiers", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)

	// Outside dev the samples do not exist.
	plain := newEnv(t, tc)
	resp := httpDo(t, plain.base+"/console/dev-samples")
	_ = resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestOpenAPICopyIsCurrent(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile("../docs/openapi/lienthong.swagger.json")
	require.NoError(t, err)
	require.Equal(t, string(docs), string(openAPI), "copy docs/openapi/lienthong.swagger.json to api/openapi.json")
}

func TestStepTimingsCountWorkingTime(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	// Sent on Friday at 16:00 and decided on Monday at 09:00: 65 hours on the
	// clock, two in the office.
	started := time.Date(2026, 3, 6, 16, 0, 0, 0, civil.Zone)
	decided := time.Date(2026, 3, 9, 9, 0, 0, 0, civil.Zone)
	seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", started, func(s *dossier.Snapshot) {
		s.Status = dossier.StatusInProgress
		st := s.Step(dossier.StepBirthRegistration)
		st.Status, st.StartedAt, st.DecidedAt = dossier.StepApproved, &started, &decided
	})
	resp, err := e.supervisor().GetStatistics(as(t, supNational), &enginev1.GetStatisticsRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetStepTimings(), 1)
	st := resp.GetStepTimings()[0]
	require.InEpsilon(t, 65*3600, st.GetP50Seconds(), store.PercentileError)
	require.InDelta(t, 2, st.GetP50WorkingHours(), 1e-9)
	require.InDelta(t, 2, st.GetP90WorkingHours(), 1e-9)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	require.Zero(t, percentile(nil, 0.5))
	require.InDelta(t, 3, percentile([]float64{3}, 0.9), 1e-9)
	// As PostgreSQL's percentile_cont: 1, 2, 10 -> p50 2, p90 8.4.
	require.InDelta(t, 2, percentile([]float64{10, 1, 2}, 0.5), 1e-9)
	require.InDelta(t, 8.4, percentile([]float64{10, 1, 2}, 0.9), 1e-9)
}

func TestReadModelGauges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, temporalClient(t))
	_, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "gauges-1"))
	require.NoError(t, err)
	e.srv.refreshGauges(context.Background())

	metrics := httpGet(t, e.base+"/metrics")
	require.Regexp(t, `(?m)^lienthong_dossiers\{group="birth",status="RECEIVED"\} 1$`, metrics)
	require.Regexp(t, `(?m)^lienthong_dossiers\{group="death",status="COMPLETED"\} 0$`, metrics, "every status has a series")
	for _, r := range stuckRuleLabels {
		require.Regexp(t, `(?m)^lienthong_steps_stuck_by_rule\{rule="`+r.label+`"\} \d+$`, metrics)
	}
}
