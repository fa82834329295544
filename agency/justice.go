package agency

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Justice's kinds of case.
var (
	kindBirth = string(dossier.StepBirthRegistration)
	kindDeath = string(dossier.StepDeathRegistration)
)

// Registration book codes: births (khai sinh) and deaths (khai tử) are kept
// in separate books.
const (
	bookBirth = "KS"
	bookDeath = "KT"
)

// justice is the commune civil-status desk: it registers births and deaths,
// numbers them in the commune's books and issues signed extracts.
type justice struct {
	agencyv1.UnimplementedJusticeServiceServer
	d   *desk
	key signingKey
}

func newJustice(ctx context.Context, d *desk) (*justice, error) {
	key, err := loadSigningKey(ctx, d.pool)
	if err != nil {
		return nil, fmt.Errorf("starting justice: %w", err)
	}
	j := &justice{d: d, key: key}
	d.kinds[kindBirth] = kindSpec{
		approve:        j.approveBirth,
		autoReject:     "the hospital birth certificate (giấy chứng sinh) does not match the facility's records (auto decision)",
		autoSupplement: "a legible copy of the hospital birth certificate is needed (auto decision)",
		autoMissing:    []string{"birth_certificate"},
	}
	d.kinds[kindDeath] = kindSpec{
		approve:        j.approveDeath,
		autoReject:     "the death notice (giấy báo tử) does not match its issuer's records (auto decision)",
		autoSupplement: "a legible copy of the death notice is needed (auto decision)",
		autoMissing:    []string{"death_notice"},
	}
	return j, nil
}

// RegisterBirth opens a birth-registration case.
func (j *justice) RegisterBirth(ctx context.Context, req *agencyv1.RegisterBirthRequest) (*agencyv1.RegisterBirthResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.commune("commune_code", req.GetCommuneCode())
	v.name("child_full_name", req.GetChildFullName())
	sex := v.sex("child_sex", req.GetChildSex())
	born, bornOK := v.timestamp("child_birth_time", req.GetChildBirthTime(), j.d.now())
	if id := req.GetChildIdNumber(); id != "" && sex != civil.SexUnknown && bornOK {
		if err := civil.CheckIDAgrees(id, sex, born.In(civil.Zone).Year()); err != nil {
			v.add("child_id_number", "%s", err.Error())
		}
	}
	v.personRef("father", req.GetFather(), false, j.d.now())
	v.personRef("mother", req.GetMother(), false, j.d.now())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := j.d.open(ctx, intake{
		kind: kindBirth, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.RegisterBirthResponse{Case: c.proto(j.d.agency)}, nil
}

// RegisterDeath opens a death-registration case.
func (j *justice) RegisterDeath(ctx context.Context, req *agencyv1.RegisterDeathRequest) (*agencyv1.RegisterDeathResponse, error) {
	var v violations
	v.require("idempotency_key", req.GetIdempotencyKey())
	v.require("dossier_code", req.GetDossierCode())
	v.commune("commune_code", req.GetCommuneCode())
	v.personRef("deceased", req.GetDeceased(), true, j.d.now())
	sex := v.sex("deceased_sex", req.GetDeceasedSex())
	v.timestamp("death_time", req.GetDeathTime(), j.d.now())
	if d := req.GetDeceased(); d.GetIdNumber() != "" && d.GetBirthDate() != "" && sex != civil.SexUnknown {
		if born, err := time.ParseInLocation(time.DateOnly, d.GetBirthDate(), civil.Zone); err == nil {
			if err := civil.CheckIDAgrees(d.GetIdNumber(), sex, born.Year()); err != nil {
				v.add("deceased.id_number", "%s", err.Error())
			}
		}
	}
	v.personRef("declarant", req.GetDeclarant(), false, j.d.now())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := j.d.open(ctx, intake{
		kind: kindDeath, key: req.GetIdempotencyKey(), dossierCode: req.GetDossierCode(), step: req.GetStep(), request: req,
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.RegisterDeathResponse{Case: c.proto(j.d.agency)}, nil
}

// approveBirth registers the birth and issues its extract. Without the
// child's ID number the case is APPROVED_PENDING_ID until AttachIdNumber.
func (j *justice) approveBirth(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.RegisterBirthRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	reg, err := j.register(ctx, tx, c.ID, req.GetCommuneCode(), bookBirth, now)
	if err != nil {
		return err
	}
	if err := j.issue(ctx, tx, c, reg, birthDocument(c, &req), now); err != nil {
		return err
	}
	c.Result = reg.result(j.key.id)
	if id := req.GetChildIdNumber(); id != "" {
		c.Result["id_number"] = id
	} else {
		c.Status = agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID
	}
	return nil
}

func (j *justice) approveDeath(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error {
	var req agencyv1.RegisterDeathRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	reg, err := j.register(ctx, tx, c.ID, req.GetCommuneCode(), bookDeath, now)
	if err != nil {
		return err
	}
	if err := j.issue(ctx, tx, c, reg, deathDocument(c, &req), now); err != nil {
		return err
	}
	c.Result = reg.result(j.key.id)
	return nil
}

// registration is an entry in a commune's book.
type registration struct {
	book  string
	entry int
	at    time.Time
}

func (r registration) number() string { return r.book + "/" + strconv.Itoa(r.entry) }

func (r registration) result(keyID string) map[string]string {
	return map[string]string{
		"registration_number": r.number(),
		"registration_book":   r.book,
		"registration_entry":  strconv.Itoa(r.entry),
		"extract_key_id":      keyID,
	}
}

// register takes the next entry in the commune's book for the year, e.g.
// book "00004-2025-KS", entry 17: number "00004-2025-KS/17".
func (j *justice) register(ctx context.Context, tx pgx.Tx, caseID, commune, kind string, now time.Time) (registration, error) {
	year := now.In(civil.Zone).Year()
	r := registration{book: fmt.Sprintf("%s-%d-%s", commune, year, kind), at: now}
	q := agencydb.New(tx)
	entry, err := q.NextBookEntry(ctx, agencydb.NextBookEntryParams{Book: r.book, CommuneCode: commune, Year: int32(year), Kind: kind})
	if err != nil {
		return r, err
	}
	r.entry = int(entry)
	err = q.InsertRegistration(ctx, agencydb.InsertRegistrationParams{CaseID: caseID, Book: r.book, Entry: entry, RegisteredAt: r.at})
	return r, err
}

// AttachIdNumber adds the child's late ID number. Before a decision it is
// only recorded; on an APPROVED_PENDING_ID case it reissues the extract and
// approves the case.
func (j *justice) AttachIdNumber(ctx context.Context, req *agencyv1.AttachIdNumberRequest) (*agencyv1.AttachIdNumberResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	v.idNumber("id_number", req.GetIdNumber())
	if err := v.err(); err != nil {
		return nil, err
	}
	id := req.GetIdNumber()
	c, err := j.d.change(ctx, req.GetCaseId(), func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error) {
		if c.Kind != kindBirth {
			return unchanged, failedPrecondition("case %s is a %s; only a birth registration takes an ID number", c.ID, c.Kind)
		}
		var birth agencyv1.RegisterBirthRequest
		if err := c.decode(&birth); err != nil {
			return unchanged, err
		}
		year := birth.GetChildBirthTime().AsTime().In(civil.Zone).Year()
		if err := civil.CheckIDAgrees(id, civilSex(birth.GetChildSex()), year); err != nil {
			var v violations
			v.add("id_number", "does not agree with the registered child: %s", err.Error())
			return unchanged, v.err()
		}
		if have := birth.GetChildIdNumber(); have != "" {
			if have == id {
				return unchanged, nil
			}
			return unchanged, failedPrecondition("case %s already has a different ID number", c.ID)
		}
		switch {
		case open(c.Status):
			birth.ChildIdNumber = id
			return recorded, c.encode(&birth)
		case c.Status == agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID:
			birth.ChildIdNumber = id
			if err := c.encode(&birth); err != nil {
				return unchanged, err
			}
			reg, err := j.registrationOf(ctx, tx, c.ID)
			if err != nil {
				return unchanged, err
			}
			if err := j.issue(ctx, tx, c, reg, birthDocument(c, &birth), now); err != nil {
				return unchanged, err
			}
			c.Result["id_number"] = id
			c.Result["extract_key_id"] = j.key.id
			c.Status = agencyv1.CaseStatus_CASE_STATUS_APPROVED
			return changed, nil
		}
		return unchanged, failedPrecondition("case %s is %s; an ID number can no longer be attached", c.ID, statusText(c.Status))
	})
	if err != nil {
		return nil, err
	}
	return &agencyv1.AttachIdNumberResponse{Case: c.proto(j.d.agency)}, nil
}

func (j *justice) registrationOf(ctx context.Context, db agencydb.DBTX, caseID string) (registration, error) {
	r, err := agencydb.New(db).RegistrationOf(ctx, caseID)
	return registration{book: r.Book, entry: int(r.Entry), at: r.RegisteredAt}, err
}

// birthDocument is the content of a birth extract, before the registration
// and signing fields are added.
func birthDocument(c *caseRecord, req *agencyv1.RegisterBirthRequest) map[string]any {
	commune, _ := civil.LookupCommune(req.GetCommuneCode())
	child := map[string]any{
		"full_name":      req.GetChildFullName(),
		"sex":            civilSex(req.GetChildSex()).String(),
		"birth_time":     timeText(req.GetChildBirthTime().AsTime()),
		"place_of_birth": req.GetPlaceOfBirth(),
		"ethnicity":      req.GetEthnicity(),
		"nationality":    req.GetNationality(),
	}
	if id := req.GetChildIdNumber(); id != "" {
		child["id_number"] = id
	}
	doc := map[string]any{
		"type":                     "birth",
		"dossier_code":             c.DossierCode,
		"commune_code":             commune.Code,
		"issuer":                   "Ủy ban nhân dân " + commune.Name,
		"child":                    child,
		"birth_certificate_number": req.GetBirthCertificateNumber(),
	}
	if p := personDocument(req.GetFather()); p != nil {
		doc["father"] = p
	}
	if p := personDocument(req.GetMother()); p != nil {
		doc["mother"] = p
	}
	return doc
}

func deathDocument(c *caseRecord, req *agencyv1.RegisterDeathRequest) map[string]any {
	commune, _ := civil.LookupCommune(req.GetCommuneCode())
	deceased := personDocument(req.GetDeceased())
	deceased["sex"] = civilSex(req.GetDeceasedSex()).String()
	doc := map[string]any{
		"type":                "death",
		"dossier_code":        c.DossierCode,
		"commune_code":        commune.Code,
		"issuer":              "Ủy ban nhân dân " + commune.Name,
		"deceased":            deceased,
		"death_time":          timeText(req.GetDeathTime().AsTime()),
		"place_of_death":      req.GetPlaceOfDeath(),
		"cause_of_death":      req.GetCauseOfDeath(),
		"death_notice_number": req.GetDeathNoticeNumber(),
		"death_notice_issuer": req.GetDeathNoticeIssuer(),
	}
	if p := personDocument(req.GetDeclarant()); p != nil {
		doc["declarant"] = p
	}
	return doc
}

func personDocument(p *agencyv1.PersonRef) map[string]any {
	if p == nil {
		return nil
	}
	out := map[string]any{"full_name": p.GetFullName()}
	for k, v := range map[string]string{
		"birth_date":      p.GetBirthDate(),
		"id_number":       p.GetIdNumber(),
		"passport_number": p.GetPassportNumber(),
		"ethnicity":       p.GetEthnicity(),
		"nationality":     p.GetNationality(),
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
