package agency

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Checks shared by the agencies' requests. Each adds a field violation and
// never repeats the value: ID numbers and names are personal data.

// clockSkew tolerates callers whose clock runs a little ahead.
const clockSkew = 5 * time.Minute

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

func (v *violations) sex(field string, s agencyv1.Sex) civil.Sex {
	cs := civilSex(s)
	if cs == civil.SexUnknown {
		v.add(field, "must be SEX_MALE or SEX_FEMALE")
	}
	return cs
}

func (v *violations) name(field, name string) {
	if err := civil.ValidateName(name); err != nil {
		v.add(field, "%s", err.Error())
	}
}

func (v *violations) idNumber(field, id string) {
	if id == "" {
		v.add(field, "is required")
		return
	}
	if _, err := civil.ParseIDNumber(id); err != nil {
		v.add(field, "%s", err.Error())
	}
}

// date parses a YYYY-MM-DD day in civil.Zone; past says it must not be in the future.
func (v *violations) date(field, s string, required bool) (time.Time, bool) {
	if s == "" {
		if required {
			v.add(field, "is required (YYYY-MM-DD)")
		}
		return time.Time{}, false
	}
	d, err := time.ParseInLocation(time.DateOnly, s, civil.Zone)
	if err != nil {
		v.add(field, "must be a date YYYY-MM-DD")
		return time.Time{}, false
	}
	if d.After(time.Now().Add(clockSkew)) {
		v.add(field, "must not be in the future")
		return time.Time{}, false
	}
	return d, true
}

func (v *violations) timestamp(field string, ts *timestamppb.Timestamp) (time.Time, bool) {
	if ts == nil {
		v.add(field, "is required")
		return time.Time{}, false
	}
	if err := ts.CheckValid(); err != nil {
		v.add(field, "is not a valid time")
		return time.Time{}, false
	}
	t := ts.AsTime()
	if t.After(time.Now().Add(clockSkew)) {
		v.add(field, "must not be in the future")
		return time.Time{}, false
	}
	return t, true
}

func (v *violations) commune(field, code string) (civil.Commune, bool) {
	c, ok := civil.LookupCommune(code)
	if !ok {
		v.add(field, "is not a known commune code")
	}
	return c, ok
}

// personRef checks the parts of a person reference that are given.
func (v *violations) personRef(field string, p *agencyv1.PersonRef, nameRequired bool) {
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
	v.date(field+".birth_date", p.GetBirthDate(), false)
}

func dateText(t time.Time) string { return t.In(civil.Zone).Format(time.DateOnly) }

func timeText(t time.Time) string { return t.In(civil.Zone).Format(time.RFC3339) }

// payment checks how an allowance or benefit is paid: by bank, with the
// bank's details, or in cash.
func (v *violations) payment(method agencyv1.PaymentMethod, bankCode, bankAccount string) {
	switch method {
	case agencyv1.PaymentMethod_PAYMENT_METHOD_BANK:
		v.require("bank_code", bankCode)
		v.require("bank_account", bankAccount)
	case agencyv1.PaymentMethod_PAYMENT_METHOD_CASH:
	default:
		v.add("payment_method", "must be PAYMENT_METHOD_BANK or PAYMENT_METHOD_CASH")
	}
}
