package agency

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/validation"
)

// The agencies' requests are checked in the words of package validation,
// which the engine's API speaks too. Each check adds a field violation and
// never repeats the value: ID numbers and names are personal data. Checks
// about the past are measured from now, the moment the request arrived,
// which the handler passes in.

// violations collects bad fields of one request. Its methods are the
// handlers' short names for the shared checks.
type violations struct {
	c validation.Checker
}

func (v *violations) add(field, format string, args ...any) { v.c.Add(field, format, args...) }

func (v *violations) require(field, value string) { v.c.Required(field, value) }

func (v *violations) err() error { return v.c.Err() }

func (v *violations) sex(field string, s agencyv1.Sex) civil.Sex { return v.c.Sex(field, s) }

func (v *violations) name(field, name string) { v.c.Name(field, name) }

func (v *violations) idNumber(field, id string) { v.c.IDNumber(field, id) }

// date parses a YYYY-MM-DD day in civil.Zone, not in the future at now.
func (v *violations) date(field, s string, required bool, now time.Time) (time.Time, bool) {
	if s == "" && !required {
		return time.Time{}, false
	}
	return v.c.Date(field, s, now)
}

// timestamp checks a required moment, not in the future at now.
func (v *violations) timestamp(field string, ts *timestamppb.Timestamp, now time.Time) (time.Time, bool) {
	return v.c.PastTime(field, ts, now)
}

func (v *violations) commune(field, code string) (civil.Commune, bool) {
	return v.c.Commune(field, code, "")
}

// personRef checks the parts of a person reference that are given.
func (v *violations) personRef(field string, p *agencyv1.PersonRef, nameRequired bool, now time.Time) {
	if p == nil {
		if nameRequired {
			v.add(field, "is required")
		}
		return
	}
	if p.GetFullName() != "" || nameRequired {
		v.name(field+".full_name", p.GetFullName())
	}
	if p.GetIdNumber() != "" {
		v.idNumber(field+".id_number", p.GetIdNumber())
	}
	v.date(field+".birth_date", p.GetBirthDate(), false, now)
}

// payment checks how an allowance or benefit is paid: by bank, with the
// bank's details, or in cash.
func (v *violations) payment(method agencyv1.PaymentMethod, bankCode, bankAccount string) {
	v.c.Payment("", method, bankCode, bankAccount)
}

func civilSex(s agencyv1.Sex) civil.Sex {
	switch s {
	case agencyv1.Sex_SEX_MALE:
		return civil.SexMale
	case agencyv1.Sex_SEX_FEMALE:
		return civil.SexFemale
	}
	return civil.SexUnknown
}

func protoSex(s civil.Sex) agencyv1.Sex {
	switch s {
	case civil.SexMale:
		return agencyv1.Sex_SEX_MALE
	case civil.SexFemale:
		return agencyv1.Sex_SEX_FEMALE
	}
	return agencyv1.Sex_SEX_UNSPECIFIED
}

func dateText(t time.Time) string { return t.In(civil.Zone).Format(time.DateOnly) }

func timeText(t time.Time) string { return t.In(civil.Zone).Format(time.RFC3339) }
