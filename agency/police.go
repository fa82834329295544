package agency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Police's kinds of case.
var (
	kindIDNumber     = string(dossier.StepIDNumber)
	kindResidence    = string(dossier.StepResidenceRegistration)
	kindCancellation = string(dossier.StepResidenceCancellation)
)

// issueTries bounds the retries when a new ID number collides with one in use.
const issueTries = 32

// police is the population database and the residence desk.
type police struct {
	agencyv1.UnimplementedPoliceServiceServer
	d *desk
}

func newPolice(d *desk) *police {
	p := &police{d: d}
	d.kinds[kindIDNumber] = kindSpec{machine: true, approve: p.issue}
	d.kinds[kindResidence] = kindSpec{
		approve:        p.approveResidence,
		autoReject:     "the address could not be verified with the commune police (auto decision)",
		autoSupplement: "proof of the household's lawful residence at the address is needed (auto decision)",
		autoMissing:    []string{"residence_proof"},
	}
	d.kinds[kindCancellation] = kindSpec{
		approve:        p.approveCancellation,
		autoReject:     "the death record could not be matched to the population record (auto decision)",
		autoSupplement: "a copy of the death extract is needed (auto decision)",
		autoMissing:    []string{"death_extract"},
	}
	return p
}

// IssueIdNumber asks for a newborn's number. Most are issued at once; a share
// (late_id_ratio) stays RECEIVED and is issued after late_id_delay, pushed.
func (p *police) IssueIdNumber(ctx context.Context, req *agencyv1.IssueIdNumberRequest) (*agencyv1.IssueIdNumberResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.c.AnyProvince("province_code", req.GetProvinceCode())
	v.name("full_name", req.GetFullName())
	v.sex("sex", req.GetSex())
	v.date("birth_date", req.GetBirthDate(), true, p.d.now())
	if id := req.GetMotherIdNumber(); id != "" {
		v.idNumber("mother_id_number", id)
	}
	if id := req.GetFatherIdNumber(); id != "" {
		v.idNumber("father_id_number", id)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := p.d.open(ctx, intake{
		kind: kindIDNumber, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			_, auto := p.d.settings.current()
			if draw(p.d.seed, c.ID, "late-id", 0) < auto.GetLateIdRatio() {
				due := now.Add(auto.GetLateIdDelay().AsDuration())
				c.DueAt = &due
				return nil
			}
			return p.d.apply(ctx, tx, c, verdict{decision: agencyv1.Decision_DECISION_APPROVE}, now)
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.IssueIdNumberResponse{Case: c.proto(p.d.agency)}, nil
}

// issue gives the newborn a number and a population record. A number already
// in use is skipped by the unique key and another serial is drawn.
func (p *police) issue(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.IssueIdNumberRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	born, err := time.ParseInLocation(time.DateOnly, req.GetBirthDate(), civil.Zone)
	if err != nil {
		return err
	}
	sex := civilSex(req.GetSex())
	for try := range int32(issueTries) {
		serial := int(draw(p.d.seed, c.ID, "id-serial", try) * 1_000_000)
		id, err := civil.NewIDNumber(req.GetProvinceCode(), sex, born.Year(), serial)
		if err != nil {
			return err
		}
		n, err := agencydb.New(tx).InsertPerson(ctx, agencydb.InsertPersonParams{
			IDNumber: id, FullName: req.GetFullName(), Sex: int16(sex), BirthDate: req.GetBirthDate(),
			ProvinceCode: req.GetProvinceCode(), IssuedByCase: c.ID, CreatedAt: now,
		})
		if err != nil {
			return err
		}
		if n == 1 {
			c.Result = map[string]string{"id_number": id}
			return nil
		}
	}
	return unavailable("no free ID number after %d tries", issueTries)
}

// person is the part of a population record the rules look at.
type person struct {
	resident    bool
	deceased    bool
	householdID *string
}

func lookupPerson(ctx context.Context, db agencydb.DBTX, id string) (person, bool, error) {
	r, err := agencydb.New(db).PersonStanding(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return person{}, false, nil
	}
	if err != nil {
		return person{}, false, err
	}
	return person{resident: r.Resident, deceased: r.Deceased, householdID: r.HouseholdID}, true, nil
}

// RegisterResidence registers permanent residence in an existing household.
func (p *police) RegisterResidence(ctx context.Context, req *agencyv1.RegisterResidenceRequest) (*agencyv1.RegisterResidenceResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.idNumber("id_number", req.GetIdNumber())
	v.c.Commune("commune_code", req.GetCommuneCode(), req.GetProvinceCode())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := p.d.open(ctx, intake{
		kind: kindResidence, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			_, reason, err := residenceRule(ctx, tx, req)
			if reason != "" {
				c.reject(reason, now)
			}
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.RegisterResidenceResponse{Case: c.proto(p.d.agency)}, nil
}

// residenceRule returns the household the person joins, or why they cannot.
func residenceRule(ctx context.Context, db agencydb.DBTX, req *agencyv1.RegisterResidenceRequest) (string, string, error) {
	if req.GetBirthRegistrationNumber() == "" {
		return "", "no birth registration number: residence registration rests on the birth record", nil
	}
	who, ok, err := lookupPerson(ctx, db, req.GetIdNumber())
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "the ID number has no population record", nil
	}
	if who.deceased {
		return "", "the person is recorded as deceased", nil
	}
	if req.GetHouseholdHeadIdNumber() == "" {
		return "", "no household head is named", nil
	}
	head, ok, err := lookupPerson(ctx, db, req.GetHouseholdHeadIdNumber())
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "the household head has no population record", nil
	}
	if head.deceased {
		return "", "the household head is recorded as deceased", nil
	}
	household, err := agencydb.New(db).HouseholdHeadedBy(ctx, agencydb.HouseholdHeadedByParams{
		HeadIDNumber: req.GetHouseholdHeadIdNumber(), CommuneCode: req.GetCommuneCode()})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Sprintf("the household head has no household in commune %s", req.GetCommuneCode()), nil
	}
	if err != nil {
		return "", "", err
	}
	if !req.GetHouseholdHeadConsent() {
		return "", "the household head has not consented to the child joining the household", nil
	}
	return household, "", nil
}

// approveResidence checks the rules again (the records may have changed
// since intake) and enters the person in the household.
func (p *police) approveResidence(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.RegisterResidenceRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	household, reason, err := residenceRule(ctx, tx, &req)
	if err != nil {
		return err
	}
	if reason != "" {
		c.reject(reason, now)
		return nil
	}
	if err := agencydb.New(tx).EnterHousehold(ctx, agencydb.EnterHouseholdParams{
		IDNumber: req.GetIdNumber(), HouseholdID: &household, CommuneCode: req.GetCommuneCode(), ResidentSince: &now,
	}); err != nil {
		return err
	}
	c.Result = map[string]string{"household_id": household, "registered_at": timeText(now)}
	return nil
}

// CancelResidence cancels a deceased person's permanent residence.
func (p *police) CancelResidence(ctx context.Context, req *agencyv1.CancelResidenceRequest) (*agencyv1.CancelResidenceResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.idNumber("id_number", req.GetIdNumber())
	v.date("death_date", req.GetDeathDate(), false, p.d.now())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := p.d.open(ctx, intake{
		kind: kindCancellation, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
		admit: func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
			reason, err := cancellationRule(ctx, tx, req)
			if reason != "" {
				c.reject(reason, now)
			}
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.CancelResidenceResponse{Case: c.proto(p.d.agency)}, nil
}

func cancellationRule(ctx context.Context, db agencydb.DBTX, req *agencyv1.CancelResidenceRequest) (string, error) {
	if req.GetDeathRegistrationNumber() == "" {
		return "the death is not registered: no death registration number", nil
	}
	who, ok, err := lookupPerson(ctx, db, req.GetIdNumber())
	if err != nil {
		return "", err
	}
	if !ok {
		return "the ID number has no population record", nil
	}
	if !who.resident {
		return "the person is not a permanent resident: there is no residence to cancel", nil
	}
	return "", nil
}

func (p *police) approveCancellation(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.CancelResidenceRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	reason, err := cancellationRule(ctx, tx, &req)
	if err != nil {
		return err
	}
	if reason != "" {
		c.reject(reason, now)
		return nil
	}
	var died *string
	if d := req.GetDeathDate(); d != "" {
		died = &d
	}
	if err := agencydb.New(tx).RecordDeath(ctx, agencydb.RecordDeathParams{IDNumber: req.GetIdNumber(), DeathDate: died}); err != nil {
		return err
	}
	c.Result = map[string]string{"cancelled_at": timeText(now)}
	return nil
}

// LookupPerson returns a population record, without contact data.
func (p *police) LookupPerson(ctx context.Context, req *agencyv1.LookupPersonRequest) (*agencyv1.LookupPersonResponse, error) {
	var v violations
	v.idNumber("id_number", req.GetIdNumber())
	if err := v.err(); err != nil {
		return nil, err
	}
	r, err := agencydb.New(p.d.pool).Person(ctx, req.GetIdNumber())
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("no population record has this ID number")
	}
	if err != nil {
		return nil, dbError(err, "looking up person")
	}
	out := &agencyv1.Person{
		IdNumber: r.IDNumber, FullName: r.FullName, Sex: protoSex(civil.Sex(r.Sex)), BirthDate: r.BirthDate.Format(time.DateOnly),
		ProvinceCode: r.ProvinceCode, CommuneCode: r.CommuneCode, Resident: r.Resident, Deceased: r.Deceased,
	}
	if r.HouseholdID != nil {
		out.HouseholdId = *r.HouseholdID
	}
	return &agencyv1.LookupPersonResponse{Person: out}, nil
}
