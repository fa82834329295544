package agency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// newborn asks for an ID number, issued at once.
func newborn(t *testing.T, a *agencyUnderTest) string {
	t.Helper()
	resp, err := a.police.IssueIdNumber(a.ctx(t), &agencyv1.IssueIdNumberRequest{
		IdempotencyKey: key(t), DossierCode: "00004-250701-0003", Step: "id_number", ProvinceCode: "001",
		FullName: "Phạm Gia Bảo", Sex: agencyv1.Sex_SEX_FEMALE, BirthDate: time.Now().In(civil.Zone).Format(time.DateOnly),
	})
	require.NoError(t, err)
	require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, resp.GetCase().GetStatus())
	return resp.GetCase().GetResult()["id_number"]
}

func TestPoliceRules(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "police", SeedPeople: testPeople})
	pop := population.Generate(testSeed, testPeople)
	households := pop.Households()

	t.Run("issues a valid, unique ID number at once", func(t *testing.T) {
		t.Parallel()
		req := &agencyv1.IssueIdNumberRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0004", ProvinceCode: "079",
			FullName: "Võ Thanh Tùng", Sex: agencyv1.Sex_SEX_MALE, BirthDate: "2025-06-30",
		}
		resp, err := a.police.IssueIdNumber(a.ctx(t), req)
		require.NoError(t, err)
		id := resp.GetCase().GetResult()["id_number"]
		require.NoError(t, civil.CheckIDAgrees(id, civil.SexMale, 2025))
		require.Equal(t, "079", id[:3])
		again, err := a.police.IssueIdNumber(a.ctx(t), req)
		require.NoError(t, err)
		require.Equal(t, id, again.GetCase().GetResult()["id_number"])
		require.Equal(t, 1, a.count(t, "police.persons", "issued_by_case = '"+resp.GetCase().GetCaseId()+"'"))

		person, err := a.police.LookupPerson(a.ctx(t), &agencyv1.LookupPersonRequest{IdNumber: id})
		require.NoError(t, err)
		require.Equal(t, "2025-06-30", person.GetPerson().GetBirthDate())
		require.False(t, person.GetPerson().GetResident())
	})

	t.Run("looks up seeded people", func(t *testing.T) {
		t.Parallel()
		p := pop.Person(0)
		resp, err := a.police.LookupPerson(a.ctx(t), &agencyv1.LookupPersonRequest{IdNumber: p.IDNumber})
		require.NoError(t, err)
		got := resp.GetPerson()
		require.Equal(t, p.FullName, got.GetFullName())
		require.Equal(t, p.BirthDate.Format(time.DateOnly), got.GetBirthDate())
		require.Equal(t, p.HouseholdID, got.GetHouseholdId())
		require.True(t, got.GetResident())
		_, err = a.police.LookupPerson(a.ctx(t), &agencyv1.LookupPersonRequest{IdNumber: childID(t, civil.SexMale, 1990, 999999)})
		requireCode(t, codes.NotFound, err)
	})

	residence := func(t *testing.T, child string, h population.Household, consent bool) *agencyv1.RegisterResidenceRequest {
		return &agencyv1.RegisterResidenceRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0005", Step: "residence_registration",
			IdNumber: child, FullName: "Phạm Gia Bảo", BirthDate: time.Now().In(civil.Zone).Format(time.DateOnly),
			ProvinceCode: h.Province, CommuneCode: h.CommuneCode, StreetAddress: h.Address,
			HouseholdHeadIdNumber: h.HeadIDNumber, HouseholdHeadConsent: consent, BirthRegistrationNumber: "00004-2025-KS/1",
		}
	}

	for _, tc := range []struct {
		name   string
		modify func(*agencyv1.RegisterResidenceRequest)
		reason string
	}{
		{"residence without the head's consent is rejected", func(r *agencyv1.RegisterResidenceRequest) { r.HouseholdHeadConsent = false }, "not consented"},
		{"residence without a birth record is rejected", func(r *agencyv1.RegisterResidenceRequest) { r.BirthRegistrationNumber = "" }, "birth registration"},
		{"residence in another commune's household is rejected", func(r *agencyv1.RegisterResidenceRequest) {
			for _, c := range civil.Communes() {
				if c.Code != r.CommuneCode {
					r.CommuneCode, r.ProvinceCode = c.Code, c.ProvinceCode
					return
				}
			}
		}, "has no household in commune"},
		{"residence under an unknown head is rejected", func(r *agencyv1.RegisterResidenceRequest) {
			r.HouseholdHeadIdNumber = childID(t, civil.SexMale, 1970, 999998)
		}, "household head has no population record"},
		{"residence of an unknown person is rejected", func(r *agencyv1.RegisterResidenceRequest) {
			r.IdNumber = childID(t, civil.SexFemale, 2025, 999997)
		}, "no population record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := residence(t, newborn(t, a), households[1], true)
			tc.modify(req)
			resp, err := a.police.RegisterResidence(a.ctx(t), req)
			require.NoError(t, err, "a business rule is an outcome, not an error")
			require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
			require.Contains(t, resp.GetCase().GetReason(), tc.reason)
			require.EqualValues(t, 1, resp.GetCase().GetVersion())
		})
	}

	t.Run("residence with consent joins the household", func(t *testing.T) {
		t.Parallel()
		h := households[2]
		child := newborn(t, a)
		resp, err := a.police.RegisterResidence(a.ctx(t), residence(t, child, h, true))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, resp.GetCase().GetStatus())
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.Equal(t, h.ID, got.GetResult()["household_id"])
		_, err = time.Parse(time.RFC3339, got.GetResult()["registered_at"])
		require.NoError(t, err)
		person, err := a.police.LookupPerson(a.ctx(t), &agencyv1.LookupPersonRequest{IdNumber: child})
		require.NoError(t, err)
		require.True(t, person.GetPerson().GetResident())
		require.Equal(t, h.ID, person.GetPerson().GetHouseholdId())
		require.Equal(t, h.CommuneCode, person.GetPerson().GetCommuneCode())
	})

	cancel := func(t *testing.T, id, deathRegistration string) *agencyv1.Case {
		t.Helper()
		resp, err := a.police.CancelResidence(a.ctx(t), &agencyv1.CancelResidenceRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0006", Step: "residence_cancellation",
			IdNumber: id, DeathRegistrationNumber: deathRegistration, DeathDate: "2025-06-01",
		})
		require.NoError(t, err)
		return resp.GetCase()
	}

	t.Run("cancelling a non-resident is rejected", func(t *testing.T) {
		t.Parallel()
		c := cancel(t, newborn(t, a), "00004-2025-KT/1")
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, c.GetStatus())
		require.Contains(t, c.GetReason(), "not a permanent resident")
	})

	t.Run("cancelling without a death registration is rejected", func(t *testing.T) {
		t.Parallel()
		c := cancel(t, households[3].HeadIDNumber, "")
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, c.GetStatus())
		require.Contains(t, c.GetReason(), "death is not registered")
	})

	t.Run("cancelling a resident marks them deceased", func(t *testing.T) {
		t.Parallel()
		id := pop.Person(households[4].Members[len(households[4].Members)-1]).IDNumber
		c := cancel(t, id, "00004-2025-KT/2")
		got := a.waitCase(t, c.GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.NotEmpty(t, got.GetResult()["cancelled_at"])
		person, err := a.police.LookupPerson(a.ctx(t), &agencyv1.LookupPersonRequest{IdNumber: id})
		require.NoError(t, err)
		require.False(t, person.GetPerson().GetResident())
		require.True(t, person.GetPerson().GetDeceased())
		again := cancel(t, id, "00004-2025-KT/2")
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, again.GetStatus())
	})

	t.Run("bad input is InvalidArgument and writes nothing", func(t *testing.T) {
		t.Parallel()
		k := key(t)
		_, err := a.police.IssueIdNumber(a.ctx(t), &agencyv1.IssueIdNumberRequest{
			IdempotencyKey: k, DossierCode: "x", ProvinceCode: "999", FullName: "Phạm Gia Bảo", Sex: agencyv1.Sex_SEX_UNSPECIFIED, BirthDate: "2025-13-01",
		})
		requireCode(t, codes.InvalidArgument, err)
		require.Equal(t, 0, a.count(t, "police.cases", "idempotency_key = '"+k+"'"))
	})
}

func TestLateIDNumber(t *testing.T) {
	t.Parallel()

	for _, mode := range []agencyv1.DecisionMode{agencyv1.DecisionMode_DECISION_MODE_AUTO, agencyv1.DecisionMode_DECISION_MODE_MANUAL} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			engine, addr := startFakeEngine(t, 0)
			auto := fastAuto()
			auto.LateIdRatio = 1
			auto.LateIdDelay = durationpb.New(50 * time.Millisecond)
			a := start(t, agency.Options{Name: "police", Mode: mode, Auto: auto, CallbackAddr: addr})

			resp, err := a.police.IssueIdNumber(a.ctx(t), &agencyv1.IssueIdNumberRequest{
				IdempotencyKey: key(t), DossierCode: "00004-250701-0007", Step: "id_number", ProvinceCode: "040",
				FullName: "Hồ Thu Hà", Sex: agencyv1.Sex_SEX_FEMALE, BirthDate: time.Now().In(civil.Zone).Format(time.DateOnly),
			})
			require.NoError(t, err)
			c := resp.GetCase()
			require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, c.GetStatus())
			require.Empty(t, c.GetResult()["id_number"])

			// The late number is pushed; the RECEIVED intake went back in the answer.
			require.Eventually(t, func() bool { return len(engine.ackedFor(c.GetCaseId())) == 1 }, 10*time.Second, 10*time.Millisecond)
			pushed := engine.ackedFor(c.GetCaseId())
			require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, pushed[0].GetStatus())
			require.EqualValues(t, 2, pushed[0].GetVersion())
			id := pushed[0].GetResult()["id_number"]
			year := time.Now().In(civil.Zone).Year()
			require.NoError(t, civil.CheckIDAgrees(id, civil.SexFemale, year))
			require.Equal(t, "040", id[:3])
		})
	}
}
