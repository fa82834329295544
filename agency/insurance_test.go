package agency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestInsuranceRules(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "insurance", SeedPeople: testPeople})
	pop := population.Generate(testSeed, testPeople)
	today := time.Now().In(civil.Zone)

	card := func(t *testing.T, born time.Time, serial int) *agencyv1.IssueChildCardRequest {
		return &agencyv1.IssueChildCardRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0008", Step: "child_card",
			IdNumber: childID(t, civil.SexMale, born.Year(), serial), FullName: "Nguyễn Minh Khang", Sex: agencyv1.Sex_SEX_MALE,
			BirthDate: born.Format(time.DateOnly), FacilityCode: "01001", BirthRegistrationNumber: "00004-2025-KS/1", ProvinceCode: "001",
		}
	}

	t.Run("a child under six gets a TE card", func(t *testing.T) {
		t.Parallel()
		born := today.AddDate(0, -2, 0)
		resp, err := a.insurance.IssueChildCard(a.ctx(t), card(t, born, 1))
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		r := got.GetResult()
		require.Len(t, r["social_insurance_code"], 10)
		require.Equal(t, "01", r["social_insurance_code"][:2])
		require.Equal(t, "TE101"+r["social_insurance_code"], r["card_code"])
		require.Equal(t, "TE", r["object"])
		require.Equal(t, "1", r["benefit_level"])
		require.Equal(t, "01001", r["facility_code"])
		from, to := civil.ChildCardValidity(born)
		require.Equal(t, from.Format(time.DateOnly), r["valid_from"])
		require.Equal(t, to.Format(time.DateOnly), r["valid_to"])
	})

	for _, tc := range []struct {
		name   string
		modify func(*agencyv1.IssueChildCardRequest)
		reason string
	}{
		{"a child of six is rejected", func(r *agencyv1.IssueChildCardRequest) {
			born := today.AddDate(-6, 0, -1)
			r.BirthDate = born.Format(time.DateOnly)
			r.IdNumber = childID(t, civil.SexMale, born.Year(), 2)
		}, "under 72 months"},
		{"a child without an ID number waits for it", func(r *agencyv1.IssueChildCardRequest) { r.IdNumber = "" }, "no ID number yet"},
		{"an ID number of the other sex is rejected", func(r *agencyv1.IssueChildCardRequest) {
			r.IdNumber = childID(t, civil.SexFemale, today.Year(), 3)
		}, "does not agree"},
		{"a card without a birth record is rejected", func(r *agencyv1.IssueChildCardRequest) { r.BirthRegistrationNumber = "" }, "birth registration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := card(t, today.AddDate(0, -1, 0), 4)
			tc.modify(req)
			resp, err := a.insurance.IssueChildCard(a.ctx(t), req)
			require.NoError(t, err)
			require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
			require.Contains(t, resp.GetCase().GetReason(), tc.reason)
		})
	}

	t.Run("a second card for the same child is rejected", func(t *testing.T) {
		t.Parallel()
		born := today.AddDate(0, -3, 0)
		first, err := a.insurance.IssueChildCard(a.ctx(t), card(t, born, 5))
		require.NoError(t, err)
		a.waitCase(t, first.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		second, err := a.insurance.IssueChildCard(a.ctx(t), card(t, born, 5))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, second.GetCase().GetStatus())
		require.Contains(t, second.GetCase().GetReason(), "already issued")
	})

	var ineligible, pensioner population.Person
	for _, i := range pop.DeathCandidates() {
		p := pop.Person(i)
		if ok, _ := civil.FuneralEligibility(p.Contributions(), false); !ok && ineligible.IDNumber == "" {
			ineligible = p
		}
		if p.Pensioner && pensioner.IDNumber == "" {
			pensioner = p
		}
	}
	require.NotEmpty(t, ineligible.IDNumber)
	require.NotEmpty(t, pensioner.IDNumber)

	funeral := func(t *testing.T, deceased string) *agencyv1.SettleFuneralAllowanceRequest {
		return &agencyv1.SettleFuneralAllowanceRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0009", Step: "funeral_allowance",
			DeceasedIdNumber: deceased, DeathDate: "2025-03-10", DeathRegistrationNumber: "00004-2025-KT/3",
			RecipientFullName: "Nguyễn Văn An", RecipientRelationship: "con", PaymentMethod: agencyv1.PaymentMethod_PAYMENT_METHOD_CASH,
		}
	}

	t.Run("an ineligible deceased is rejected with the reason", func(t *testing.T) {
		t.Parallel()
		resp, err := a.insurance.SettleFuneralAllowance(a.ctx(t), funeral(t, ineligible.IDNumber))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
		require.Contains(t, resp.GetCase().GetReason(), "not eligible")
		require.Contains(t, resp.GetCase().GetReason(), "compulsory contributions")
	})

	t.Run("a work accident makes anyone eligible", func(t *testing.T) {
		t.Parallel()
		req := funeral(t, childID(t, civil.SexMale, 1980, 424242))
		req.WorkAccident = true
		resp, err := a.insurance.SettleFuneralAllowance(a.ctx(t), req)
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.Contains(t, got.GetResult()["basis"], "work accident")
		require.Empty(t, got.GetResult()["pension_stopped_from"])
	})

	t.Run("a pensioner is paid and the pension stops", func(t *testing.T) {
		t.Parallel()
		req := funeral(t, pensioner.IDNumber)
		req.PaymentMethod = agencyv1.PaymentMethod_PAYMENT_METHOD_BANK
		req.BankCode, req.BankAccount = "VCB", "0011004455667"
		resp, err := a.insurance.SettleFuneralAllowance(a.ctx(t), req)
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.Equal(t, map[string]string{
			"amount_vnd":           "23400000",
			"base_salary_vnd":      "2340000",
			"pension_stopped_from": "2025-04",
			"basis":                got.GetResult()["basis"],
		}, got.GetResult())
		require.Contains(t, got.GetResult()["basis"], "pension")
		require.Equal(t, 1, a.count(t, "insurance.pension_stops", "id_number = '"+pensioner.IDNumber+"' AND stopped_from = '2025-04-01'"))

		again, err := a.insurance.SettleFuneralAllowance(a.ctx(t), funeral(t, pensioner.IDNumber))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, again.GetCase().GetStatus())
		require.Contains(t, again.GetCase().GetReason(), "already settled")
	})

	t.Run("bank payment needs the bank's details", func(t *testing.T) {
		t.Parallel()
		req := funeral(t, pensioner.IDNumber)
		req.PaymentMethod = agencyv1.PaymentMethod_PAYMENT_METHOD_BANK
		_, err := a.insurance.SettleFuneralAllowance(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		require.Contains(t, err.Error(), "bank_code")
		req.PaymentMethod = agencyv1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED
		_, err = a.insurance.SettleFuneralAllowance(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		require.Equal(t, 0, a.count(t, "insurance.cases", "idempotency_key = '"+req.GetIdempotencyKey()+"'"))
	})

	t.Run("a death without registration is rejected", func(t *testing.T) {
		t.Parallel()
		req := funeral(t, pensioner.IDNumber)
		req.DeathRegistrationNumber = ""
		resp, err := a.insurance.SettleFuneralAllowance(a.ctx(t), req)
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
	})
}

func TestSurvivorBenefitRules(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "insurance", SeedPeople: testPeople})
	pop := population.Generate(testSeed, testPeople)

	var pensioner, short population.Person
	for _, i := range pop.DeathCandidates() {
		p := pop.Person(i)
		if p.Pensioner && pensioner.IDNumber == "" {
			pensioner = p
		}
		if !p.Pensioner && !p.WorkInjuryBenefit && p.CompulsoryMonths > 0 && p.CompulsoryMonths < 180 && short.IDNumber == "" {
			short = p
		}
	}
	require.NotEmpty(t, pensioner.IDNumber)
	require.NotEmpty(t, short.IDNumber)

	widow := func(t *testing.T) *agencyv1.SurvivorRelative {
		return &agencyv1.SurvivorRelative{FullName: "Trần Thị Hoa", IdNumber: childID(t, civil.SexFemale, 1960, 515151),
			Relationship: agencyv1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_SPOUSE, BirthDate: "1960-02-01"}
	}
	claim := func(t *testing.T, deceased string) *agencyv1.SettleSurvivorBenefitRequest {
		return &agencyv1.SettleSurvivorBenefitRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0010", Step: "survivor_benefit",
			DeceasedIdNumber: deceased, DeathDate: "2025-03-10", DeathRegistrationNumber: "00004-2025-KT/4",
			Relatives:     []*agencyv1.SurvivorRelative{widow(t)},
			PayeeFullName: "Trần Thị Hoa", PaymentMethod: agencyv1.PaymentMethod_PAYMENT_METHOD_CASH,
		}
	}

	t.Run("a pensioner's widow of 65 gets the monthly benefit, once", func(t *testing.T) {
		t.Parallel()
		resp, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), claim(t, pensioner.IDNumber))
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		r := got.GetResult()
		require.Equal(t, "monthly", r["kind"])
		require.Contains(t, r["law"], "58/2014/QH13", "a death before 1 July 2025 falls under the 2014 law")
		require.Contains(t, r["basis"], "pension")
		require.Equal(t, "1170000", r["monthly_total_vnd"], "50% of 2,340,000")
		require.Equal(t, "2025-04", r["monthly_from"])
		require.Equal(t, "true", r["relative_1_qualifies"])
		require.Equal(t, "50", r["relative_1_percent"])
		require.Equal(t, 1, a.count(t, "insurance.survivor_benefits", "deceased_id_number = '"+pensioner.IDNumber+"' AND kind = 'monthly'"))

		again, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), claim(t, pensioner.IDNumber))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, again.GetCase().GetStatus())
		require.Contains(t, again.GetCase().GetReason(), "already decided")
	})

	t.Run("fewer than 15 years of contributions give the lump sum", func(t *testing.T) {
		t.Parallel()
		resp, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), claim(t, short.IDNumber))
		require.NoError(t, err)
		got := a.waitCase(t, resp.GetCase().GetCaseId(), hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED))
		require.Equal(t, "lump_sum", got.GetResult()["kind"])
		require.Contains(t, got.GetResult()["reason"], "fewer than 180 months")
		require.Contains(t, got.GetResult()["lump_sum_rule"], "per year of contributions")
		require.Empty(t, got.GetResult()["monthly_total_vnd"])
	})

	t.Run("no contribution record is rejected with the reason", func(t *testing.T) {
		t.Parallel()
		resp, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), claim(t, childID(t, civil.SexMale, 1970, 626262)))
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
		require.Contains(t, resp.GetCase().GetReason(), "not eligible for the survivor benefit: no social-insurance record")
	})

	t.Run("a death without registration is rejected", func(t *testing.T) {
		t.Parallel()
		req := claim(t, pensioner.IDNumber)
		req.DeathRegistrationNumber = ""
		resp, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), req)
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_REJECTED, resp.GetCase().GetStatus())
		require.Contains(t, resp.GetCase().GetReason(), "not registered")
	})

	t.Run("a bad request names its fields", func(t *testing.T) {
		t.Parallel()
		req := claim(t, pensioner.IDNumber)
		req.Relatives[0].Relationship = agencyv1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_UNSPECIFIED
		req.Relatives[0].WorkingCapacityLossPercent = 120
		req.DeathDate = "2019-05-31"
		_, err := a.insurance.SettleSurvivorBenefit(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		var named []string
		for _, d := range status.Convert(err).Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					named = append(named, v.GetField())
				}
			}
		}
		require.ElementsMatch(t, []string{"relatives[0].relationship", "relatives[0].working_capacity_loss_percent", "death_date"}, named)
		req = claim(t, pensioner.IDNumber)
		req.Relatives = nil
		_, err = a.insurance.SettleSurvivorBenefit(a.ctx(t), req)
		requireCode(t, codes.InvalidArgument, err)
		require.Contains(t, err.Error(), "relatives")
	})
}
