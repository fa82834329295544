package agency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/validation"
)

// Insurance's kinds of case.
var (
	kindChildCard = string(dossier.StepChildCard)
	kindFuneral   = string(dossier.StepFuneralAllowance)
	kindSurvivor  = string(dossier.StepSurvivorBenefit)
)

// insurance is Social Insurance (BHXH): child health-insurance cards,
// funeral allowances and survivor benefits.
type insurance struct {
	agencyv1.UnimplementedInsuranceServiceServer
	d *desk
}

func newInsurance(d *desk) *insurance {
	in := &insurance{d: d}
	d.kinds[kindChildCard] = kindSpec{
		approve:        in.approveCard,
		autoReject:     "the child's record could not be matched with the electronic birth extract (auto decision)",
		autoSupplement: "the electronic birth extract could not be read; send it again (auto decision)",
		autoMissing:    []string{"birth_extract"},
	}
	d.kinds[kindFuneral] = kindSpec{
		approve:        in.approveFuneral,
		autoReject:     "the recipient's relationship to the deceased could not be established (auto decision)",
		autoSupplement: "proof of the recipient's relationship to the deceased is needed (auto decision)",
		autoMissing:    []string{"relationship_proof"},
	}
	d.kinds[kindSurvivor] = kindSpec{
		approve:        in.approveSurvivor,
		autoReject:     "the claimed relatives' relationship to the deceased could not be established (auto decision)",
		autoSupplement: "the medical assessment of a relative's loss of working capacity is needed (auto decision)",
		autoMissing:    []string{"medical_assessment"},
	}
	return in
}

// IssueChildCard opens a child-card case; a child aged six or more on the
// day of the request is rejected with the reason.
func (in *insurance) IssueChildCard(ctx context.Context, req *agencyv1.IssueChildCardRequest) (*agencyv1.IssueChildCardResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.name("full_name", req.GetFullName())
	v.sex("sex", req.GetSex())
	v.date("birth_date", req.GetBirthDate(), true, in.d.now())
	v.c.Facility("facility_code", req.GetFacilityCode())
	v.c.Province("province_code", req.GetProvinceCode())
	if id := req.GetIdNumber(); id != "" {
		v.idNumber("id_number", id)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := in.d.open(ctx, intake{
		kind: kindChildCard, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			return rejectFor(c, now)(cardRule(ctx, tx, req, c.CreatedAt))
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.IssueChildCardResponse{Case: c.proto(in.d.agency)}, nil
}

// cardRule says why the child cannot have a card, judged on the day the
// request arrived.
func cardRule(ctx context.Context, db agencydb.DBTX, req *agencyv1.IssueChildCardRequest, requested time.Time) (string, error) {
	born, err := time.ParseInLocation(time.DateOnly, req.GetBirthDate(), civil.Zone)
	if err != nil {
		return "", err
	}
	if !civil.UnderSix(born, requested) {
		return fmt.Sprintf("the child is %d months old on %s; the TE card is only for children under 72 months",
			civil.AgeInMonths(born, requested), dateText(requested)), nil
	}
	if req.GetIdNumber() == "" {
		return "the child has no ID number yet; the card waits for it", nil
	}
	if err := civil.CheckIDAgrees(req.GetIdNumber(), civilSex(req.GetSex()), born.Year()); err != nil {
		return "the ID number does not agree with the child's sex and year of birth", nil //nolint:nilerr // a business rejection, not a fault
	}
	if req.GetBirthRegistrationNumber() == "" {
		return "no birth registration number: the card rests on the electronic birth extract", nil
	}
	other, err := agencydb.New(db).CardCaseOf(ctx, req.GetIdNumber())
	if err == nil {
		return fmt.Sprintf("a health-insurance card was already issued to this child (case %s)", other), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	return "", nil
}

// approveCard issues the TE card with a new 10-digit social-insurance code,
// valid from birth per civil.ChildCardValidity.
func (in *insurance) approveCard(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.IssueChildCardRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	reason, err := cardRule(ctx, tx, &req, c.CreatedAt)
	if err != nil {
		return err
	}
	if reason != "" {
		c.reject(reason, now)
		return nil
	}
	q := agencydb.New(tx)
	serial, err := q.NextSocialInsuranceSerial(ctx)
	if err != nil {
		return err
	}
	code, err := civil.NewSocialInsuranceCode(req.GetProvinceCode(), serial)
	if err != nil {
		return err
	}
	born, _ := time.ParseInLocation(time.DateOnly, req.GetBirthDate(), civil.Zone)
	from, to := civil.ChildCardValidity(born)
	card := civil.ChildCardObjectCode + strconv.Itoa(civil.ChildCardBenefitLevel) + req.GetProvinceCode()[1:] + code
	if err := q.InsertCard(ctx, agencydb.InsertCardParams{
		SocialInsuranceCode: code, CardCode: card, IDNumber: req.GetIdNumber(), CaseID: c.ID,
		FacilityCode: req.GetFacilityCode(), ValidFrom: dateText(from), ValidTo: dateText(to), IssuedAt: now,
	}); err != nil {
		return err
	}
	c.Result = map[string]string{
		"card_code":             card,
		"social_insurance_code": code,
		"object":                civil.ChildCardObjectCode,
		"benefit_level":         strconv.Itoa(civil.ChildCardBenefitLevel),
		"valid_from":            dateText(from),
		"valid_to":              dateText(to),
		"facility_code":         req.GetFacilityCode(),
	}
	return nil
}

// SettleFuneralAllowance opens a funeral-allowance case; a deceased who is
// not eligible is rejected with the reason.
func (in *insurance) SettleFuneralAllowance(ctx context.Context, req *agencyv1.SettleFuneralAllowanceRequest) (*agencyv1.SettleFuneralAllowanceResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.idNumber("deceased_id_number", req.GetDeceasedIdNumber())
	if died, ok := v.date("death_date", req.GetDeathDate(), true, in.d.now()); ok {
		if _, err := civil.FuneralAllowance(died); err != nil {
			v.add("death_date", "has no base salary in force: %s", err.Error())
		}
	}
	v.name("recipient_full_name", req.GetRecipientFullName())
	if id := req.GetRecipientIdNumber(); id != "" {
		v.idNumber("recipient_id_number", id)
	}
	v.payment(req.GetPaymentMethod(), req.GetBankCode(), req.GetBankAccount())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := in.d.open(ctx, intake{
		kind: kindFuneral, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			_, reason, err := funeralRule(ctx, tx, req)
			return rejectFor(c, now)(reason, err)
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.SettleFuneralAllowanceResponse{Case: c.proto(in.d.agency)}, nil
}

// eligibility is what the contribution records say about the deceased.
type eligibility struct {
	contributions civil.Contributions
	basis         string
}

// funeralRule returns the basis of eligibility, or why there is none.
func funeralRule(ctx context.Context, db agencydb.DBTX, req *agencyv1.SettleFuneralAllowanceRequest) (eligibility, string, error) {
	var e eligibility
	if req.GetDeathRegistrationNumber() == "" {
		return e, "the death is not registered: no death registration number", nil
	}
	other, err := agencydb.New(db).FuneralCaseOf(ctx, req.GetDeceasedIdNumber())
	if err == nil {
		return e, fmt.Sprintf("the funeral allowance for this person was already settled (case %s)", other), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return e, "", err
	}
	if e.contributions, err = contributionsOf(ctx, db, req.GetDeceasedIdNumber()); err != nil {
		return e, "", err
	}
	ok, reason := civil.FuneralEligibility(e.contributions, req.GetWorkAccident())
	if !ok {
		return e, "not eligible for the funeral allowance: " + reason, nil
	}
	e.basis = reason
	return e, "", nil
}

// contributionsOf reads a person's contribution record; a person with none
// has the zero record.
func contributionsOf(ctx context.Context, db agencydb.DBTX, idNumber string) (civil.Contributions, error) {
	r, err := agencydb.New(db).ContributionsOf(ctx, idNumber)
	if errors.Is(err, pgx.ErrNoRows) {
		return civil.Contributions{}, nil
	}
	if err != nil {
		return civil.Contributions{}, err
	}
	return civil.Contributions{
		CompulsoryMonths: int(r.CompulsoryMonths), VoluntaryMonths: int(r.VoluntaryMonths), Pensioner: r.Pensioner,
		WorkInjuryBenefit: r.WorkInjuryBenefit, WorkInjuryLossPercent: int(r.WorkInjuryLossPercent),
	}, nil
}

// approveFuneral pays 10 × the base salary of the month of death and stops
// any monthly pension or benefit from the month after.
func (in *insurance) approveFuneral(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.SettleFuneralAllowanceRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	e, reason, err := funeralRule(ctx, tx, &req)
	if err != nil {
		return err
	}
	if reason != "" {
		c.reject(reason, now)
		return nil
	}
	died, err := time.ParseInLocation(time.DateOnly, req.GetDeathDate(), civil.Zone)
	if err != nil {
		return err
	}
	amount, err := civil.FuneralAllowance(died)
	if err != nil {
		return err
	}
	base := amount / civil.FuneralAllowanceMultiple
	stoppedFrom := ""
	if e.contributions.Pensioner || e.contributions.WorkInjuryBenefit {
		from := time.Date(died.Year(), died.Month()+1, 1, 0, 0, 0, 0, civil.Zone)
		stoppedFrom = from.Format("2006-01")
		if err := agencydb.New(tx).StopPension(ctx, agencydb.StopPensionParams{
			IDNumber: req.GetDeceasedIdNumber(), StoppedFrom: dateText(from), CaseID: c.ID, RecordedAt: now,
		}); err != nil {
			return err
		}
	}
	method, bankCode, bankAccount := "cash", "", ""
	if req.GetPaymentMethod() == agencyv1.PaymentMethod_PAYMENT_METHOD_BANK {
		method, bankCode, bankAccount = "bank", req.GetBankCode(), req.GetBankAccount()
	}
	if err := agencydb.New(tx).InsertFuneralAllowance(ctx, agencydb.InsertFuneralAllowanceParams{
		CaseID: c.ID, DeceasedIDNumber: req.GetDeceasedIdNumber(), DeathDate: req.GetDeathDate(), AmountVnd: amount,
		BaseSalaryVnd: base, PaymentMethod: method, BankCode: bankCode, BankAccount: bankAccount, SettledAt: now,
	}); err != nil {
		return err
	}
	c.Result = map[string]string{
		"amount_vnd":           strconv.FormatInt(amount, 10),
		"base_salary_vnd":      strconv.FormatInt(base, 10),
		"pension_stopped_from": stoppedFrom,
		"basis":                e.basis,
	}
	return nil
}

// SettleSurvivorBenefit opens a survivor-benefit case; a claim with nothing
// payable is rejected with the reason.
func (in *insurance) SettleSurvivorBenefit(ctx context.Context, req *agencyv1.SettleSurvivorBenefitRequest) (*agencyv1.SettleSurvivorBenefitResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.idNumber("deceased_id_number", req.GetDeceasedIdNumber())
	if died, ok := v.date("death_date", req.GetDeathDate(), true, in.d.now()); ok {
		if first := civil.SurvivorFirstDeathDay(); died.Before(first) {
			v.add("death_date", "is before %s: no survivor-benefit rules or base salary cover it", dateText(first))
		}
	}
	v.c.Relatives("relatives", len(req.GetRelatives()))
	for i, r := range req.GetRelatives() {
		path := fmt.Sprintf("relatives[%d].", i)
		v.name(path+"full_name", r.GetFullName())
		v.idNumber(path+"id_number", r.GetIdNumber())
		v.date(path+"birth_date", r.GetBirthDate(), true, in.d.now())
		v.c.Relationship(path+"relationship", r.GetRelationship())
		v.c.Percent(path+"working_capacity_loss_percent", r.GetWorkingCapacityLossPercent())
	}
	v.name("payee_full_name", req.GetPayeeFullName())
	v.payment(req.GetPaymentMethod(), req.GetBankCode(), req.GetBankAccount())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := in.d.open(ctx, intake{
		kind: kindSurvivor, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			_, reason, err := survivorRule(ctx, tx, req)
			return rejectFor(c, now)(reason, err)
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.SettleSurvivorBenefitResponse{Case: c.proto(in.d.agency)}, nil
}

// survivorRule decides the claim on the deceased's contribution record, or
// says why it cannot be decided or nothing is payable.
func survivorRule(ctx context.Context, db agencydb.DBTX, req *agencyv1.SettleSurvivorBenefitRequest) (civil.SurvivorDecision, string, error) {
	var dec civil.SurvivorDecision
	if req.GetDeathRegistrationNumber() == "" {
		return dec, "the death is not registered: no death registration number", nil
	}
	other, err := agencydb.New(db).SurvivorCaseOf(ctx, req.GetDeceasedIdNumber())
	if err == nil {
		return dec, fmt.Sprintf("the survivor benefit for this person was already decided (case %s)", other), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return dec, "", err
	}
	died, err := time.ParseInLocation(time.DateOnly, req.GetDeathDate(), civil.Zone)
	if err != nil {
		return dec, "", err
	}
	claim := civil.SurvivorClaim{DeathDate: died, WorkAccident: req.GetWorkAccident(), PreferLumpSum: req.GetPreferLumpSum()}
	if claim.Contributions, err = contributionsOf(ctx, db, req.GetDeceasedIdNumber()); err != nil {
		return dec, "", err
	}
	for _, r := range req.GetRelatives() {
		born, err := time.ParseInLocation(time.DateOnly, r.GetBirthDate(), civil.Zone)
		if err != nil {
			return dec, "", err
		}
		id, err := civil.ParseIDNumber(r.GetIdNumber())
		if err != nil {
			return dec, "", err
		}
		claim.Relatives = append(claim.Relatives, civil.Relative{
			Relationship: validation.RelationshipOf(r.GetRelationship()), Sex: id.Sex, BirthDate: born,
			LossPercent:             int(r.GetWorkingCapacityLossPercent()),
			IncomeAtLeastBaseSalary: r.GetIncomeAtLeastBaseSalary(), NoDirectCarer: r.GetNoDirectCarer(),
		})
	}
	dec, err = civil.SurvivorBenefit(claim)
	if err != nil {
		return dec, "", err
	}
	if !dec.Eligible {
		return dec, "not eligible for the survivor benefit: " + dec.Reason, nil
	}
	return dec, "", nil
}

// approveSurvivor records the decision: the kind, and for a monthly benefit
// the amount for each relative paid for, from the month after the death.
func (in *insurance) approveSurvivor(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.SettleSurvivorBenefitRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	dec, reason, err := survivorRule(ctx, tx, &req)
	if err != nil {
		return err
	}
	if reason != "" {
		c.reject(reason, now)
		return nil
	}
	method, bankCode, bankAccount := "cash", "", ""
	if req.GetPaymentMethod() == agencyv1.PaymentMethod_PAYMENT_METHOD_BANK {
		method, bankCode, bankAccount = "bank", req.GetBankCode(), req.GetBankAccount()
	}
	var from *string
	paid := 0
	for _, o := range dec.Relatives {
		if o.Counted {
			paid++
		}
	}
	if dec.Kind == civil.SurvivorMonthly {
		f := dateText(dec.MonthlyFrom)
		from = &f
	}
	if err := agencydb.New(tx).InsertSurvivorBenefit(ctx, agencydb.InsertSurvivorBenefitParams{
		CaseID: c.ID, DeceasedIDNumber: req.GetDeceasedIdNumber(), DeathDate: req.GetDeathDate(), Kind: string(dec.Kind),
		Law: dec.Law, BaseSalaryVnd: dec.BaseSalaryVND, MonthlyTotalVnd: dec.MonthlyTotalVND, MonthlyFrom: from,
		RelativesPaid: int32(paid), PaymentMethod: method, BankCode: bankCode, BankAccount: bankAccount, DecidedAt: now,
	}); err != nil {
		return err
	}
	c.Result = survivorResult(dec)
	return nil
}

// survivorResult is the decision as the dossier shows it: flat keys, one set
// per relative by position in the claim.
func survivorResult(dec civil.SurvivorDecision) map[string]string {
	out := map[string]string{"kind": string(dec.Kind), "law": dec.Law}
	if dec.Basis != "" {
		out["basis"] = dec.Basis
	}
	if dec.Reason != "" {
		out["reason"] = dec.Reason
	}
	switch dec.Kind {
	case civil.SurvivorMonthly:
		out["monthly_total_vnd"] = strconv.FormatInt(dec.MonthlyTotalVND, 10)
		out["base_salary_vnd"] = strconv.FormatInt(dec.BaseSalaryVND, 10)
		out["monthly_from"] = dec.MonthlyFrom.Format("2006-01")
	case civil.SurvivorLumpSum:
		out["lump_sum_rule"] = dec.LumpSumRule
	}
	for i, o := range dec.Relatives {
		p := fmt.Sprintf("relative_%d_", i+1)
		out[p+"qualifies"] = strconv.FormatBool(o.Qualifies)
		out[p+"why"] = o.Why
		if o.Counted {
			out[p+"percent"] = strconv.Itoa(o.Percent)
			out[p+"monthly_vnd"] = strconv.FormatInt(o.MonthlyVND, 10)
		}
	}
	return out
}
