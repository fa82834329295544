package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// birthForm reads the stored birth application.
func (a *Activities) birthForm(ctx context.Context, code string) (*enginev1.BirthForm, error) {
	group, raw, err := a.Store.Form(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("dossier %s: %w", code, err)
	}
	if group != dossier.GroupBirth {
		return nil, temporal.NewNonRetryableApplicationError("dossier "+code+" is not a birth dossier", ErrRefused, nil)
	}
	var f enginev1.BirthForm
	if err := proto.Unmarshal(raw, &f); err != nil {
		return nil, temporal.NewNonRetryableApplicationError("stored birth form is unreadable: "+err.Error(), ErrRefused, nil)
	}
	return &f, nil
}

// deathForm reads the stored death application.
func (a *Activities) deathForm(ctx context.Context, code string) (*enginev1.DeathForm, error) {
	group, raw, err := a.Store.Form(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("dossier %s: %w", code, err)
	}
	if group != dossier.GroupDeath {
		return nil, temporal.NewNonRetryableApplicationError("dossier "+code+" is not a death dossier", ErrRefused, nil)
	}
	var f enginev1.DeathForm
	if err := proto.Unmarshal(raw, &f); err != nil {
		return nil, temporal.NewNonRetryableApplicationError("stored death form is unreadable: "+err.Error(), ErrRefused, nil)
	}
	return &f, nil
}

func sex(s enginev1.Sex) agencyv1.Sex { return agencyv1.Sex(s) }

func civilDate(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().In(civil.Zone).Format("2006-01-02")
}

func parent(p *enginev1.Parent) *agencyv1.PersonRef {
	if p == nil {
		return nil
	}
	return &agencyv1.PersonRef{
		FullName: p.GetFullName(), BirthDate: p.GetBirthDate(), IdNumber: p.GetIdNumber(),
		PassportNumber: p.GetPassportNumber(), Ethnicity: p.GetEthnicity(), Nationality: p.GetNationality(),
	}
}

// IssueIDNumber asks the Police population database for the newborn's ID number.
func (a *Activities) IssueIDNumber(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.birthForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		resp, err := a.Agencies.Police.IssueIdNumber(ctx, &agencyv1.IssueIdNumberRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			ProvinceCode: f.GetResidence().GetProvinceCode(), FullName: f.GetChild().GetFullName(),
			Sex: sex(f.GetChild().GetSex()), BirthDate: civilDate(f.GetChild().GetBirthTime()),
			MotherIdNumber: f.GetMother().GetIdNumber(), FatherIdNumber: f.GetFather().GetIdNumber(),
		})
		return resp.GetCase(), err
	})
}

// RegisterBirth sends the birth registration to Justice.
func (a *Activities) RegisterBirth(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.birthForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		c := f.GetChild()
		resp, err := a.Agencies.Justice.RegisterBirth(ctx, &agencyv1.RegisterBirthRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			CommuneCode: f.GetResidence().GetCommuneCode(), ChildFullName: c.GetFullName(), ChildSex: sex(c.GetSex()),
			ChildBirthTime: c.GetBirthTime(), PlaceOfBirth: c.GetPlaceOfBirth(), Ethnicity: c.GetEthnicity(),
			Nationality: c.GetNationality(), BirthCertificateNumber: c.GetBirthCertificateNumber(),
			Father: parent(f.GetFather()), Mother: parent(f.GetMother()), ChildIdNumber: in.ChildIDNumber,
		})
		return resp.GetCase(), err
	})
}

// RegisterResidence asks Police to register the child's permanent residence.
func (a *Activities) RegisterResidence(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.birthForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		r := f.GetResidence()
		resp, err := a.Agencies.Police.RegisterResidence(ctx, &agencyv1.RegisterResidenceRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			IdNumber: in.ChildIDNumber, FullName: f.GetChild().GetFullName(), BirthDate: civilDate(f.GetChild().GetBirthTime()),
			ProvinceCode: r.GetProvinceCode(), CommuneCode: r.GetCommuneCode(), StreetAddress: r.GetStreetAddress(),
			HouseholdHeadIdNumber: r.GetHouseholdHeadIdNumber(), HouseholdHeadConsent: r.GetHouseholdHeadConsent(),
			BirthRegistrationNumber: in.RegistrationNumber,
		})
		return resp.GetCase(), err
	})
}

// IssueChildCard asks Social Insurance for the under-6 health-insurance card.
func (a *Activities) IssueChildCard(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.birthForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		resp, err := a.Agencies.Insurance.IssueChildCard(ctx, &agencyv1.IssueChildCardRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			IdNumber: in.ChildIDNumber, FullName: f.GetChild().GetFullName(), Sex: sex(f.GetChild().GetSex()),
			BirthDate: civilDate(f.GetChild().GetBirthTime()), FacilityCode: f.GetFacilityCode(),
			BirthRegistrationNumber: in.RegistrationNumber, ProvinceCode: f.GetResidence().GetProvinceCode(),
		})
		return resp.GetCase(), err
	})
}

// RegisterDeath sends the death registration to Justice.
func (a *Activities) RegisterDeath(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.deathForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		d, dc := f.GetDeceased(), f.GetDeclarant()
		resp, err := a.Agencies.Justice.RegisterDeath(ctx, &agencyv1.RegisterDeathRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step), CommuneCode: f.GetCommuneCode(),
			Deceased:    &agencyv1.PersonRef{FullName: d.GetFullName(), BirthDate: d.GetBirthDate(), IdNumber: d.GetIdNumber()},
			DeceasedSex: sex(d.GetSex()), DeathTime: d.GetDeathTime(), PlaceOfDeath: d.GetPlaceOfDeath(),
			CauseOfDeath: d.GetCauseOfDeath(), DeathNoticeNumber: d.GetDeathNoticeNumber(), DeathNoticeIssuer: d.GetDeathNoticeIssuer(),
			Declarant: &agencyv1.PersonRef{FullName: dc.GetFullName(), IdNumber: dc.GetIdNumber()},
		})
		return resp.GetCase(), err
	})
}

// CancelResidence asks Police to cancel the deceased's permanent residence.
func (a *Activities) CancelResidence(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.deathForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		resp, err := a.Agencies.Police.CancelResidence(ctx, &agencyv1.CancelResidenceRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			IdNumber: f.GetDeceased().GetIdNumber(), DeathRegistrationNumber: in.RegistrationNumber,
			DeathDate: civilDate(f.GetDeceased().GetDeathTime()),
		})
		return resp.GetCase(), err
	})
}

// SettleFuneralAllowance asks Social Insurance to pay the funeral allowance.
func (a *Activities) SettleFuneralAllowance(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.deathForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		d, r := f.GetDeceased(), f.GetRecipient()
		resp, err := a.Agencies.Insurance.SettleFuneralAllowance(ctx, &agencyv1.SettleFuneralAllowanceRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			DeceasedIdNumber: d.GetIdNumber(), DeathDate: civilDate(d.GetDeathTime()),
			DeathRegistrationNumber: in.RegistrationNumber, WorkAccident: d.GetWorkAccident(),
			RecipientFullName: r.GetFullName(), RecipientIdNumber: r.GetIdNumber(), RecipientRelationship: r.GetRelationship(),
			PaymentMethod: agencyv1.PaymentMethod(r.GetPaymentMethod()), BankCode: r.GetBankCode(), BankAccount: r.GetBankAccount(),
		})
		return resp.GetCase(), err
	})
}

// SettleSurvivorBenefit asks Social Insurance to decide the survivor benefit
// for the relatives the family claimed.
func (a *Activities) SettleSurvivorBenefit(ctx context.Context, in StepInput) (StepResult, error) {
	f, err := a.deathForm(ctx, in.Code)
	if err != nil {
		return StepResult{}, err
	}
	return a.caseCall(ctx, in, func(ctx context.Context) (*agencyv1.Case, error) {
		d, r, claim := f.GetDeceased(), f.GetRecipient(), f.GetSurvivorBenefit()
		req := &agencyv1.SettleSurvivorBenefitRequest{
			IdempotencyKey: in.IdempotencyKey, DossierCode: in.Code, Step: string(in.Step),
			DeceasedIdNumber: d.GetIdNumber(), DeathDate: civilDate(d.GetDeathTime()),
			DeathRegistrationNumber: in.RegistrationNumber, WorkAccident: d.GetWorkAccident(),
			PreferLumpSum: claim.GetPreferLumpSum(), PayeeFullName: r.GetFullName(),
			PaymentMethod: agencyv1.PaymentMethod(r.GetPaymentMethod()), BankCode: r.GetBankCode(), BankAccount: r.GetBankAccount(),
		}
		for _, s := range claim.GetSurvivors() {
			req.Relatives = append(req.Relatives, &agencyv1.SurvivorRelative{
				FullName: s.GetFullName(), IdNumber: s.GetIdNumber(), BirthDate: s.GetBirthDate(),
				Relationship:               agencyv1.SurvivorRelationship(s.GetRelationship()),
				WorkingCapacityLossPercent: s.GetWorkingCapacityLossPercent(),
				IncomeAtLeastBaseSalary:    s.GetIncomeAtLeastBaseSalary(), NoDirectCarer: s.GetNoDirectCarer(),
			})
		}
		resp, err := a.Agencies.Insurance.SettleSurvivorBenefit(ctx, req)
		return resp.GetCase(), err
	})
}
