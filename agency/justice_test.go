package agency_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/internal/pgtest"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestIdempotency(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})

	t.Run("same key twice gives one case", func(t *testing.T) {
		req := birthRequest(t, "")
		first, err := a.justice.RegisterBirth(a.ctx(t), req)
		require.NoError(t, err)
		again, err := a.justice.RegisterBirth(a.ctx(t), proto.CloneOf(req))
		require.NoError(t, err)
		require.Equal(t, first.GetCase().GetCaseId(), again.GetCase().GetCaseId())
		require.True(t, proto.Equal(first.GetCase(), again.GetCase()))
		require.Equal(t, 1, a.count(t, "justice.cases", "idempotency_key = '"+req.GetIdempotencyKey()+"'"))
		// The intake version travels in the answer; only later changes are pushed.
		require.Equal(t, 0, a.count(t, "justice.outbox", "case_id = '"+first.GetCase().GetCaseId()+"'"))

		byKey, err := a.cases.GetCase(a.ctx(t), &agencyv1.GetCaseRequest{IdempotencyKey: req.GetIdempotencyKey()})
		require.NoError(t, err)
		require.Equal(t, first.GetCase().GetCaseId(), byKey.GetCase().GetCaseId())
	})

	t.Run("different payload under the same key is refused", func(t *testing.T) {
		req := birthRequest(t, "")
		_, err := a.justice.RegisterBirth(a.ctx(t), req)
		require.NoError(t, err)
		changed := proto.CloneOf(req)
		changed.ChildFullName = "Nguyễn Minh Khoa"
		_, err = a.justice.RegisterBirth(a.ctx(t), changed)
		requireCode(t, codes.AlreadyExists, err)
		require.Contains(t, err.Error(), "idempotency key was already used for a different request")

		death := &agencyv1.RegisterDeathRequest{
			IdempotencyKey: req.GetIdempotencyKey(), DossierCode: "x", CommuneCode: "00004", DeceasedSex: agencyv1.Sex_SEX_MALE,
			Deceased: &agencyv1.PersonRef{FullName: "Lê Văn Tám"}, DeathTime: timestamppb.Now(),
		}
		_, err = a.justice.RegisterDeath(a.ctx(t), death)
		requireCode(t, codes.AlreadyExists, err)
		require.Equal(t, 1, a.count(t, "justice.cases", "idempotency_key = '"+req.GetIdempotencyKey()+"'"))
	})

	t.Run("bad input is refused field by field", func(t *testing.T) {
		req := birthRequest(t, "")
		req.CommuneCode = "99999"
		req.ChildFullName = "Nguyễn  Minh"
		req.ChildBirthTime = timestamppb.New(time.Now().Add(48 * time.Hour))
		_, err := a.justice.RegisterBirth(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		require.Contains(t, err.Error(), "3 fields")
		require.Equal(t, 0, a.count(t, "justice.cases", "idempotency_key = '"+req.GetIdempotencyKey()+"'"))
	})

	t.Run("a child's ID number must agree with sex and year", func(t *testing.T) {
		req := birthRequest(t, childID(t, civil.SexFemale, time.Now().Year(), 1))
		_, err := a.justice.RegisterBirth(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		require.Contains(t, err.Error(), "child_id_number")
	})
}

func TestManualMode(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})

	open := func(t *testing.T) *agencyv1.Case {
		t.Helper()
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 4242)))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, resp.GetCase().GetStatus())
		require.EqualValues(t, 1, resp.GetCase().GetVersion())
		return resp.GetCase()
	}

	t.Run("claim, conflicting claim, approve", func(t *testing.T) {
		t.Parallel()
		c := open(t)
		claimed, err := a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-a"})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW, claimed.GetCase().GetStatus())
		require.Equal(t, "officer-a", claimed.GetCase().GetClaimedBy())
		require.EqualValues(t, 2, claimed.GetCase().GetVersion())

		again, err := a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-a"})
		require.NoError(t, err)
		require.EqualValues(t, 2, again.GetCase().GetVersion())

		_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-b"})
		requireCode(t, codes.FailedPrecondition, err)
		require.Contains(t, err.Error(), "officer-a")
		_, err = a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-b", Decision: agencyv1.Decision_DECISION_APPROVE})
		requireCode(t, codes.FailedPrecondition, err)

		appointment := time.Now().Add(72 * time.Hour).Truncate(time.Second)
		decided, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_APPROVE,
			NewAppointmentAt: timestamppb.New(appointment),
		})
		require.NoError(t, err)
		got := decided.GetCase()
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, got.GetStatus())
		require.EqualValues(t, 3, got.GetVersion())
		require.NotNil(t, got.GetDecidedAt())
		require.True(t, appointment.Equal(got.GetNewAppointmentAt().AsTime()))
		book := got.GetResult()["registration_book"]
		require.True(t, strings.HasPrefix(book, "00004-"), book)
		require.Equal(t, book+"/"+got.GetResult()["registration_entry"], got.GetResult()["registration_number"])
		require.NotEmpty(t, got.GetResult()["extract_key_id"])
		require.NotEmpty(t, got.GetResult()["id_number"])

		_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-b"})
		requireCode(t, codes.FailedPrecondition, err)
		_, err = a.cases.WithdrawCase(a.ctx(t), &agencyv1.WithdrawCaseRequest{CaseId: c.GetCaseId()})
		requireCode(t, codes.FailedPrecondition, err)
	})

	t.Run("reject needs a reason", func(t *testing.T) {
		t.Parallel()
		c := open(t)
		_, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_REJECT})
		requireCode(t, codes.InvalidArgument, err)
		resp, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_REJECT, Reason: "the parents are not married and no paternity is declared",
		})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
		require.Equal(t, "the parents are not married and no paternity is declared", resp.GetCase().GetReason())
		require.EqualValues(t, 2, resp.GetCase().GetVersion())
		require.Empty(t, resp.GetCase().GetResult())
	})

	t.Run("supplement, then the applicant supplies it", func(t *testing.T) {
		t.Parallel()
		c := open(t)
		_, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT, Reason: "unreadable scan",
		})
		requireCode(t, codes.InvalidArgument, err)
		resp, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT,
			Reason: "unreadable scan", Missing: []string{"birth_certificate"},
		})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT, resp.GetCase().GetStatus())
		require.Equal(t, []string{"birth_certificate"}, resp.GetCase().GetMissing())

		supplement := &agencyv1.SupplementCaseRequest{CaseId: c.GetCaseId(), IdempotencyKey: key(t), Fields: map[string]string{"birth_certificate": "scan-2"}}
		reopened, err := a.cases.SupplementCase(a.ctx(t), supplement)
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, reopened.GetCase().GetStatus())
		require.EqualValues(t, 1, reopened.GetCase().GetSupplements())
		require.EqualValues(t, 3, reopened.GetCase().GetVersion())
		require.Empty(t, reopened.GetCase().GetMissing())

		retried, err := a.cases.SupplementCase(a.ctx(t), supplement)
		require.NoError(t, err)
		require.EqualValues(t, 3, retried.GetCase().GetVersion())
		other := proto.CloneOf(supplement)
		other.Fields = map[string]string{"birth_certificate": "scan-3"}
		_, err = a.cases.SupplementCase(a.ctx(t), other)
		requireCode(t, codes.AlreadyExists, err)
		_, err = a.cases.SupplementCase(a.ctx(t), &agencyv1.SupplementCaseRequest{CaseId: c.GetCaseId(), IdempotencyKey: key(t)})
		requireCode(t, codes.FailedPrecondition, err)
		require.Equal(t, 1, a.count(t, "justice.supplements", "case_id = '"+c.GetCaseId()+"'"))

		_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-b"})
		require.NoError(t, err)
		approved, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-b", Decision: agencyv1.Decision_DECISION_APPROVE})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, approved.GetCase().GetStatus())
		require.EqualValues(t, 5, approved.GetCase().GetVersion())
	})

	t.Run("a case whose supplement never came can be rejected", func(t *testing.T) {
		t.Parallel()
		c := open(t)
		ask := &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-a", Decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT,
			Reason: "unreadable scan", Missing: []string{"birth_certificate"},
		}
		_, err := a.cases.DecideCase(a.ctx(t), ask)
		require.NoError(t, err)
		again, err := a.cases.DecideCase(a.ctx(t), ask)
		require.NoError(t, err)
		require.EqualValues(t, 2, again.GetCase().GetVersion())
		resp, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{
			CaseId: c.GetCaseId(), Officer: "officer-b", Decision: agencyv1.Decision_DECISION_REJECT, Reason: "no supplement within 7 working days",
		})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
		require.Empty(t, resp.GetCase().GetMissing())
	})

	t.Run("withdraw", func(t *testing.T) {
		t.Parallel()
		c := open(t)
		resp, err := a.cases.WithdrawCase(a.ctx(t), &agencyv1.WithdrawCaseRequest{CaseId: c.GetCaseId(), Reason: "dossier cancelled"})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_WITHDRAWN, resp.GetCase().GetStatus())
		require.EqualValues(t, 2, resp.GetCase().GetVersion())
		again, err := a.cases.WithdrawCase(a.ctx(t), &agencyv1.WithdrawCaseRequest{CaseId: c.GetCaseId()})
		require.NoError(t, err)
		require.EqualValues(t, 2, again.GetCase().GetVersion())
		_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: c.GetCaseId(), Officer: "officer-a"})
		requireCode(t, codes.FailedPrecondition, err)
	})

	t.Run("unknown case", func(t *testing.T) {
		t.Parallel()
		_, err := a.cases.GetCase(a.ctx(t), &agencyv1.GetCaseRequest{CaseId: "JUS-nope"})
		requireCode(t, codes.NotFound, err)
		_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: "JUS-nope", Officer: "officer-a"})
		requireCode(t, codes.NotFound, err)
	})
}

func TestListCases(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
	var ids []string
	for range 5 {
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		ids = append(ids, resp.GetCase().GetCaseId())
	}
	_, err := a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: ids[0], Officer: "officer-a"})
	require.NoError(t, err)

	t.Run("pages through the queue oldest first", func(t *testing.T) {
		var seen []string
		token := ""
		for {
			resp, err := a.cases.ListCases(a.ctx(t), &agencyv1.ListCasesRequest{PageSize: 2, PageToken: token})
			require.NoError(t, err)
			require.LessOrEqual(t, len(resp.GetCases()), 2)
			for _, c := range resp.GetCases() {
				seen = append(seen, c.GetCaseId())
			}
			token = resp.GetNextPageToken()
			if token == "" {
				break
			}
		}
		require.Equal(t, ids, seen)
	})

	t.Run("filters by status and kind", func(t *testing.T) {
		resp, err := a.cases.ListCases(a.ctx(t), &agencyv1.ListCasesRequest{
			Statuses: []agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_RECEIVED}, Kind: "birth_registration",
		})
		require.NoError(t, err)
		require.Len(t, resp.GetCases(), 4)
		resp, err = a.cases.ListCases(a.ctx(t), &agencyv1.ListCasesRequest{Statuses: []agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW}})
		require.NoError(t, err)
		require.Len(t, resp.GetCases(), 1)
		require.Equal(t, ids[0], resp.GetCases()[0].GetCaseId())
		resp, err = a.cases.ListCases(a.ctx(t), &agencyv1.ListCasesRequest{Kind: "death_registration"})
		require.NoError(t, err)
		require.Empty(t, resp.GetCases())
	})

	t.Run("refuses a forged page token", func(t *testing.T) {
		_, err := a.cases.ListCases(a.ctx(t), &agencyv1.ListCasesRequest{PageToken: "!!"})
		requireCode(t, codes.InvalidArgument, err)
	})
}

func TestAutoMode(t *testing.T) {
	t.Parallel()

	t.Run("approves after a short delay", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "justice"})
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 7)))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, resp.GetCase().GetStatus())
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.EqualValues(t, 2, got.GetVersion())
	})

	t.Run("rejects by ratio with a reason", func(t *testing.T) {
		t.Parallel()
		auto := fastAuto()
		auto.RejectRatio = 1
		a := start(t, agency.Options{Name: "justice", Auto: auto})
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_REJECTED))
		require.Contains(t, got.GetReason(), "auto decision")
	})

	t.Run("asks for one supplement only", func(t *testing.T) {
		t.Parallel()
		auto := fastAuto()
		auto.SupplementRatio = 1
		a := start(t, agency.Options{Name: "justice", Auto: auto})
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 8)))
		require.NoError(t, err)
		id := resp.GetCase().GetCaseId()
		got := a.waitCase(t, id, hasStatus(agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT))
		require.Equal(t, []string{"birth_certificate"}, got.GetMissing())
		_, err = a.cases.SupplementCase(a.ctx(t), &agencyv1.SupplementCaseRequest{CaseId: id, IdempotencyKey: key(t)})
		require.NoError(t, err)
		got = a.waitCase(t, id, hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.EqualValues(t, 1, got.GetSupplements())
		require.EqualValues(t, 4, got.GetVersion())
	})

	t.Run("switches to manual and back at run time", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "justice"})
		set, err := a.admin.SetMode(a.adminCtx(t), &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
		require.NoError(t, err)
		require.Equal(t, agencyv1.DecisionMode_DECISION_MODE_MANUAL, set.GetSettings().GetMode())
		require.Equal(t, 30*time.Millisecond, set.GetSettings().GetAuto().GetMaxDelay().AsDuration(), "auto settings are kept")

		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		time.Sleep(150 * time.Millisecond)
		still, err := a.cases.GetCase(a.ctx(t), &agencyv1.GetCaseRequest{CaseId: resp.GetCase().GetCaseId()})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, still.GetCase().GetStatus())

		_, err = a.admin.SetMode(a.adminCtx(t), &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO})
		require.NoError(t, err)
		a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID))

		_, err = a.admin.SetMode(a.adminCtx(t), &agencyv1.SetModeRequest{
			Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO, Auto: &agencyv1.AutoDecider{RejectRatio: 0.7, SupplementRatio: 0.7},
		})
		requireCode(t, codes.InvalidArgument, err)
	})
}

func TestExtractSignatures(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	a := start(t, agency.Options{Name: "justice", Pool: pool})

	resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 99)))
	require.NoError(t, err)
	c := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
	got, err := a.justice.GetExtract(a.ctx(t), &agencyv1.GetExtractRequest{CaseId: c.GetCaseId()})
	require.NoError(t, err)
	extract := got.GetExtract()
	require.Equal(t, "birth", extract.GetKind())
	require.Equal(t, c.GetResult()["registration_book"], extract.GetRegistrationBook())
	require.Equal(t, c.GetResult()["extract_key_id"], extract.GetKeyId())
	require.Contains(t, string(extract.GetPayload()), `"full_name":"Nguyễn Minh Khang"`)

	verify := func(t *testing.T, e *agencyv1.Extract) *agencyv1.VerifyExtractResponse {
		t.Helper()
		resp, err := a.justice.VerifyExtract(a.ctx(t), &agencyv1.VerifyExtractRequest{Extract: e})
		require.NoError(t, err)
		return resp
	}

	t.Run("a valid extract verifies", func(t *testing.T) {
		resp := verify(t, extract)
		require.True(t, resp.GetAuthentic(), resp.GetReason())
	})

	t.Run("a changed byte fails", func(t *testing.T) {
		tampered := proto.CloneOf(extract)
		i := strings.Index(string(tampered.Payload), "Khang")
		tampered.Payload[i] = 'C'
		resp := verify(t, tampered)
		require.False(t, resp.GetAuthentic())
		require.Contains(t, resp.GetReason(), "changed after it was signed")

		sig := proto.CloneOf(extract)
		sig.Signature[0] ^= 1
		require.False(t, verify(t, sig).GetAuthentic())
	})

	t.Run("an envelope that disagrees with the signed content fails", func(t *testing.T) {
		moved := proto.CloneOf(extract)
		moved.RegistrationEntry = "9999"
		resp := verify(t, moved)
		require.False(t, resp.GetAuthentic())
		require.Contains(t, resp.GetReason(), "registration_entry")
	})

	t.Run("an unknown key fails", func(t *testing.T) {
		forged := proto.CloneOf(extract)
		forged.KeyId = "justice-000000000000"
		resp := verify(t, forged)
		require.False(t, resp.GetAuthentic())
		require.Contains(t, resp.GetReason(), "never used")
	})

	t.Run("a restart keeps the key", func(t *testing.T) {
		a.srv.Stop()
		b := start(t, agency.Options{Name: "justice", Pool: pool})
		resp, err := b.justice.VerifyExtract(b.ctx(t), &agencyv1.VerifyExtractRequest{Extract: extract})
		require.NoError(t, err)
		require.True(t, resp.GetAuthentic(), resp.GetReason())
		require.Equal(t, 1, b.count(t, "justice.signing_keys"))
	})

}

func TestAttachIdNumber(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
	approve := func(t *testing.T, id string) *agencyv1.Case {
		t.Helper()
		resp, err := a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{CaseId: id, Officer: "officer-a", Decision: agencyv1.Decision_DECISION_APPROVE})
		require.NoError(t, err)
		return resp.GetCase()
	}

	t.Run("moves an APPROVED_PENDING_ID case to APPROVED", func(t *testing.T) {
		t.Parallel()
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		pending := approve(t, resp.GetCase().GetCaseId())
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID, pending.GetStatus())
		require.NotEmpty(t, pending.GetResult()["registration_number"])
		require.NotContains(t, pending.GetResult(), "id_number")
		first, err := a.justice.GetExtract(a.ctx(t), &agencyv1.GetExtractRequest{CaseId: pending.GetCaseId()})
		require.NoError(t, err)
		require.NotContains(t, string(first.GetExtract().GetPayload()), "id_number")

		_, err = a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: pending.GetCaseId(), IdNumber: childID(t, civil.SexFemale, time.Now().Year(), 5)})
		requireCode(t, codes.InvalidArgument, err)

		id := bornYesterdayID(t, 123456)
		attached, err := a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: pending.GetCaseId(), IdNumber: id})
		require.NoError(t, err)
		got := attached.GetCase()
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, got.GetStatus())
		require.Equal(t, pending.GetVersion()+1, got.GetVersion())
		require.Equal(t, id, got.GetResult()["id_number"])
		require.Equal(t, pending.GetResult()["registration_number"], got.GetResult()["registration_number"])

		second, err := a.justice.GetExtract(a.ctx(t), &agencyv1.GetExtractRequest{CaseId: got.GetCaseId()})
		require.NoError(t, err)
		require.Contains(t, string(second.GetExtract().GetPayload()), `"id_number":"`+id+`"`)
		ok, err := a.justice.VerifyExtract(a.ctx(t), &agencyv1.VerifyExtractRequest{Extract: second.GetExtract()})
		require.NoError(t, err)
		require.True(t, ok.GetAuthentic())
		require.Empty(t, ok.GetReason())
		old, err := a.justice.VerifyExtract(a.ctx(t), &agencyv1.VerifyExtractRequest{Extract: first.GetExtract()})
		require.NoError(t, err)
		require.True(t, old.GetAuthentic())
		require.Contains(t, old.GetReason(), "superseded")

		again, err := a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: got.GetCaseId(), IdNumber: id})
		require.NoError(t, err)
		require.Equal(t, got.GetVersion(), again.GetCase().GetVersion())
		_, err = a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: got.GetCaseId(), IdNumber: bornYesterdayID(t, 654321)})
		requireCode(t, codes.FailedPrecondition, err)
	})

	t.Run("before a decision only records the number", func(t *testing.T) {
		t.Parallel()
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		id := bornYesterdayID(t, 222)
		attached, err := a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: resp.GetCase().GetCaseId(), IdNumber: id})
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, attached.GetCase().GetStatus())
		require.EqualValues(t, 1, attached.GetCase().GetVersion())
		_, err = a.justice.GetExtract(a.ctx(t), &agencyv1.GetExtractRequest{CaseId: resp.GetCase().GetCaseId()})
		requireCode(t, codes.FailedPrecondition, err)
		got := approve(t, resp.GetCase().GetCaseId())
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, got.GetStatus())
		require.Equal(t, id, got.GetResult()["id_number"])
	})

	t.Run("only for births", func(t *testing.T) {
		t.Parallel()
		resp, err := a.justice.RegisterDeath(a.ctx(t), &agencyv1.RegisterDeathRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0002", CommuneCode: "00004",
			Deceased:    &agencyv1.PersonRef{FullName: "Lê Văn Tám", BirthDate: "1950-01-02"},
			DeceasedSex: agencyv1.Sex_SEX_MALE, DeathTime: timestamppb.New(time.Now().Add(-2 * time.Hour)),
			DeathNoticeNumber: "GBT-1", DeathNoticeIssuer: "Bệnh viện Bạch Mai",
		})
		require.NoError(t, err)
		_, err = a.justice.AttachIdNumber(a.ctx(t), &agencyv1.AttachIdNumberRequest{CaseId: resp.GetCase().GetCaseId(), IdNumber: bornYesterdayID(t, 1)})
		requireCode(t, codes.FailedPrecondition, err)
		death := approve(t, resp.GetCase().GetCaseId())
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, death.GetStatus())
		require.Contains(t, death.GetResult()["registration_book"], "-KT")
		e, err := a.justice.GetExtract(a.ctx(t), &agencyv1.GetExtractRequest{CaseId: death.GetCaseId()})
		require.NoError(t, err)
		require.Equal(t, "death", e.GetExtract().GetKind())
	})
}
