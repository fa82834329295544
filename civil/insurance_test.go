package civil

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// day returns midnight in Zone of the YYYY-MM-DD date s.
func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, Zone)
	require.NoError(t, err)
	return d
}

func TestChildCardValidity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		birth string
		to    string
	}{
		{name: "turns 6 in March: extended to 30 September", birth: "2019-03-15", to: "2025-09-30"},
		{name: "turns 6 on 1 January: extended", birth: "2019-01-01", to: "2025-09-30"},
		{name: "turns 6 the day before 30 September: extended", birth: "2019-09-29", to: "2025-09-30"},
		{name: "turns 6 on 30 September exactly", birth: "2019-09-30", to: "2025-09-30"},
		{name: "turns 6 on 1 October: the birthday", birth: "2019-10-01", to: "2025-10-01"},
		{name: "turns 6 on 31 December: the birthday", birth: "2019-12-31", to: "2025-12-31"},
		{name: "born 29 February 2020, turns 6 on 28 February 2026", birth: "2020-02-29", to: "2026-09-30"},
		{name: "born 29 February 2024", birth: "2024-02-29", to: "2030-09-30"},
		{name: "newborn of 2025 turning 6 in November", birth: "2025-11-20", to: "2031-11-20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from, to := ChildCardValidity(day(t, tt.birth))
			require.Equal(t, day(t, tt.birth), from)
			require.Equal(t, day(t, tt.to), to)
		})
	}
}

func TestChildCardValidityReadsDayInZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		birth time.Time
		from  string
	}{
		{name: "03:00 in Vietnam is the previous day in UTC", birth: time.Date(2019, 9, 30, 20, 0, 0, 0, time.UTC), from: "2019-10-01"},
		{name: "midnight UTC, as a database date arrives", birth: time.Date(2019, 9, 30, 0, 0, 0, 0, time.UTC), from: "2019-09-30"},
		{name: "late evening in Zone", birth: time.Date(2019, 9, 30, 23, 59, 0, 0, Zone), from: "2019-09-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from, _ := ChildCardValidity(tt.birth)
			require.Equal(t, day(t, tt.from), from)
		})
	}
}

func TestAgeInMonths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		birth string
		at    string
		want  int
	}{
		{name: "day of birth", birth: "2025-03-10", at: "2025-03-10", want: 0},
		{name: "day before first month", birth: "2025-03-10", at: "2025-04-09", want: 0},
		{name: "first month", birth: "2025-03-10", at: "2025-04-10", want: 1},
		{name: "across a year", birth: "2024-11-15", at: "2025-02-14", want: 2},
		{name: "31 January to 28 February of a common year", birth: "2021-01-31", at: "2021-02-28", want: 1},
		{name: "31 January to 28 February of a leap year", birth: "2020-01-31", at: "2020-02-28", want: 0},
		{name: "31 January to 29 February of a leap year", birth: "2020-01-31", at: "2020-02-29", want: 1},
		{name: "31 January to 1 March", birth: "2021-01-31", at: "2021-03-01", want: 1},
		{name: "31 January to 30 March", birth: "2021-01-31", at: "2021-03-30", want: 1},
		{name: "day before sixth birthday", birth: "2019-09-30", at: "2025-09-29", want: 71},
		{name: "sixth birthday", birth: "2019-09-30", at: "2025-09-30", want: 72},
		{name: "leap-day birth, 27 February of sixth year", birth: "2020-02-29", at: "2026-02-27", want: 71},
		{name: "leap-day birth, 28 February of sixth year", birth: "2020-02-29", at: "2026-02-28", want: 72},
		{name: "leap-day birth, fourth birthday on 29 February", birth: "2024-02-29", at: "2028-02-28", want: 47},
		{name: "leap-day birth, fourth birthday", birth: "2024-02-29", at: "2028-02-29", want: 48},
		{name: "before birth", birth: "2025-03-10", at: "2025-03-09", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, AgeInMonths(day(t, tt.birth), day(t, tt.at)))
		})
	}
}

func TestUnderSix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		birth string
		at    string
		want  bool
	}{
		{name: "newborn", birth: "2025-07-01", at: "2025-07-01", want: true},
		{name: "day before sixth birthday", birth: "2019-10-01", at: "2025-09-30", want: true},
		{name: "sixth birthday", birth: "2019-10-01", at: "2025-10-01", want: false},
		{name: "leap-day birth on 28 February", birth: "2020-02-29", at: "2026-02-28", want: false},
		{name: "ten years old", birth: "2015-01-01", at: "2025-01-01", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, UnderSix(day(t, tt.birth), day(t, tt.at)))
		})
	}
}

func TestNewSocialInsuranceCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		province string
		serial   int64
		want     string
		wantErr  bool
	}{
		{name: "Hồ Chí Minh", province: "079", serial: 12345, want: "7900012345"},
		{name: "Hà Nội, serial 0", province: "001", serial: 0, want: "0100000000"},
		{name: "Nghệ An, largest serial", province: "040", serial: 99_999_999, want: "4099999999"},
		{name: "pre-2025 province", province: "074", serial: 1, wantErr: true},
		{name: "2-digit province", province: "79", serial: 1, wantErr: true},
		{name: "negative serial", province: "001", serial: -1, wantErr: true},
		{name: "serial too big", province: "001", serial: 100_000_000, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NewSocialInsuranceCode(tt.province, tt.serial)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrSocialInsuranceCode)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Len(t, got, 10)
		})
	}
}
