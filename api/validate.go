package api

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// The validators below are pure: they read the request and the time of
// submission and name every bad field by its proto path
// (form.child.full_name), so a form can show each error beside its field.
// They never normalise; the one normalisation (phones to E.164) is
// civil.NormalizePhone, applied by the handler after validation.

// clockSkew is how far in the future a birth or death time may lie before it
// counts as a mistake rather than a clerk's clock running slow.
const clockSkew = 5 * time.Minute

// DeathRegistrationDays is the legal time for a family to register a death.
// A later registration is accepted and noted in the trace.
const DeathRegistrationDays = 15

const (
	maxText      = 200
	maxRequestID = 128
)

// ValidateBirth checks a birth-group submission received at now.
func ValidateBirth(req *enginev1.SubmitBirthRequest, now time.Time) []dossier.FieldViolation {
	c := &checker{}
	if req == nil {
		c.add("form", "is required")
		return c.vs
	}
	c.requestID("request_id", req.GetRequestId())
	c.commune("commune_code", req.GetCommuneCode(), "")
	f := req.GetForm()
	if f == nil {
		c.add("form", "is required")
		return c.vs
	}

	var childBirth time.Time
	if ch := f.GetChild(); ch == nil {
		c.add("form.child", "is required")
	} else {
		c.name("form.child.full_name", ch.GetFullName())
		c.sex("form.child.sex", ch.GetSex())
		if t, ok := c.pastTime("form.child.birth_time", ch.GetBirthTime(), now); ok {
			childBirth = t
			if !civil.UnderSix(t, now) {
				c.add("form.child.birth_time", "the child is 6 or older: the linked birth procedures, and the child's health-insurance card, are for children under 6")
			}
		}
		c.text("form.child.place_of_birth", ch.GetPlaceOfBirth(), true)
		c.text("form.child.ethnicity", ch.GetEthnicity(), true)
		c.text("form.child.nationality", ch.GetNationality(), true)
		c.text("form.child.birth_certificate_number", ch.GetBirthCertificateNumber(), true)
	}

	if f.GetFather() == nil && f.GetMother() == nil {
		c.add("form.mother", "at least one parent is required")
	}
	if p := f.GetFather(); p != nil {
		c.parent("form.father", p, civil.SexMale, childBirth, now)
	}
	if p := f.GetMother(); p != nil {
		c.parent("form.mother", p, civil.SexFemale, childBirth, now)
	}

	if r := f.GetResidence(); r == nil {
		c.add("form.residence", "is required")
	} else {
		if c.province("form.residence.province_code", r.GetProvinceCode()) {
			c.commune("form.residence.commune_code", r.GetCommuneCode(), r.GetProvinceCode())
		} else {
			c.commune("form.residence.commune_code", r.GetCommuneCode(), "")
		}
		c.text("form.residence.street_address", r.GetStreetAddress(), true)
		c.idShape("form.residence.household_head_id_number", r.GetHouseholdHeadIdNumber())
		if !r.GetHouseholdHeadConsent() {
			c.add("form.residence.household_head_consent", "the household head must consent to the child joining the household")
		}
	}

	if code := strings.TrimSpace(f.GetFacilityCode()); code == "" {
		c.add("form.facility_code", "is required: the initial health-care facility for the child's card")
	} else if _, ok := civil.LookupFacility(code); !ok {
		c.add("form.facility_code", "is not a known health-care facility code")
	}

	if r := f.GetRequester(); r == nil {
		c.add("form.requester", "is required")
	} else {
		c.name("form.requester.full_name", r.GetFullName())
		c.idShape("form.requester.id_number", r.GetIdNumber())
		c.text("form.requester.relationship", r.GetRelationship(), true)
		c.phone("form.requester.phone", r.GetPhone())
		c.email("form.requester.email", r.GetEmail())
	}
	c.delivery("form.delivery", f.GetDelivery())
	return c.vs
}

// ValidateDeath checks a death-group submission received at now. A death
// registered later than DeathRegistrationDays is accepted: see LateDeathDays.
func ValidateDeath(req *enginev1.SubmitDeathRequest, now time.Time) []dossier.FieldViolation {
	c := &checker{}
	if req == nil {
		c.add("form", "is required")
		return c.vs
	}
	c.requestID("request_id", req.GetRequestId())
	f := req.GetForm()
	if f == nil {
		c.add("form", "is required")
		return c.vs
	}
	if c.province("form.province_code", f.GetProvinceCode()) {
		c.commune("form.commune_code", f.GetCommuneCode(), f.GetProvinceCode())
	} else {
		c.commune("form.commune_code", f.GetCommuneCode(), "")
	}

	if d := f.GetDeceased(); d == nil {
		c.add("form.deceased", "is required")
	} else {
		c.name("form.deceased.full_name", d.GetFullName())
		sex := c.sex("form.deceased.sex", d.GetSex())
		birth, birthOK := c.date("form.deceased.birth_date", d.GetBirthDate(), now)
		switch {
		case strings.TrimSpace(d.GetIdNumber()) == "":
			c.add("form.deceased.id_number", "is required")
		case birthOK && sex != civil.SexUnknown:
			if err := civil.CheckIDAgrees(d.GetIdNumber(), sex, birth.Year()); err != nil {
				c.add("form.deceased.id_number", "%s", err)
			}
		default:
			c.idShape("form.deceased.id_number", d.GetIdNumber())
		}
		if t, ok := c.pastTime("form.deceased.death_time", d.GetDeathTime(), now); ok && birthOK {
			if t.In(civil.Zone).Before(birth) {
				c.add("form.deceased.death_time", "is before the date of birth")
			}
		}
		c.text("form.deceased.place_of_death", d.GetPlaceOfDeath(), true)
		c.text("form.deceased.cause_of_death", d.GetCauseOfDeath(), true)
		c.text("form.deceased.death_notice_number", d.GetDeathNoticeNumber(), true)
		c.text("form.deceased.death_notice_issuer", d.GetDeathNoticeIssuer(), true)
	}

	if d := f.GetDeclarant(); d == nil {
		c.add("form.declarant", "is required")
	} else {
		c.name("form.declarant.full_name", d.GetFullName())
		c.idShape("form.declarant.id_number", d.GetIdNumber())
		c.text("form.declarant.relationship", d.GetRelationship(), true)
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
				c.add("form.bundle", "the survivor benefit cannot be decided for a death before %s", first.Format(time.DateOnly))
			}
		}
		c.survivors("form.survivor_benefit", f.GetSurvivorBenefit(), f.GetDeceased().GetIdNumber(), now)
	case enginev1.DeathBundle_DEATH_BUNDLE_UNSPECIFIED:
		c.add("form.bundle", "is required: DEATH_BUNDLE_TWO (registration and residence), DEATH_BUNDLE_THREE (also the funeral allowance) or DEATH_BUNDLE_FOUR (also the survivor benefit)")
	default:
		c.add("form.bundle", "is not a known bundle")
	}
	c.delivery("form.delivery", f.GetDelivery())
	return c.vs
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

// checker collects violations.
type checker struct {
	vs []dossier.FieldViolation
}

func (c *checker) add(field, format string, args ...any) {
	c.vs = append(c.vs, violation(field, format, args...))
}

func (c *checker) requestID(field, v string) {
	switch {
	case v == "":
		c.add(field, "is required: a client-chosen id that makes a retried submission return the same dossier")
	case len(v) > maxRequestID:
		c.add(field, "must be at most %d characters", maxRequestID)
	default:
		for _, r := range v {
			if r <= ' ' || r > '~' {
				c.add(field, "must be printable ASCII without spaces")
				return
			}
		}
	}
}

// text checks a free-text field: valid UTF-8, no control characters, not too long.
func (c *checker) text(field, v string, required bool) {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			c.add(field, "is required")
		}
	case !utf8.ValidString(v):
		c.add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxText:
		c.add(field, "must be at most %d characters", maxText)
	default:
		for _, r := range v {
			if unicode.IsControl(r) {
				c.add(field, "must not contain control characters")
				return
			}
		}
	}
}

func (c *checker) name(field, v string) {
	if err := civil.ValidateName(v); err != nil {
		c.add(field, "%s", err)
	}
}

func (c *checker) sex(field string, s enginev1.Sex) civil.Sex {
	switch s {
	case enginev1.Sex_SEX_MALE:
		return civil.SexMale
	case enginev1.Sex_SEX_FEMALE:
		return civil.SexFemale
	case enginev1.Sex_SEX_UNSPECIFIED:
		c.add(field, "is required: SEX_MALE or SEX_FEMALE")
	default:
		c.add(field, "is not a known value")
	}
	return civil.SexUnknown
}

func (c *checker) delivery(field string, d enginev1.Delivery) {
	switch d {
	case enginev1.Delivery_DELIVERY_ELECTRONIC, enginev1.Delivery_DELIVERY_PAPER_AT_COMMUNE, enginev1.Delivery_DELIVERY_POST:
	case enginev1.Delivery_DELIVERY_UNSPECIFIED:
		c.add(field, "is required: DELIVERY_ELECTRONIC, DELIVERY_PAPER_AT_COMMUNE or DELIVERY_POST")
	default:
		c.add(field, "is not a known value")
	}
}

// pastTime checks a required moment that must not lie in the future.
func (c *checker) pastTime(field string, ts *timestamppb.Timestamp, now time.Time) (time.Time, bool) {
	if ts == nil {
		c.add(field, "is required")
		return time.Time{}, false
	}
	if err := ts.CheckValid(); err != nil {
		c.add(field, "is not a valid time")
		return time.Time{}, false
	}
	t := ts.AsTime()
	if t.After(now.Add(clockSkew)) {
		c.add(field, "is in the future")
		return time.Time{}, false
	}
	if t.Year() < 1900 {
		c.add(field, "is before 1900")
		return time.Time{}, false
	}
	return t, true
}

// date checks a required YYYY-MM-DD civil date, not in the future; it returns
// midnight of that day in Vietnam's zone.
func (c *checker) date(field, v string, now time.Time) (time.Time, bool) {
	if strings.TrimSpace(v) == "" {
		c.add(field, "is required (YYYY-MM-DD)")
		return time.Time{}, false
	}
	d, err := time.ParseInLocation("2006-01-02", v, civil.Zone)
	if err != nil {
		c.add(field, "must be a date as YYYY-MM-DD")
		return time.Time{}, false
	}
	if d.Year() < 1900 {
		c.add(field, "is before 1900")
		return time.Time{}, false
	}
	if d.After(now.In(civil.Zone)) {
		c.add(field, "is in the future")
		return time.Time{}, false
	}
	return d, true
}

func (c *checker) idShape(field, v string) {
	if strings.TrimSpace(v) == "" {
		c.add(field, "is required")
		return
	}
	if _, err := civil.ParseIDNumber(v); err != nil {
		c.add(field, "%s", err)
	}
}

func (c *checker) province(field, code string) bool {
	if strings.TrimSpace(code) == "" {
		c.add(field, "is required")
		return false
	}
	if _, ok := civil.LookupProvince(code); !ok {
		c.add(field, "is not a known province code")
		return false
	}
	return true
}

// commune checks a commune code and, when province is given, that the
// commune lies in it.
func (c *checker) commune(field, code, province string) {
	if strings.TrimSpace(code) == "" {
		c.add(field, "is required")
		return
	}
	cm, ok := civil.LookupCommune(code)
	if !ok {
		c.add(field, "is not a known commune code")
		return
	}
	if province != "" && cm.ProvinceCode != province {
		c.add(field, "commune %s is in province %s, not %s", code, cm.ProvinceCode, province)
	}
}

func (c *checker) phone(field, v string) {
	if strings.TrimSpace(v) == "" {
		c.add(field, "is required: the applicant looks the dossier up with it")
		return
	}
	if _, err := civil.NormalizePhone(v); err != nil {
		c.add(field, "%s", err)
	}
}

// email checks an optional address.
func (c *checker) email(field, v string) {
	if v == "" {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || len(v) > 254 {
		c.add(field, "must be a plain e-mail address such as ten@example.vn")
		return
	}
	_, domain, _ := strings.Cut(v, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		c.add(field, "must be a plain e-mail address such as ten@example.vn")
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
	c.name(path+".full_name", p.GetFullName())
	birth, birthOK := c.date(path+".birth_date", p.GetBirthDate(), now)
	if birthOK && !childBirth.IsZero() && !birth.Before(childBirth.In(civil.Zone)) {
		c.add(path+".birth_date", "must be before the child's birth")
		birthOK = false
	}
	c.text(path+".ethnicity", p.GetEthnicity(), true)
	c.text(path+".nationality", p.GetNationality(), true)

	sex := role
	switch p.GetSex() {
	case enginev1.Sex_SEX_UNSPECIFIED:
	case enginev1.Sex_SEX_MALE, enginev1.Sex_SEX_FEMALE:
		if s := c.sex(path+".sex", p.GetSex()); s != role {
			c.add(path+".sex", "a %s is recorded as %s", strings.TrimPrefix(path, "form."), role)
		}
	default:
		c.add(path+".sex", "is not a known value")
	}

	id, passport := strings.TrimSpace(p.GetIdNumber()), strings.TrimSpace(p.GetPassportNumber())
	switch {
	case id != "":
		if birthOK {
			if err := civil.CheckIDAgrees(p.GetIdNumber(), sex, birth.Year()); err != nil {
				c.add(path+".id_number", "%s", err)
			}
		} else {
			c.idShape(path+".id_number", p.GetIdNumber())
		}
	case isVietnamese(p.GetNationality()):
		c.add(path+".id_number", "is required for a Vietnamese parent (a passport number is accepted for foreign parents)")
	case passport == "":
		c.add(path+".passport_number", "a foreign parent needs an ID number or a passport number")
	}
	if passport != "" {
		c.passport(path+".passport_number", p.GetPassportNumber())
	}
}

func (c *checker) passport(field, v string) {
	if len(v) < 6 || len(v) > 20 {
		c.add(field, "must be 6 to 20 letters and digits")
		return
	}
	for _, r := range v {
		if !isAlnum(r) {
			c.add(field, "must be 6 to 20 letters and digits")
			return
		}
	}
}

// recipient checks the funeral-allowance recipient of bundles THREE and FOUR.
func (c *checker) recipient(path string, r *enginev1.AllowanceRecipient) {
	if r == nil {
		c.add(path, "is required with the funeral allowance (DEATH_BUNDLE_THREE or DEATH_BUNDLE_FOUR)")
		return
	}
	c.name(path+".full_name", r.GetFullName())
	c.idShape(path+".id_number", r.GetIdNumber())
	c.text(path+".relationship", r.GetRelationship(), true)
	switch r.GetPaymentMethod() {
	case enginev1.PaymentMethod_PAYMENT_METHOD_CASH:
	case enginev1.PaymentMethod_PAYMENT_METHOD_BANK:
		code := r.GetBankCode()
		if code == "" {
			c.add(path+".bank_code", "is required for payment by bank")
		} else if !alnum(code, 2, 11) {
			c.add(path+".bank_code", "must be 2 to 11 letters and digits (a bank's short code or BIC)")
		}
		acct := r.GetBankAccount()
		if acct == "" {
			c.add(path+".bank_account", "is required for payment by bank")
		} else if !digits(acct, 6, 20) {
			c.add(path+".bank_account", "must be 6 to 20 digits")
		}
	case enginev1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED:
		c.add(path+".payment_method", "is required: PAYMENT_METHOD_BANK or PAYMENT_METHOD_CASH")
	default:
		c.add(path+".payment_method", "is not a known value")
	}
}

// maxSurvivors bounds the relatives one claim names; the monthly benefit is
// paid for at most four of them.
const maxSurvivors = 10

// survivors checks the survivor-benefit claim of bundle FOUR: each relative's
// name, ID number (which must agree with the year of birth; the sex is read
// from it), relationship, date of birth and loss of working capacity.
func (c *checker) survivors(path string, claim *enginev1.SurvivorClaim, deceasedID string, now time.Time) {
	if claim == nil {
		c.add(path, "is required with the survivor benefit (DEATH_BUNDLE_FOUR)")
		return
	}
	list := claim.GetSurvivors()
	switch {
	case len(list) == 0:
		c.add(path+".survivors", "name at least one relative the benefit is claimed for")
		return
	case len(list) > maxSurvivors:
		c.add(path+".survivors", "must name at most %d relatives", maxSurvivors)
		return
	}
	seen := map[string]bool{}
	for i, s := range list {
		p := fmt.Sprintf("%s.survivors[%d]", path, i)
		c.name(p+".full_name", s.GetFullName())
		birth, birthOK := c.date(p+".birth_date", s.GetBirthDate(), now)
		id := strings.TrimSpace(s.GetIdNumber())
		switch parsed, err := civil.ParseIDNumber(id); {
		case id == "":
			c.add(p+".id_number", "is required")
		case err != nil:
			c.add(p+".id_number", "%s", err)
		case id == deceasedID:
			c.add(p+".id_number", "is the deceased's own ID number")
		case seen[id]:
			c.add(p+".id_number", "names the same relative twice")
		case birthOK:
			if err := civil.CheckIDAgrees(id, parsed.Sex, birth.Year()); err != nil {
				c.add(p+".id_number", "%s", err)
			}
		}
		seen[id] = true
		switch s.GetRelationship() {
		case enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_UNSPECIFIED:
			c.add(p+".relationship", "is required: child, spouse, parent, parent-in-law or dependant")
		case enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD, enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_SPOUSE,
			enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_PARENT, enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_PARENT_IN_LAW,
			enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_DEPENDANT:
		default:
			c.add(p+".relationship", "is not a known value")
		}
		if pct := s.GetWorkingCapacityLossPercent(); pct < 0 || pct > 100 {
			c.add(p+".working_capacity_loss_percent", "must be a percentage from 0 to 100")
		}
	}
}

func alnum(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
}

func digits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
