package civil

import (
	"errors"
	"fmt"
	"time"
)

// Child health-insurance card constants: object code TE (trẻ em, children under six) at
// benefit level 1.
const (
	ChildCardObjectCode   = "TE"
	ChildCardBenefitLevel = 1
)

// ErrSocialInsuranceCode is returned, wrapped, for a code that cannot be built.
var ErrSocialInsuranceCode = errors.New("cannot build social-insurance code")

// ChildCardValidity returns the first and last day (both inclusive, midnight in Zone) of
// a child's health-insurance card: from the day of birth to the day the child turns 72
// months; if that day falls before 30 September, to 30 September of that year.
//
// A child born on 29 February turns 72 months on 28 February (see AgeInMonths); that is
// always before 30 September, so the card runs to 30 September either way.
func ChildCardValidity(birthDate time.Time) (from, to time.Time) {
	from = dateIn(birthDate)
	to = addMonths(from, 72)
	if endSept := time.Date(to.Year(), time.September, 30, 0, 0, 0, 0, Zone); to.Before(endSept) {
		to = endSept
	}
	return from, to
}

// addMonths returns the month anniversary of d n months later. When that month is too
// short for d's day, the anniversary is its last day (Civil Code 2015 art. 148: a period
// that ends in a month without the matching day ends on that month's last day).
func addMonths(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	total := int(m) - 1 + n
	ty, tm := y+total/12, time.Month(total%12+1)
	return time.Date(ty, tm, min(day, daysIn(ty, tm)), 0, 0, 0, 0, Zone)
}

// AgeInMonths returns the full months from birth to at, both read as days in Zone. A month
// is complete on its anniversary day, or on the last day of a month too short for it: a
// child born on 31 January is one month old on 28 February. It is 0 when at is before birth.
func AgeInMonths(birth, at time.Time) int {
	b, a := dateIn(birth), dateIn(at)
	if a.Before(b) {
		return 0
	}
	months := (a.Year()-b.Year())*12 + int(a.Month()) - int(b.Month())
	if a.Before(addMonths(b, months)) {
		months--
	}
	return months
}

// UnderSix reports whether the child is younger than 72 months on at.
func UnderSix(birth, at time.Time) bool {
	return AgeInMonths(birth, at) < 72
}

// NewSocialInsuranceCode builds a 10-digit social-insurance code (mã số BHXH): a 2-digit
// province prefix and an 8-digit serial (0..99,999,999).
//
// Assumption: the prefix is the province's 2-digit administrative code, i.e. the 3-digit
// ID-number code without its leading 0 ("079" gives "79"), and only current provinces
// issue codes. BHXH assigns real codes; this builds codes of the same shape for the
// Insurance mock and tests.
func NewSocialInsuranceCode(provinceCode string, serial int64) (string, error) {
	if _, ok := LookupProvince(provinceCode); !ok {
		return "", fmt.Errorf("%w: %q is not a current province code", ErrSocialInsuranceCode, provinceCode)
	}
	if serial < 0 || serial > 99_999_999 {
		return "", fmt.Errorf("%w: serial %d is outside 0-99999999", ErrSocialInsuranceCode, serial)
	}
	return fmt.Sprintf("%s%08d", provinceCode[1:], serial), nil
}
