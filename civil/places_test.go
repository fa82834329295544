package civil

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

var (
	provinceCodeRE = regexp.MustCompile(`^0[0-9]{2}$`)
	communeCodeRE  = regexp.MustCompile(`^[0-9]{5}$`)
	facilityCodeRE = regexp.MustCompile(`^[0-9]{2}[0-9A-Z]{3}$`)
)

func TestProvinces(t *testing.T) {
	t.Parallel()
	ps := Provinces()
	require.Len(t, ps, 34)
	require.True(t, slices.IsSortedFunc(ps, func(a, b Province) int { return strings.Compare(a.Code, b.Code) }))
	seen := map[string]bool{}
	for _, p := range ps {
		t.Run(p.Code, func(t *testing.T) {
			t.Parallel()
			require.Regexp(t, provinceCodeRE, p.Code)
			require.NotEmpty(t, p.Name)
			require.True(t, norm.NFC.IsNormalString(p.Name), "name must be NFC")
			got, ok := LookupProvince(p.Code)
			require.True(t, ok)
			require.Equal(t, p, got)
		})
		require.False(t, seen[p.Code], "duplicate code %s", p.Code)
		seen[p.Code] = true
	}
}

func TestLookupProvince(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		name string
		ok   bool
	}{
		{code: "001", name: "Hà Nội", ok: true},
		{code: "040", name: "Nghệ An", ok: true},
		{code: "079", name: "Hồ Chí Minh", ok: true},
		{code: "024", name: "Bắc Ninh", ok: true},
		{code: "091", name: "An Giang", ok: true},
		{code: "046", name: "Huế", ok: true},
		{code: "074", ok: false}, // Bình Dương: merged into Hồ Chí Minh
		{code: "089", ok: false}, // the old An Giang code
		{code: "1", ok: false},
		{code: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			p, ok := LookupProvince(tt.code)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.name, p.Name)
		})
	}
}

func TestLegacyProvinces(t *testing.T) {
	t.Parallel()
	ls := LegacyProvinces()
	require.Len(t, ls, 63)
	require.True(t, slices.IsSortedFunc(ls, func(a, b LegacyProvince) int { return strings.Compare(a.Code, b.Code) }))
	successors := map[string]bool{}
	for _, l := range ls {
		require.Regexp(t, provinceCodeRE, l.Code)
		require.True(t, norm.NFC.IsNormalString(l.Name))
		_, ok := LookupProvince(l.Successor)
		require.True(t, ok, "%s %s: successor %s is not a current province", l.Code, l.Name, l.Successor)
		successors[l.Successor] = true
	}
	require.Len(t, successors, 34, "every current province succeeds at least one old one")

	bd, ok := LookupLegacyProvince("074")
	require.True(t, ok)
	require.Equal(t, LegacyProvince{Code: "074", Name: "Bình Dương", Successor: "079"}, bd)
}

func TestCommunes(t *testing.T) {
	t.Parallel()
	cs := Communes()
	require.True(t, slices.IsSortedFunc(cs, func(a, b Commune) int { return strings.Compare(a.Code, b.Code) }))
	perProvince := map[string]int{}
	seen := map[string]bool{}
	for _, c := range cs {
		require.Regexp(t, communeCodeRE, c.Code)
		require.False(t, seen[c.Code], "duplicate code %s", c.Code)
		seen[c.Code] = true
		require.True(t, norm.NFC.IsNormalString(c.Name))
		_, ok := LookupProvince(c.ProvinceCode)
		require.True(t, ok, "commune %s: unknown province %s", c.Code, c.ProvinceCode)
		perProvince[c.ProvinceCode]++
	}
	for _, p := range []string{"001", "040", "079"} {
		require.GreaterOrEqual(t, perProvince[p], 6, "province %s", p)
	}

	tests := []struct {
		code string
		want Commune
		ok   bool
	}{
		{code: "00070", want: Commune{Code: "00070", Name: "Phường Hoàn Kiếm", ProvinceCode: "001"}, ok: true},
		{code: "16681", want: Commune{Code: "16681", Name: "Phường Thành Vinh", ProvinceCode: "040"}, ok: true},
		{code: "26740", want: Commune{Code: "26740", Name: "Phường Sài Gòn", ProvinceCode: "079"}, ok: true},
		{code: "99999", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			got, ok := LookupCommune(tt.code)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFacilities(t *testing.T) {
	t.Parallel()
	fs := Facilities()
	require.True(t, slices.IsSortedFunc(fs, func(a, b Facility) int { return strings.Compare(a.Code, b.Code) }))
	perProvince := map[string]int{}
	for _, f := range fs {
		require.Regexp(t, facilityCodeRE, f.Code)
		require.Equal(t, f.ProvinceCode[1:], f.Code[:2], "facility %s: prefix must be the province's 2-digit code", f.Code)
		require.True(t, norm.NFC.IsNormalString(f.Name))
		got, ok := LookupFacility(f.Code)
		require.True(t, ok)
		require.Equal(t, f, got)
		perProvince[f.ProvinceCode]++
	}
	for _, p := range []string{"001", "040", "079"} {
		require.GreaterOrEqual(t, perProvince[p], 2, "province %s", p)
	}
	_, ok := LookupFacility("00000")
	require.False(t, ok)
}

func TestPlacesFileParses(t *testing.T) {
	t.Parallel()
	_, err := parsePlaces()
	require.NoError(t, err)
	_, err = parseBaseSalaries()
	require.NoError(t, err)
}

func TestListsAreCopies(t *testing.T) {
	t.Parallel()
	ps := Provinces()
	ps[0].Name = "changed"
	p, ok := LookupProvince(ps[0].Code)
	require.True(t, ok)
	require.NotEqual(t, "changed", p.Name)
}
