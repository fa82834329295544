package civil

import (
	"errors"
	"fmt"
	"strconv"
)

// Sex is a person's sex as recorded in civil status and encoded in the ID number.
type Sex int

const (
	SexUnknown Sex = 0
	SexMale    Sex = 1
	SexFemale  Sex = 2
)

func (s Sex) String() string {
	switch s {
	case SexMale:
		return "male"
	case SexFemale:
		return "female"
	default:
		return "unknown"
	}
}

// Errors about ID numbers. Each is wrapped with detail; test with errors.Is. The detail
// never repeats the whole number, so errors can be logged without personal data.
var (
	ErrIDShape    = errors.New("ID number must be exactly 12 ASCII digits")
	ErrIDProvince = errors.New("ID number has an unknown province code")
	ErrIDSex      = errors.New("ID number's century/sex digit does not fit")
	ErrIDYear     = errors.New("ID number's year of birth does not fit")
)

// IDNumber is a parsed 12-digit personal identification number (Decree 137/2015,
// Circular 59/2021/TT-BCA): province code of birth registration (3 digits), century/sex
// digit, last two digits of the year of birth, and 6 random digits.
type IDNumber struct {
	Province  string // 3 digits; a current or a pre-2025 province code
	Sex       Sex
	BirthYear int    // 1900..2199
	Serial    string // 6 digits
}

// String returns the 12-digit form.
func (id IDNumber) String() string {
	return fmt.Sprintf("%s%d%02d%s", id.Province, centuryDigit(id.Sex, id.BirthYear), id.BirthYear%100, id.Serial)
}

// The century/sex digit is even for men and odd for women; its half picks the century:
// 0/1 1900-1999, 2/3 2000-2099, 4/5 2100-2199. Circular 59/2021 goes on to 6-9 for
// 2200-2399; lienthong stops at 5 because no one alive or about to be born needs more.
const (
	firstYear = 1900
	lastYear  = 2199
)

func centuryDigit(sex Sex, year int) int {
	d := (year/100 - 19) * 2
	if sex == SexFemale {
		d++
	}
	return d
}

// ParseIDNumber checks the shape of s and decodes its parts. It accepts the province codes
// of the 34 current provinces and of the 63 pre-2025 ones: numbers are never re-issued
// when provinces merge.
func ParseIDNumber(s string) (IDNumber, error) {
	if len(s) != 12 {
		return IDNumber{}, fmt.Errorf("%w: got %d bytes", ErrIDShape, len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return IDNumber{}, fmt.Errorf("%w: position %d is not a digit", ErrIDShape, i+1)
		}
	}
	province := s[:3]
	if !knownIDProvince(province) {
		return IDNumber{}, fmt.Errorf("%w: %s", ErrIDProvince, province)
	}
	digit := int(s[3] - '0')
	if digit > 5 {
		return IDNumber{}, fmt.Errorf("%w: %d is not 0-5", ErrIDSex, digit)
	}
	sex := SexMale
	if digit%2 == 1 {
		sex = SexFemale
	}
	yy, _ := strconv.Atoi(s[4:6])
	return IDNumber{
		Province:  province,
		Sex:       sex,
		BirthYear: 1900 + (digit/2)*100 + yy,
		Serial:    s[6:],
	}, nil
}

// CheckIDAgrees parses id and checks that it encodes the given sex and year of birth, as
// a child's or parent's record must. An unknown sex cannot agree with any number.
func CheckIDAgrees(id string, sex Sex, birthYear int) error {
	n, err := ParseIDNumber(id)
	if err != nil {
		return err
	}
	if sex != SexMale && sex != SexFemale {
		return fmt.Errorf("%w: the record's sex is %s", ErrIDSex, sex)
	}
	if n.Sex != sex {
		return fmt.Errorf("%w: the number encodes %s, the record says %s", ErrIDSex, n.Sex, sex)
	}
	if n.BirthYear != birthYear {
		return fmt.Errorf("%w: the number encodes %d, the record says %d", ErrIDYear, n.BirthYear, birthYear)
	}
	return nil
}

// NewIDNumber builds the 12-digit number for a person registered in province (a current or
// pre-2025 code), of the given sex and year of birth, with serial 0..999999 as the random
// part. It is what the Police mock issues; ParseIDNumber accepts everything it returns.
func NewIDNumber(province string, sex Sex, birthYear int, serial int) (string, error) {
	if len(province) != 3 || !knownIDProvince(province) {
		return "", fmt.Errorf("%w: %q", ErrIDProvince, province)
	}
	if sex != SexMale && sex != SexFemale {
		return "", fmt.Errorf("%w: sex must be male or female, got %s", ErrIDSex, sex)
	}
	if birthYear < firstYear || birthYear > lastYear {
		return "", fmt.Errorf("%w: %d is outside %d-%d", ErrIDYear, birthYear, firstYear, lastYear)
	}
	if serial < 0 || serial > 999999 {
		return "", fmt.Errorf("%w: serial %d is outside 0-999999", ErrIDShape, serial)
	}
	return IDNumber{Province: province, Sex: sex, BirthYear: birthYear, Serial: fmt.Sprintf("%06d", serial)}.String(), nil
}
