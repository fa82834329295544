package api

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/validation"
)

// The validators below are pure: they read the request and the time of
// submission and name every bad field by its proto path
// (form.child.full_name), so a form can show each error beside its field.
// The rules a submission shares with the agencies' requests (names, ID
// numbers, places, dates, payment) are package validation's, in its words.
// They never normalise; the one normalisation (phones to E.164) is
// civil.NormalizePhone, applied by the handler after validation.

// DeathRegistrationDays is the legal time for a family to register a death.
// A later registration is accepted and noted in the trace.
const DeathRegistrationDays = 15

const maxRequestID = 128

// ValidateBirth checks a birth-group submission received at now.
func ValidateBirth(req *enginev1.SubmitBirthRequest, now time.Time) []dossier.FieldViolation {
	c := newChecker()
	if req == nil {
		c.Add("form", "is required")
		return c.Violations()
	}
	c.requestID("request_id", req.GetRequestId())
	c.Commune("commune_code", req.GetCommuneCode(), "")
	f := req.GetForm()
	if f == nil {
		c.Add("form", "is required")
		return c.Violations()
	}

	var childBirth time.Time
	if ch := f.GetChild(); ch == nil {
		c.Add("form.child", "is required")
	} else {
		c.Name("form.child.full_name", ch.GetFullName())
		c.Sex("form.child.sex", ch.GetSex())
		if t, ok := c.PastTime("form.child.birth_time", ch.GetBirthTime(), now); ok {
			childBirth = t
			if !civil.UnderSix(t, now) {
				c.Add("form.child.birth_time", "the child is 6 or older: the linked birth procedures, and the child's health-insurance card, are for children under 6")
			}
		}
		c.Text("form.child.place_of_birth", ch.GetPlaceOfBirth(), true)
		c.Text("form.child.ethnicity", ch.GetEthnicity(), true)
		c.Text("form.child.nationality", ch.GetNationality(), true)
		c.Text("form.child.birth_certificate_number", ch.GetBirthCertificateNumber(), true)
	}

	if f.GetFather() == nil && f.GetMother() == nil {
		c.Add("form.mother", "at least one parent is required")
	}
	if p := f.GetFather(); p != nil {
		c.parent("form.father", p, civil.SexMale, childBirth, now)
	}
	if p := f.GetMother(); p != nil {
		c.parent("form.mother", p, civil.SexFemale, childBirth, now)
	}

	if r := f.GetResidence(); r == nil {
		c.Add("form.residence", "is required")
	} else {
		if c.Province("form.residence.province_code", r.GetProvinceCode()) {
			c.Commune("form.residence.commune_code", r.GetCommuneCode(), r.GetProvinceCode())
		} else {
			c.Commune("form.residence.commune_code", r.GetCommuneCode(), "")
		}
		c.Text("form.residence.street_address", r.GetStreetAddress(), true)
		c.IDNumber("form.residence.household_head_id_number", r.GetHouseholdHeadIdNumber())
		if !r.GetHouseholdHeadConsent() {
			c.Add("form.residence.household_head_consent", "the household head must consent to the child joining the household")
		}
	}

	c.Facility("form.facility_code", strings.TrimSpace(f.GetFacilityCode()))

	if r := f.GetRequester(); r == nil {
		c.Add("form.requester", "is required")
	} else {
		c.Name("form.requester.full_name", r.GetFullName())
		c.IDNumber("form.requester.id_number", r.GetIdNumber())
		c.Text("form.requester.relationship", r.GetRelationship(), true)
		c.phone("form.requester.phone", r.GetPhone())
		c.email("form.requester.email", r.GetEmail())
	}
	c.delivery("form.delivery", f.GetDelivery())
	return c.Violations()
}

// ValidateDeath checks a death-group submission received at now. A death
// registered later than DeathRegistrationDays is accepted: see LateDeathDays.
func ValidateDeath(req *enginev1.SubmitDeathRequest, now time.Time) []dossier.FieldViolation {
	c := newChecker()
	if req == nil {
		c.Add("form", "is required")
		return c.Violations()
	}
	c.requestID("request_id", req.GetRequestId())
	f := req.GetForm()
	if f == nil {
		c.Add("form", "is required")
		return c.Violations()
	}
	if c.Province("form.province_code", f.GetProvinceCode()) {
		c.Commune("form.commune_code", f.GetCommuneCode(), f.GetProvinceCode())
	} else {
		c.Commune("form.commune_code", f.GetCommuneCode(), "")
	}

	if d := f.GetDeceased(); d == nil {
		c.Add("form.deceased", "is required")
	} else {
		c.Name("form.deceased.full_name", d.GetFullName())
		sex := c.Sex("form.deceased.sex", d.GetSex())
		birth, birthOK := c.Date("form.deceased.birth_date", d.GetBirthDate(), now)
		switch {
		case strings.TrimSpace(d.GetIdNumber()) == "":
			c.Add("form.deceased.id_number", "is required")
		case birthOK && sex != civil.SexUnknown:
			if err := civil.CheckIDAgrees(d.GetIdNumber(), sex, birth.Year()); err != nil {
				c.Add("form.deceased.id_number", "%s", err)
			}
		default:
			c.IDNumber("form.deceased.id_number", d.GetIdNumber())
		}
		if t, ok := c.PastTime("form.deceased.death_time", d.GetDeathTime(), now); ok && birthOK {
			if t.In(civil.Zone).Before(birth) {
				c.Add("form.deceased.death_time", "is before the date of birth")
			}
		}
		c.Text("form.deceased.place_of_death", d.GetPlaceOfDeath(), true)
		c.Text("form.deceased.cause_of_death", d.GetCauseOfDeath(), true)
		c.Text("form.deceased.death_notice_number", d.GetDeathNoticeNumber(), true)
		c.Text("form.deceased.death_notice_issuer", d.GetDeathNoticeIssuer(), true)
	}

	if d := f.GetDeclarant(); d == nil {
		c.Add("form.declarant", "is required")
	} else {
		c.Name("form.declarant.full_name", d.GetFullName())
		c.IDNumber("form.declarant.id_number", d.GetIdNumber())
		c.Text("form.declarant.relationship", d.GetRelationship(), true)
		c.phone("form.declarant.phone", d.GetPhone())
		c.email("form.declarant.email", d.GetEmail())
	}

	switch f.GetBundle() {
	case enginev1.DeathBundle_DEATH_BUNDLE_TWO:
	case enginev1.DeathBundle_DEATH_BUNDLE_THREE:
		c.recipient("form.recipient", f.GetRecipient())
	case enginev1.DeathBundle_DEATH_BUNDLE_FOUR:
		c.recipient("form.recipient", f.GetRecipient())
		if t := f.GetDeceased().GetDeathTime(); t != nil && t.CheckValid() == nil {
			if first := civil.SurvivorFirstDeathDay(); t.AsTime().Before(first) {
				c.Add("form.bundle", "the survivor benefit cannot be decided for a death before %s", first.Format(time.DateOnly))
			}
		}
		c.survivors("form.survivor_benefit", f.GetSurvivorBenefit(), f.GetDeceased().GetIdNumber(), now)
	case enginev1.DeathBundle_DEATH_BUNDLE_UNSPECIFIED:
		c.Add("form.bundle", "is required: DEATH_BUNDLE_TWO (registration and residence), DEATH_BUNDLE_THREE (also the funeral allowance) or DEATH_BUNDLE_FOUR (also the survivor benefit)")
	default:
		c.Add("form.bundle", "is not a known bundle")
	}
	c.delivery("form.delivery", f.GetDelivery())
	return c.Violations()
}

// LateDeathDays returns how many days after the death it is at now, when
// that is more than the DeathRegistrationDays the law gives families.
func LateDeathDays(f *enginev1.DeathForm, now time.Time) (days int, late bool) {
	t := f.GetDeceased().GetDeathTime()
	if t == nil || t.CheckValid() != nil {
		return 0, false
	}
	days = int(now.Sub(t.AsTime()) / (24 * time.Hour))
	return days, days > DeathRegistrationDays
}

// checker adds the API's own rules to the shared ones, and gives every
// violation its Vietnamese message.
type checker struct {
	validation.Checker
}

func newChecker() *checker {
	return &checker{Checker: validation.Checker{Translate: vietnameseFor}}
}

func (c *checker) requestID(field, v string) {
	switch {
	case v == "":
		c.Add(field, "is required: a client-chosen id that makes a retried submission return the same dossier")
	case len(v) > maxRequestID:
		c.Add(field, "must be at most %d characters", maxRequestID)
	default:
		for _, r := range v {
			if r <= ' ' || r > '~' {
				c.Add(field, "must be printable ASCII without spaces")
				return
			}
		}
	}
}

func (c *checker) delivery(field string, d enginev1.Delivery) {
	switch d {
	case enginev1.Delivery_DELIVERY_ELECTRONIC, enginev1.Delivery_DELIVERY_PAPER_AT_COMMUNE, enginev1.Delivery_DELIVERY_POST:
	case enginev1.Delivery_DELIVERY_UNSPECIFIED:
		c.Add(field, "is required: DELIVERY_ELECTRONIC, DELIVERY_PAPER_AT_COMMUNE or DELIVERY_POST")
	default:
		c.Add(field, "is not a known value")
	}
}

func (c *checker) phone(field, v string) {
	if strings.TrimSpace(v) == "" {
		c.Add(field, "is required: the applicant looks the dossier up with it")
		return
	}
	if _, err := civil.NormalizePhone(v); err != nil {
		c.Add(field, "%s", err)
	}
}

// email checks an optional address.
func (c *checker) email(field, v string) {
	if v == "" {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || len(v) > 254 {
		c.Add(field, "must be a plain e-mail address such as ten@example.vn")
		return
	}
	_, domain, _ := strings.Cut(v, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		c.Add(field, "must be a plain e-mail address such as ten@example.vn")
	}
}

// isVietnamese says a nationality names Viet Nam, by code or by name.
func isVietnamese(nationality string) bool {
	switch strings.ToUpper(strings.Join(strings.Fields(nationality), " ")) {
	case "VN", "VNM", "VIỆT NAM", "VIET NAM", "VIETNAM", "VIETNAMESE":
		return true
	}
	return false
}

// parent checks a father or mother. A Vietnamese parent needs an ID number
// that agrees with the parent's sex and year of birth; a foreign parent may
// give a passport number instead.
func (c *checker) parent(path string, p *enginev1.Parent, role civil.Sex, childBirth, now time.Time) {
	c.Name(path+".full_name", p.GetFullName())
	birth, birthOK := c.Date(path+".birth_date", p.GetBirthDate(), now)
	if birthOK && !childBirth.IsZero() && !birth.Before(childBirth.In(civil.Zone)) {
		c.Add(path+".birth_date", "must be before the child's birth")
		birthOK = false
	}
	c.Text(path+".ethnicity", p.GetEthnicity(), true)
	c.Text(path+".nationality", p.GetNationality(), true)

	sex := role
	switch p.GetSex() {
	case enginev1.Sex_SEX_UNSPECIFIED:
	case enginev1.Sex_SEX_MALE, enginev1.Sex_SEX_FEMALE:
		if s := c.Sex(path+".sex", p.GetSex()); s != role {
			c.Add(path+".sex", "a %s is recorded as %s", strings.TrimPrefix(path, "form."), role)
		}
	default:
		c.Add(path+".sex", "is not a known value")
	}

	id, passport := strings.TrimSpace(p.GetIdNumber()), strings.TrimSpace(p.GetPassportNumber())
	switch {
	case id != "":
		if birthOK {
			if err := civil.CheckIDAgrees(p.GetIdNumber(), sex, birth.Year()); err != nil {
				c.Add(path+".id_number", "%s", err)
			}
		} else {
			c.IDNumber(path+".id_number", p.GetIdNumber())
		}
	case isVietnamese(p.GetNationality()):
		c.Add(path+".id_number", "is required for a Vietnamese parent (a passport number is accepted for foreign parents)")
	case passport == "":
		c.Add(path+".passport_number", "a foreign parent needs an ID number or a passport number")
	}
	if passport != "" {
		c.Passport(path+".passport_number", p.GetPassportNumber())
	}
}

// recipient checks the funeral-allowance recipient of bundles THREE and FOUR.
func (c *checker) recipient(path string, r *enginev1.AllowanceRecipient) {
	if r == nil {
		c.Add(path, "is required with the funeral allowance (DEATH_BUNDLE_THREE or DEATH_BUNDLE_FOUR)")
		return
	}
	c.Name(path+".full_name", r.GetFullName())
	c.IDNumber(path+".id_number", r.GetIdNumber())
	c.Text(path+".relationship", r.GetRelationship(), true)
	c.Payment(path+".", r.GetPaymentMethod(), r.GetBankCode(), r.GetBankAccount())
}

// maxSurvivors bounds the relatives one claim names; the monthly benefit is
// paid for at most four of them.
const maxSurvivors = 10

// survivors checks the survivor-benefit claim of bundle FOUR: each relative's
// name, ID number (which must agree with the year of birth; the sex is read
// from it), relationship, date of birth and loss of working capacity.
func (c *checker) survivors(path string, claim *enginev1.SurvivorClaim, deceasedID string, now time.Time) {
	if claim == nil {
		c.Add(path, "is required with the survivor benefit (DEATH_BUNDLE_FOUR)")
		return
	}
	list := claim.GetSurvivors()
	switch {
	case len(list) == 0:
		c.Add(path+".survivors", "name at least one relative the benefit is claimed for")
		return
	case len(list) > maxSurvivors:
		c.Add(path+".survivors", "must name at most %d relatives", maxSurvivors)
		return
	}
	seen := map[string]bool{}
	for i, s := range list {
		p := fmt.Sprintf("%s.survivors[%d]", path, i)
		c.Name(p+".full_name", s.GetFullName())
		birth, birthOK := c.Date(p+".birth_date", s.GetBirthDate(), now)
		id := strings.TrimSpace(s.GetIdNumber())
		switch parsed, err := civil.ParseIDNumber(id); {
		case id == "":
			c.Add(p+".id_number", "is required")
		case err != nil:
			c.Add(p+".id_number", "%s", err)
		case id == deceasedID:
			c.Add(p+".id_number", "is the deceased's own ID number")
		case seen[id]:
			c.Add(p+".id_number", "names the same relative twice")
		case birthOK:
			if err := civil.CheckIDAgrees(id, parsed.Sex, birth.Year()); err != nil {
				c.Add(p+".id_number", "%s", err)
			}
		}
		seen[id] = true
		c.Relationship(p+".relationship", s.GetRelationship())
		c.Percent(p+".working_capacity_loss_percent", s.GetWorkingCapacityLossPercent())
	}
}
