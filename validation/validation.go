// Package validation is the one vocabulary in which lienthong tells a caller
// what is wrong with a request. The engine's API and the mock agencies both
// check their requests with a Checker, so the same rule reads the same way
// wherever it is broken.
//
// A Checker collects one violation per bad field, named by its proto path
// (form.child.full_name), so a form can show each error beside its field.
// Messages never repeat ID numbers or names: those are personal data. Rules
// about the past and the future take the moment the request arrived from the
// caller; nothing here reads a clock.
//
// Every violation is made from a constant format and its arguments, and a
// Checker's Translate sees both: the API looks its Vietnamese messages up by
// format, so no message is ever parsed.
//
// It may import civil and dossier; it must not import any other lienthong
// package.
package validation

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// ClockSkew is how far in the future a time or date may lie before it counts
// as a mistake rather than a caller's clock running a little ahead.
const ClockSkew = 5 * time.Minute

// MaxText bounds a free-text field, in characters.
const MaxText = 200

// earliestYear is the first year a birth, death or other civil date may lie
// in: anything earlier is a typing mistake.
const earliestYear = 1900

// Checker collects the violations of one request. The zero Checker is ready
// to use.
type Checker struct {
	// Translate, when set, gives each violation the message for the people
	// who read the console (dossier.FieldViolation.Vietnamese), from the
	// field, the constant format it was made with and its arguments.
	Translate func(field, format string, args ...any) string

	vs []dossier.FieldViolation
}

// Add records that field is wrong, in the words of format and args. Format is
// a constant, so that Translate can look it up.
func (c *Checker) Add(field, format string, args ...any) {
	v := dossier.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)}
	if c.Translate != nil {
		v.Vietnamese = c.Translate(field, format, args...)
	}
	c.vs = append(c.vs, v)
}

// Violations returns what was recorded, in order; nil when nothing was.
func (c *Checker) Violations() []dossier.FieldViolation { return c.vs }

// Err is nil when nothing was recorded, else an invalid-input dossier error
// carrying every violation.
func (c *Checker) Err() error {
	if len(c.vs) == 0 {
		return nil
	}
	return dossier.Invalid(c.vs)
}

// Required checks that v is not blank, and says whether it is there.
func (c *Checker) Required(field, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.Add(field, "is required")
		return false
	}
	return true
}

// Text checks a free-text field: valid UTF-8, no control characters, at most
// MaxText characters.
func (c *Checker) Text(field, v string, required bool) {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			c.Add(field, "is required")
		}
	case !utf8.ValidString(v):
		c.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > MaxText:
		c.Add(field, "must be at most %d characters", MaxText)
	default:
		for _, r := range v {
			if unicode.IsControl(r) {
				c.Add(field, "must not contain control characters")
				return
			}
		}
	}
}

// Name checks a person's full name by civil.ValidateName.
func (c *Checker) Name(field, v string) {
	if err := civil.ValidateName(v); err != nil {
		c.Add(field, "%s", err)
	}
}

// IDNumber checks the shape of a required personal ID number; whether it
// agrees with a sex and year of birth is civil.CheckIDAgrees.
func (c *Checker) IDNumber(field, v string) bool {
	if !c.Required(field, v) {
		return false
	}
	if _, err := civil.ParseIDNumber(v); err != nil {
		c.Add(field, "%s", err)
		return false
	}
	return true
}

// Province checks a required current province code.
func (c *Checker) Province(field, code string) bool {
	if !c.Required(field, code) {
		return false
	}
	if _, ok := civil.LookupProvince(code); !ok {
		c.Add(field, "is not a known province code")
		return false
	}
	return true
}

// AnyProvince checks a required province code that is current or was in
// use before the 2025 merger of provinces: records made before it still
// carry the old codes.
func (c *Checker) AnyProvince(field, code string) bool {
	if !c.Required(field, code) {
		return false
	}
	if _, ok := civil.LookupProvince(code); ok {
		return true
	}
	if _, ok := civil.LookupLegacyProvince(code); ok {
		return true
	}
	c.Add(field, "is not a known province code")
	return false
}

// Facility checks a required initial health-care facility code, where the
// child's health-insurance card is registered.
func (c *Checker) Facility(field, code string) bool {
	if strings.TrimSpace(code) == "" {
		c.Add(field, "is required: the initial health-care facility for the child's card")
		return false
	}
	if _, ok := civil.LookupFacility(code); !ok {
		c.Add(field, "is not a known health-care facility code")
		return false
	}
	return true
}

// Commune checks a required commune code and, when province is given, that
// the commune lies in it.
func (c *Checker) Commune(field, code, province string) (civil.Commune, bool) {
	if !c.Required(field, code) {
		return civil.Commune{}, false
	}
	cm, ok := civil.LookupCommune(code)
	if !ok {
		c.Add(field, "is not a known commune code")
		return civil.Commune{}, false
	}
	if province != "" && cm.ProvinceCode != province {
		c.Add(field, "commune %s is in province %s, not %s", code, cm.ProvinceCode, province)
		return cm, false
	}
	return cm, true
}

// Date checks a required YYYY-MM-DD civil date, not before 1900 and not in
// the future at now; it returns midnight of that day in civil.Zone.
func (c *Checker) Date(field, v string, now time.Time) (time.Time, bool) {
	if strings.TrimSpace(v) == "" {
		c.Add(field, "is required (YYYY-MM-DD)")
		return time.Time{}, false
	}
	d, err := time.ParseInLocation(time.DateOnly, v, civil.Zone)
	if err != nil {
		c.Add(field, "must be a date as YYYY-MM-DD")
		return time.Time{}, false
	}
	if d.Year() < earliestYear {
		c.Add(field, "is before 1900")
		return time.Time{}, false
	}
	if d.After(now.Add(ClockSkew).In(civil.Zone)) {
		c.Add(field, "is in the future")
		return time.Time{}, false
	}
	return d, true
}

// PastTime checks a required moment, not in the future at now and not
// before 1900.
func (c *Checker) PastTime(field string, ts *timestamppb.Timestamp, now time.Time) (time.Time, bool) {
	if ts == nil {
		c.Add(field, "is required")
		return time.Time{}, false
	}
	if err := ts.CheckValid(); err != nil {
		c.Add(field, "is not a valid time")
		return time.Time{}, false
	}
	t := ts.AsTime()
	if t.After(now.Add(ClockSkew)) {
		c.Add(field, "is in the future")
		return time.Time{}, false
	}
	if t.Year() < earliestYear {
		c.Add(field, "is before 1900")
		return time.Time{}, false
	}
	return t, true
}

// Sex checks a required Sex of either contract (SEX_MALE, SEX_FEMALE; the
// engine's and the agencies' enums are spelt alike) and returns it as
// civil.SexUnknown when it is missing or unknown.
func (c *Checker) Sex(field string, s protoreflect.Enum) civil.Sex {
	switch enumName(s) {
	case "SEX_MALE":
		return civil.SexMale
	case "SEX_FEMALE":
		return civil.SexFemale
	}
	if s.Number() == 0 {
		c.Add(field, "is required: SEX_MALE or SEX_FEMALE")
	} else {
		c.Add(field, "is not a known value")
	}
	return civil.SexUnknown
}

// Payment checks how an allowance or benefit is paid (PAYMENT_METHOD_BANK or
// PAYMENT_METHOD_CASH, alike in both contracts) and, by bank, the bank's
// short code and the account. Fields are named prefix+"payment_method",
// prefix+"bank_code" and prefix+"bank_account".
func (c *Checker) Payment(prefix string, method protoreflect.Enum, bankCode, bankAccount string) {
	switch enumName(method) {
	case "PAYMENT_METHOD_CASH":
	case "PAYMENT_METHOD_BANK":
		if bankCode == "" {
			c.Add(prefix+"bank_code", "is required for payment by bank")
		} else if !alnum(bankCode, 2, 11) {
			c.Add(prefix+"bank_code", "must be 2 to 11 letters and digits (a bank's short code or BIC)")
		}
		if bankAccount == "" {
			c.Add(prefix+"bank_account", "is required for payment by bank")
		} else if !digits(bankAccount, 6, 20) {
			c.Add(prefix+"bank_account", "must be 6 to 20 digits")
		}
	default:
		if method.Number() == 0 {
			c.Add(prefix+"payment_method", "is required: PAYMENT_METHOD_BANK or PAYMENT_METHOD_CASH")
		} else {
			c.Add(prefix+"payment_method", "is not a known value")
		}
	}
}

// Relationship checks how a claimed survivor is related to the deceased,
// in either contract (SURVIVOR_RELATIONSHIP_CHILD and so on, spelt alike),
// and returns it; "" when it is missing or unknown.
func (c *Checker) Relationship(field string, r protoreflect.Enum) civil.Relationship {
	if rel := RelationshipOf(r); rel != "" {
		return rel
	}
	if r.Number() == 0 {
		c.Add(field, "is required: child, spouse, parent, parent-in-law or dependant")
	} else {
		c.Add(field, "is not a known value")
	}
	return ""
}

// RelationshipOf is the survivor relationship an enum value names (its
// name is SURVIVOR_RELATIONSHIP_ and the relationship in capitals), or ""
// for none.
func RelationshipOf(r protoreflect.Enum) civil.Relationship {
	name := enumName(r)
	for _, rel := range civil.Relationships() {
		if name == protoreflect.Name("SURVIVOR_RELATIONSHIP_"+strings.ToUpper(string(rel))) {
			return rel
		}
	}
	return ""
}

// Percent checks a whole percentage, from 0 to 100.
func (c *Checker) Percent(field string, v int32) {
	if v < 0 || v > 100 {
		c.Add(field, "must be a percentage from 0 to 100")
	}
}

// Relatives checks that a survivor-benefit claim names at least one of the
// n relatives it is claimed for.
func (c *Checker) Relatives(field string, n int) {
	if n == 0 {
		c.Add(field, "name at least one relative the benefit is claimed for")
	}
}

// Passport checks a passport number: 6 to 20 letters and digits.
func (c *Checker) Passport(field, v string) {
	if !alnum(v, 6, 20) {
		c.Add(field, "must be 6 to 20 letters and digits")
	}
}

// enumName is the name of e's value in its contract, or "" for a number the
// contract does not define.
func enumName(e protoreflect.Enum) protoreflect.Name {
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return ""
	}
	return v.Name()
}

// alnum says s is minLen to maxLen ASCII letters and digits.
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
