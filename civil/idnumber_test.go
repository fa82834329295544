package civil

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIDNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    IDNumber
		wantErr error
	}{
		{name: "male born 1999 in Hà Nội", in: "001099012345", want: IDNumber{Province: "001", Sex: SexMale, BirthYear: 1999, Serial: "012345"}},
		{name: "female born 1999", in: "001199000001", want: IDNumber{Province: "001", Sex: SexFemale, BirthYear: 1999, Serial: "000001"}},
		{name: "male born 1900", in: "040000123456", want: IDNumber{Province: "040", Sex: SexMale, BirthYear: 1900, Serial: "123456"}},
		{name: "male born 2000", in: "079200000001", want: IDNumber{Province: "079", Sex: SexMale, BirthYear: 2000, Serial: "000001"}},
		{name: "female born 2000", in: "079300999999", want: IDNumber{Province: "079", Sex: SexFemale, BirthYear: 2000, Serial: "999999"}},
		{name: "female born 2025", in: "040325000000", want: IDNumber{Province: "040", Sex: SexFemale, BirthYear: 2025, Serial: "000000"}},
		{name: "male born 2100", in: "001400000007", want: IDNumber{Province: "001", Sex: SexMale, BirthYear: 2100, Serial: "000007"}},
		{name: "female born 2199", in: "001599000007", want: IDNumber{Province: "001", Sex: SexFemale, BirthYear: 2199, Serial: "000007"}},
		{name: "pre-2025 province Bình Dương", in: "074201000001", want: IDNumber{Province: "074", Sex: SexMale, BirthYear: 2001, Serial: "000001"}},
		{name: "pre-2025 province Nam Định", in: "036185000001", want: IDNumber{Province: "036", Sex: SexFemale, BirthYear: 1985, Serial: "000001"}},

		{name: "empty", in: "", wantErr: ErrIDShape},
		{name: "11 digits", in: "00109901234", wantErr: ErrIDShape},
		{name: "13 digits", in: "0010990123456", wantErr: ErrIDShape},
		{name: "9-digit old identity card", in: "012345678", wantErr: ErrIDShape},
		{name: "letter", in: "00109901234a", wantErr: ErrIDShape},
		{name: "inner space", in: "001 99012345", wantErr: ErrIDShape},
		{name: "leading space", in: " 00109901234", wantErr: ErrIDShape},
		{name: "sign", in: "+01099012345", wantErr: ErrIDShape},
		{name: "full-width digits", in: "００１０９９０１２３４５", wantErr: ErrIDShape},
		{name: "Arabic-Indic digits", in: "٠٠١٠٩٩٠١٢٣٤٥", wantErr: ErrIDShape},

		{name: "province 000", in: "000099012345", wantErr: ErrIDProvince},
		{name: "province 003 was never used", in: "003099012345", wantErr: ErrIDProvince},
		{name: "province 099", in: "099099012345", wantErr: ErrIDProvince},
		{name: "province 100", in: "100099012345", wantErr: ErrIDProvince},

		{name: "century digit 6", in: "001699012345", wantErr: ErrIDSex},
		{name: "century digit 9", in: "001999012345", wantErr: ErrIDSex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseIDNumber(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestParseIDNumberErrorHidesNumber(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"00109901234x", "003099012345", "001999012345"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseIDNumber(in)
			require.Error(t, err)
			require.NotContains(t, err.Error(), in)
		})
	}
}

func TestCheckIDAgrees(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string
		sex     Sex
		year    int
		wantErr error
	}{
		{name: "male 1999", id: "001099012345", sex: SexMale, year: 1999},
		{name: "female 1999", id: "001199012345", sex: SexFemale, year: 1999},
		{name: "male 2000", id: "001200012345", sex: SexMale, year: 2000},
		{name: "female 2000", id: "001300012345", sex: SexFemale, year: 2000},
		{name: "female 2025 newborn", id: "040325012345", sex: SexFemale, year: 2025},
		{name: "male 2100", id: "001400012345", sex: SexMale, year: 2100},

		{name: "1999 digits with 2000 record", id: "001099012345", sex: SexMale, year: 2000, wantErr: ErrIDYear},
		{name: "2000 digits with 1999 record", id: "001200012345", sex: SexMale, year: 1999, wantErr: ErrIDYear},
		{name: "century 1900 for 2000 record", id: "001000012345", sex: SexMale, year: 2000, wantErr: ErrIDYear},
		{name: "same two digits other century", id: "001225012345", sex: SexMale, year: 1925, wantErr: ErrIDYear},
		{name: "male number for female record", id: "001200012345", sex: SexFemale, year: 2000, wantErr: ErrIDSex},
		{name: "female number for male record", id: "001399012345", sex: SexMale, year: 2099, wantErr: ErrIDSex},
		{name: "unknown sex", id: "001200012345", sex: SexUnknown, year: 2000, wantErr: ErrIDSex},
		{name: "bad shape", id: "0012000123", sex: SexMale, year: 2000, wantErr: ErrIDShape},
		{name: "bad province", id: "003200012345", sex: SexMale, year: 2000, wantErr: ErrIDProvince},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckIDAgrees(tt.id, tt.sex, tt.year)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestNewIDNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		province string
		sex      Sex
		year     int
		serial   int
		want     string
		wantErr  error
	}{
		{name: "boy born 2025 in Nghệ An", province: "040", sex: SexMale, year: 2025, serial: 42, want: "040225000042"},
		{name: "girl born 2025 in Hồ Chí Minh", province: "079", sex: SexFemale, year: 2025, serial: 999999, want: "079325999999"},
		{name: "woman born 1999", province: "001", sex: SexFemale, year: 1999, serial: 0, want: "001199000000"},
		{name: "man born 1900", province: "001", sex: SexMale, year: 1900, serial: 1, want: "001000000001"},
		{name: "woman born 2199", province: "001", sex: SexFemale, year: 2199, serial: 1, want: "001599000001"},
		{name: "pre-2025 province", province: "035", sex: SexMale, year: 1980, serial: 1, want: "035080000001"},

		{name: "unknown province", province: "003", sex: SexMale, year: 2025, serial: 1, wantErr: ErrIDProvince},
		{name: "2-digit province", province: "01", sex: SexMale, year: 2025, serial: 1, wantErr: ErrIDProvince},
		{name: "unknown sex", province: "001", sex: SexUnknown, year: 2025, serial: 1, wantErr: ErrIDSex},
		{name: "sex out of range", province: "001", sex: Sex(3), year: 2025, serial: 1, wantErr: ErrIDSex},
		{name: "year 1899", province: "001", sex: SexMale, year: 1899, serial: 1, wantErr: ErrIDYear},
		{name: "year 2200", province: "001", sex: SexMale, year: 2200, serial: 1, wantErr: ErrIDYear},
		{name: "negative serial", province: "001", sex: SexMale, year: 2025, serial: -1, wantErr: ErrIDShape},
		{name: "serial too big", province: "001", sex: SexMale, year: 2025, serial: 1_000_000, wantErr: ErrIDShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NewIDNumber(tt.province, tt.sex, tt.year, tt.serial)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NoError(t, CheckIDAgrees(got, tt.sex, tt.year))
		})
	}
}

// FuzzParseIDNumber checks that parsing never panics and that every accepted number is
// rebuilt, digit for digit, by NewIDNumber from its parts.
func FuzzParseIDNumber(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIDNumber(s)
		if err != nil {
			require.Zero(t, id)
			return
		}
		serial, err := strconv.Atoi(id.Serial)
		require.NoError(t, err)
		again, err := NewIDNumber(id.Province, id.Sex, id.BirthYear, serial)
		require.NoError(t, err)
		require.Equal(t, s, again)
		require.NoError(t, CheckIDAgrees(s, id.Sex, id.BirthYear))
	})
}

// FuzzNewIDNumber checks that every number NewIDNumber builds parses back to its parts.
func FuzzNewIDNumber(f *testing.F) {
	f.Add("040", 1, 2025, 42)
	f.Add("079", 2, 1999, 999999)
	f.Add("074", 2, 2000, 0)
	f.Add("003", 1, 2025, 1)
	f.Fuzz(func(t *testing.T, province string, sex, year, serial int) {
		s, err := NewIDNumber(province, Sex(sex), year, serial)
		if err != nil {
			require.Empty(t, s)
			return
		}
		id, err := ParseIDNumber(s)
		require.NoError(t, err)
		require.Equal(t, IDNumber{Province: province, Sex: Sex(sex), BirthYear: year, Serial: s[6:]}, id)
		got, err := strconv.Atoi(id.Serial)
		require.NoError(t, err)
		require.Equal(t, serial, got)
	})
}
