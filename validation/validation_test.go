package validation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/validation"
)

// now is Tuesday 3 March 2026, 10:00 in Hà Nội.
var now = time.Date(2026, 3, 3, 10, 0, 0, 0, civil.Zone)

// only returns the one description c recorded for field, or "".
func only(t *testing.T, c *validation.Checker, field string) string {
	t.Helper()
	vs := c.Violations()
	if len(vs) == 0 {
		return ""
	}
	require.Len(t, vs, 1, "%v", vs)
	require.Equal(t, field, vs[0].Field)
	return vs[0].Description
}

func TestRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		check func(c *validation.Checker)
		field string
		want  string // "" when the value passes
	}{
		{"a blank value is missing", func(c *validation.Checker) { c.Required("f", " ") }, "f", "is required"},
		{"a value is there", func(c *validation.Checker) { c.Required("f", "x") }, "f", ""},
		{"optional text may be empty", func(c *validation.Checker) { c.Text("f", "", false) }, "f", ""},
		{"text too long", func(c *validation.Checker) { c.Text("f", string(make([]rune, 201)), true) }, "f", "must be at most 200 characters"},
		{"text with a control character", func(c *validation.Checker) { c.Text("f", "a\x07b", true) }, "f", "must not contain control characters"},
		{"text not UTF-8", func(c *validation.Checker) { c.Text("f", "\xff", true) }, "f", "must be valid UTF-8"},
		{"a name in NFC", func(c *validation.Checker) { c.Name("f", "Nguyễn Văn An") }, "f", ""},
		{"an empty name", func(c *validation.Checker) { c.Name("f", "") }, "f", civil.ErrNameEmpty.Error()},
		{"a missing ID number", func(c *validation.Checker) { c.IDNumber("f", "") }, "f", "is required"},
		{"an ID number of 11 digits", func(c *validation.Checker) { c.IDNumber("f", "00109012345") }, "f", civil.ErrIDShape.Error() + ": got 11 bytes"},
		{"an unknown province", func(c *validation.Checker) { c.Province("f", "999") }, "f", "is not a known province code"},
		{"a province merged in 2025, where old codes count", func(c *validation.Checker) { c.AnyProvince("f", "074") }, "f", ""},
		{"a province merged in 2025, where only current codes count", func(c *validation.Checker) { c.Province("f", "074") }, "f", "is not a known province code"},
		{"a province code that never was", func(c *validation.Checker) { c.AnyProvince("f", "999") }, "f", "is not a known province code"},
		{"a missing facility", func(c *validation.Checker) { c.Facility("f", "") }, "f", "is required: the initial health-care facility for the child's card"},
		{"an unknown facility", func(c *validation.Checker) { c.Facility("f", "99999") }, "f", "is not a known health-care facility code"},
		{"a known facility", func(c *validation.Checker) { c.Facility("f", "01001") }, "f", ""},
		{"a percentage over 100", func(c *validation.Checker) { c.Percent("f", 101) }, "f", "must be a percentage from 0 to 100"},
		{"a negative percentage", func(c *validation.Checker) { c.Percent("f", -1) }, "f", "must be a percentage from 0 to 100"},
		{"a whole percentage", func(c *validation.Checker) { c.Percent("f", 100) }, "f", ""},
		{"a claim for nobody", func(c *validation.Checker) { c.Relatives("f", 0) }, "f", "name at least one relative the benefit is claimed for"},
		{"a missing commune", func(c *validation.Checker) { c.Commune("f", "", "") }, "f", "is required"},
		{"an unknown commune", func(c *validation.Checker) { c.Commune("f", "99999", "") }, "f", "is not a known commune code"},
		{"a commune of another province", func(c *validation.Checker) { c.Commune("f", "16681", "001") }, "f", "commune 16681 is in province 040, not 001"},
		{"a commune in its province", func(c *validation.Checker) { c.Commune("f", "00004", "001") }, "f", ""},
		{"a missing date", func(c *validation.Checker) { c.Date("f", "", now) }, "f", "is required (YYYY-MM-DD)"},
		{"a date written another way", func(c *validation.Checker) { c.Date("f", "03/03/2026", now) }, "f", "must be a date as YYYY-MM-DD"},
		{"a date before 1900", func(c *validation.Checker) { c.Date("f", "1899-12-31", now) }, "f", "is before 1900"},
		{"today", func(c *validation.Checker) { c.Date("f", "2026-03-03", now) }, "f", ""},
		{"tomorrow", func(c *validation.Checker) { c.Date("f", "2026-03-04", now) }, "f", "is in the future"},
		{"tomorrow, minutes before midnight", func(c *validation.Checker) {
			c.Date("f", "2026-03-04", time.Date(2026, 3, 3, 23, 58, 0, 0, civil.Zone))
		}, "f", ""},
		{"a missing time", func(c *validation.Checker) { c.PastTime("f", nil, now) }, "f", "is required"},
		{"an invalid time", func(c *validation.Checker) { c.PastTime("f", &timestamppb.Timestamp{Nanos: -1}, now) }, "f", "is not a valid time"},
		{"a time a clock's skew ahead", func(c *validation.Checker) {
			c.PastTime("f", timestamppb.New(now.Add(validation.ClockSkew)), now)
		}, "f", ""},
		{"a time past the skew", func(c *validation.Checker) {
			c.PastTime("f", timestamppb.New(now.Add(validation.ClockSkew+time.Second)), now)
		}, "f", "is in the future"},
		{"a time before 1900", func(c *validation.Checker) {
			c.PastTime("f", timestamppb.New(time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)), now)
		}, "f", "is before 1900"},
		{"a short passport number", func(c *validation.Checker) { c.Passport("f", "12AB") }, "f", "must be 6 to 20 letters and digits"},
		{"a passport number with a dash", func(c *validation.Checker) { c.Passport("f", "18AB-12345") }, "f", "must be 6 to 20 letters and digits"},
		{"a passport number", func(c *validation.Checker) { c.Passport("f", "18AB12345") }, "f", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c validation.Checker
			tc.check(&c)
			require.Equal(t, tc.want, only(t, &c, tc.field))
		})
	}
}

// The engine's and the agencies' contracts spell Sex and PaymentMethod alike,
// and are read alike.
func TestEnumsOfBothContracts(t *testing.T) {
	t.Parallel()
	sexes := []struct {
		name string
		in   protoreflect.Enum
		want civil.Sex
		msg  string
	}{
		{"engine male", enginev1.Sex_SEX_MALE, civil.SexMale, ""},
		{"agency female", agencyv1.Sex_SEX_FEMALE, civil.SexFemale, ""},
		{"engine unspecified", enginev1.Sex_SEX_UNSPECIFIED, civil.SexUnknown, "is required: SEX_MALE or SEX_FEMALE"},
		{"agency unspecified", agencyv1.Sex_SEX_UNSPECIFIED, civil.SexUnknown, "is required: SEX_MALE or SEX_FEMALE"},
		{"agency unknown number", agencyv1.Sex(42), civil.SexUnknown, "is not a known value"},
	}
	for _, tc := range sexes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c validation.Checker
			require.Equal(t, tc.want, c.Sex("sex", tc.in))
			require.Equal(t, tc.msg, only(t, &c, "sex"))
		})
	}

	relationships := []struct {
		name string
		in   protoreflect.Enum
		want civil.Relationship
		msg  string
	}{
		{"engine child", enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_CHILD, civil.RelationshipChild, ""},
		{"agency parent-in-law", agencyv1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_PARENT_IN_LAW, civil.RelationshipParentInLaw, ""},
		{"agency dependant", agencyv1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_DEPENDANT, civil.RelationshipDependant, ""},
		{"engine unspecified", enginev1.SurvivorRelationship_SURVIVOR_RELATIONSHIP_UNSPECIFIED, "",
			"is required: child, spouse, parent, parent-in-law or dependant"},
		{"agency unknown number", agencyv1.SurvivorRelationship(42), "", "is not a known value"},
	}
	for _, tc := range relationships {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c validation.Checker
			require.Equal(t, tc.want, c.Relationship("relationship", tc.in))
			require.Equal(t, tc.msg, only(t, &c, "relationship"))
		})
	}
	// Both contracts spell every relationship the rules know, so a claim
	// read from either maps to the same civil.Relationship.
	for _, rel := range civil.Relationships() {
		name := protoreflect.Name("SURVIVOR_RELATIONSHIP_" + strings.ToUpper(string(rel)))
		for _, e := range []protoreflect.EnumType{
			enginev1.SurvivorRelationship(0).Type(), agencyv1.SurvivorRelationship(0).Type(),
		} {
			v := e.Descriptor().Values().ByName(name)
			require.NotNil(t, v, "%s has no %s", e.Descriptor().FullName(), name)
			require.Equal(t, rel, validation.RelationshipOf(e.New(v.Number())), "%s", name)
		}
	}

	payments := []struct {
		name          string
		method        protoreflect.Enum
		code, account string
		want          map[string]string
	}{
		{"cash", agencyv1.PaymentMethod_PAYMENT_METHOD_CASH, "", "", map[string]string{}},
		{"bank", enginev1.PaymentMethod_PAYMENT_METHOD_BANK, "VCB", "0011004455667", map[string]string{}},
		{"bank without details", agencyv1.PaymentMethod_PAYMENT_METHOD_BANK, "", "", map[string]string{
			"r.bank_code": "is required for payment by bank", "r.bank_account": "is required for payment by bank"}},
		{"bank details of the wrong shape", enginev1.PaymentMethod_PAYMENT_METHOD_BANK, "V", "12ab", map[string]string{
			"r.bank_code":    "must be 2 to 11 letters and digits (a bank's short code or BIC)",
			"r.bank_account": "must be 6 to 20 digits"}},
		{"no method", agencyv1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED, "", "", map[string]string{
			"r.payment_method": "is required: PAYMENT_METHOD_BANK or PAYMENT_METHOD_CASH"}},
		{"an unknown method", enginev1.PaymentMethod(9), "", "", map[string]string{"r.payment_method": "is not a known value"}},
	}
	for _, tc := range payments {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c validation.Checker
			c.Payment("r.", tc.method, tc.code, tc.account)
			got := map[string]string{}
			for _, v := range c.Violations() {
				got[v.Field] = v.Description
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestChecker(t *testing.T) {
	t.Parallel()

	t.Run("nothing recorded is no error", func(t *testing.T) {
		t.Parallel()
		var c validation.Checker
		require.NoError(t, c.Err())
		require.Nil(t, c.Violations())
	})

	t.Run("violations are invalid input, in order", func(t *testing.T) {
		t.Parallel()
		var c validation.Checker
		c.Required("a", "")
		c.Add("b", "must be %s", "better")
		var de *dossier.Error
		require.ErrorAs(t, c.Err(), &de)
		require.Equal(t, dossier.KindInvalid, de.Kind)
		require.Equal(t, []dossier.FieldViolation{{Field: "a", Description: "is required"}, {Field: "b", Description: "must be better"}}, de.Violations)
	})

	t.Run("Translate sees the field, the format and its arguments", func(t *testing.T) {
		t.Parallel()
		type call struct {
			field, format string
			args          []any
		}
		var calls []call
		c := validation.Checker{Translate: func(field, format string, args ...any) string {
			calls = append(calls, call{field, format, args})
			return "bản dịch"
		}}
		c.Commune("commune_code", "16681", "001")
		require.Equal(t, []call{{"commune_code", "commune %s is in province %s, not %s", []any{"16681", "040", "001"}}}, calls)
		require.Equal(t, "bản dịch", c.Violations()[0].Vietnamese)
	})
}
