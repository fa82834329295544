package calendar

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// at returns the time "YYYY-MM-DD HH:MM" in UTC+7.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, zone)
	require.NoError(t, err)
	return v
}

// on returns midnight of "YYYY-MM-DD" in UTC+7.
func on(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateOnly, s, zone)
	require.NoError(t, err)
	return v
}

func TestIsWorkingDay(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name string
		day  string
		want bool
	}{
		{name: "ordinary Monday", day: "2025-03-10", want: true},
		{name: "ordinary Saturday", day: "2025-03-15", want: false},
		{name: "ordinary Sunday", day: "2025-03-16", want: false},
		{name: "New Year's Day 2025", day: "2025-01-01", want: false},
		{name: "Tết 2025 Monday", day: "2025-01-27", want: false},
		{name: "Tết 2025 Friday", day: "2025-01-31", want: false},
		{name: "first day after Tết 2025", day: "2025-02-03", want: true},
		{name: "Hùng Kings 2025", day: "2025-04-07", want: false},
		{name: "make-up Saturday 26 April 2025", day: "2025-04-26", want: true},
		{name: "bridge Friday 2 May 2025", day: "2025-05-02", want: false},
		{name: "National Day 2025 adjacent day", day: "2025-09-01", want: false},
		{name: "National Day 2025", day: "2025-09-02", want: false},
		{name: "3 September 2025", day: "2025-09-03", want: true},
		{name: "New Year's Day 2026", day: "2026-01-01", want: false},
		{name: "bridge Friday 2 January 2026", day: "2026-01-02", want: false},
		{name: "make-up Saturday 10 January 2026", day: "2026-01-10", want: true},
		{name: "Friday before Tết 2026", day: "2026-02-13", want: true},
		{name: "Tết 2026 Monday", day: "2026-02-16", want: false},
		{name: "Tết 2026 Friday", day: "2026-02-20", want: false},
		{name: "Monday after Tết 2026", day: "2026-02-23", want: true},
		{name: "Hùng Kings 2026 on a Sunday", day: "2026-04-26", want: false},
		{name: "Hùng Kings 2026 compensatory Monday", day: "2026-04-27", want: false},
		{name: "30 April 2026", day: "2026-04-30", want: false},
		{name: "make-up Saturday 22 August 2026", day: "2026-08-22", want: true},
		{name: "bridge Monday 31 August 2026", day: "2026-08-31", want: false},
		{name: "2 September 2026", day: "2026-09-02", want: false},
		{name: "3 September 2026", day: "2026-09-03", want: true},
		{name: "uncovered year: weekday", day: "2027-01-01", want: true},
		{name: "uncovered year: weekend", day: "2027-01-02", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cal.IsWorkingDay(on(t, tt.day)))
		})
	}
}

func TestIsWorkingDayReadsDateInUTCPlus7(t *testing.T) {
	t.Parallel()
	cal := Default()
	// 17:30 UTC on Wed 31 Dec 2025 is 00:30 on Thu 1 Jan 2026 in Vietnam.
	require.False(t, cal.IsWorkingDay(time.Date(2025, 12, 31, 17, 30, 0, 0, time.UTC)))
	require.True(t, cal.IsWorkingDay(time.Date(2025, 12, 31, 16, 59, 0, 0, time.UTC)))
}

func TestCovers(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		year int
		want bool
	}{
		{year: 2024, want: false},
		{year: 2025, want: true},
		{year: 2026, want: true},
		{year: 2027, want: false},
	}
	for _, tt := range tests {
		t.Run(time.Date(tt.year, 1, 1, 0, 0, 0, 0, zone).Format("2006"), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cal.Covers(tt.year))
		})
	}
	require.Equal(t, []int{2025, 2026}, cal.Years())
	src, ok := cal.Source(2026)
	require.True(t, ok)
	require.Contains(t, src, "9441/TB-BNV")
}

func TestHoliday(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name     string
		day      string
		contains string
		ok       bool
	}{
		{name: "Tết 2026", day: "2026-02-17", contains: "Tết Nguyên đán", ok: true},
		{name: "Hùng Kings on Sunday", day: "2026-04-26", contains: "Giỗ Tổ Hùng Vương", ok: true},
		{name: "compensatory day", day: "2026-04-27", contains: "Nghỉ bù", ok: true},
		{name: "bridge day", day: "2025-05-02", contains: "hoán đổi", ok: true},
		{name: "make-up Saturday is no holiday", day: "2025-04-26", ok: false},
		{name: "weekend inside Tết is no listed holiday", day: "2026-02-14", ok: false},
		{name: "ordinary day", day: "2026-03-10", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, ok := cal.Holiday(on(t, tt.day))
			require.Equal(t, tt.ok, ok)
			require.Contains(t, name, tt.contains)
		})
	}
}

func TestReceipt(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name     string
		received string
		want     string
	}{
		{name: "morning of a working day", received: "2025-03-10 09:00", want: "2025-03-10 09:00"},
		{name: "before office hours", received: "2025-03-10 06:30", want: "2025-03-10 06:30"},
		{name: "14:59 is before the cut-off", received: "2025-03-10 14:59", want: "2025-03-10 14:59"},
		{name: "15:00 is the cut-off", received: "2025-03-10 15:00", want: "2025-03-11 08:00"},
		{name: "15:01 is after the cut-off", received: "2025-03-10 15:01", want: "2025-03-11 08:00"},
		{name: "Friday after the cut-off goes to Monday", received: "2025-03-14 15:30", want: "2025-03-17 08:00"},
		{name: "Saturday goes to Monday", received: "2025-03-15 10:00", want: "2025-03-17 08:00"},
		{name: "Sunday goes to Monday", received: "2025-03-16 23:59", want: "2025-03-17 08:00"},
		{name: "make-up Saturday is a working day", received: "2025-04-26 10:00", want: "2025-04-26 10:00"},
		{name: "holiday goes to next working day", received: "2025-04-30 10:00", want: "2025-05-05 08:00"},
		{name: "Friday before Tết 2026 after the cut-off", received: "2026-02-13 16:00", want: "2026-02-23 08:00"},
		{name: "New Year's Eve 2025 after the cut-off", received: "2025-12-31 15:00", want: "2026-01-05 08:00"},
		{name: "uncovered year: weekend", received: "2027-01-02 10:00", want: "2027-01-04 08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, at(t, tt.want), cal.Receipt(at(t, tt.received)))
		})
	}
}

func TestReceiptSecondsBeforeCutOff(t *testing.T) {
	t.Parallel()
	cal := Default()
	last := time.Date(2025, 3, 10, 14, 59, 59, 999_999_999, zone)
	require.Equal(t, last, cal.Receipt(last))
	require.Equal(t, at(t, "2025-03-11 08:00"), cal.Receipt(last.Add(time.Nanosecond)))
}

func TestReceiptAcceptsOtherZones(t *testing.T) {
	t.Parallel()
	cal := Default()
	// 07:59 UTC is 14:59 in Vietnam; 08:00 UTC is 15:00.
	require.Equal(t, at(t, "2025-03-10 14:59"), cal.Receipt(time.Date(2025, 3, 10, 7, 59, 0, 0, time.UTC)))
	require.Equal(t, at(t, "2025-03-11 08:00"), cal.Receipt(time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)))
}

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name     string
		received string
		n        int
		want     string
	}{
		{name: "same working day", received: "2025-03-10 10:00", n: 0, want: "2025-03-10 17:00"},
		{name: "same working day at 14:59", received: "2025-03-10 14:59", n: 0, want: "2025-03-10 17:00"},
		{name: "same working day at 15:00 moves on", received: "2025-03-10 15:00", n: 0, want: "2025-03-11 17:00"},
		{name: "same working day at 15:01 moves on", received: "2025-03-10 15:01", n: 0, want: "2025-03-11 17:00"},
		{name: "2 working days from Monday morning", received: "2025-03-10 10:00", n: 2, want: "2025-03-12 17:00"},
		{name: "2 working days from Monday 15:00", received: "2025-03-10 15:00", n: 2, want: "2025-03-13 17:00"},
		{name: "1 working day from Friday crosses the weekend", received: "2025-03-14 10:00", n: 1, want: "2025-03-17 17:00"},
		{name: "received Saturday", received: "2025-03-15 09:00", n: 1, want: "2025-03-18 17:00"},
		{name: "3 working days", received: "2025-03-10 10:00", n: 3, want: "2025-03-13 17:00"},
		{name: "5 working days span a weekend", received: "2025-03-10 10:00", n: 5, want: "2025-03-17 17:00"},
		{name: "7 working days for a supplement", received: "2025-03-10 10:00", n: 7, want: "2025-03-19 17:00"},
		{name: "Tết 2026: Friday 16:00, 2 days lands after Tết", received: "2026-02-13 16:00", n: 2, want: "2026-02-25 17:00"},
		{name: "Tết 2026: Friday 10:00, 1 day lands after Tết", received: "2026-02-13 10:00", n: 1, want: "2026-02-23 17:00"},
		{name: "make-up Saturday counts", received: "2025-04-25 10:00", n: 1, want: "2025-04-26 17:00"},
		{name: "received on make-up Saturday", received: "2025-04-26 09:00", n: 0, want: "2025-04-26 17:00"},
		{name: "30 April 2025 bridge", received: "2025-04-29 10:00", n: 1, want: "2025-05-05 17:00"},
		{name: "year boundary with 1-2 January 2026", received: "2025-12-31 10:00", n: 1, want: "2026-01-05 17:00"},
		{name: "year boundary after the cut-off", received: "2025-12-31 16:00", n: 0, want: "2026-01-05 17:00"},
		{name: "make-up Saturday 10 January 2026", received: "2026-01-09 10:00", n: 1, want: "2026-01-10 17:00"},
		{name: "Hùng Kings compensatory day 2026", received: "2026-04-24 10:00", n: 1, want: "2026-04-28 17:00"},
		{name: "Hùng Kings and 30 April 2026", received: "2026-04-24 10:00", n: 3, want: "2026-05-04 17:00"},
		{name: "make-up Saturday 22 August 2026 counts", received: "2026-08-21 10:00", n: 2, want: "2026-08-24 17:00"},
		{name: "National Day 2026 with its bridge Monday", received: "2026-08-28 10:00", n: 1, want: "2026-09-03 17:00"},
		{name: "negative n is 0", received: "2025-03-10 10:00", n: -3, want: "2025-03-10 17:00"},
		{name: "uncovered year counts weekdays", received: "2027-01-01 10:00", n: 1, want: "2027-01-04 17:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, at(t, tt.want), cal.AddWorkingDays(at(t, tt.received), tt.n))
		})
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name string
		from string
		to   string
		want int
	}{
		{name: "receipt day under way", from: "2025-03-10 10:00", to: "2025-03-10 16:59", want: 0},
		{name: "receipt day over", from: "2025-03-10 10:00", to: "2025-03-10 17:30", want: 0},
		{name: "one day ended", from: "2025-03-10 10:00", to: "2025-03-11 17:00", want: 1},
		{name: "one day not quite ended", from: "2025-03-10 10:00", to: "2025-03-11 16:59", want: 0},
		{name: "across a weekend", from: "2025-03-14 10:00", to: "2025-03-18 09:00", want: 1},
		{name: "late receipt starts the next day", from: "2025-03-10 15:00", to: "2025-03-12 17:00", want: 1},
		{name: "across Tết 2026", from: "2026-02-12 10:00", to: "2026-02-24 17:00", want: 3},
		{name: "across 30 April 2025", from: "2025-04-29 10:00", to: "2025-05-06 17:00", want: 2},
		{name: "across Hùng Kings 2026", from: "2026-04-24 10:00", to: "2026-04-29 12:00", want: 1},
		{name: "to before from", from: "2025-03-10 10:00", to: "2025-03-01 10:00", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cal.WorkingDaysBetween(at(t, tt.from), at(t, tt.to)))
		})
	}
}

func TestWorkingDaysBetweenInvertsAddWorkingDays(t *testing.T) {
	t.Parallel()
	cal := Default()
	starts := []string{"2025-01-24 16:00", "2025-04-25 10:00", "2025-12-31 15:00", "2026-02-13 16:00", "2026-08-20 14:59"}
	for _, s := range starts {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			from := at(t, s)
			for n := 0; n <= 10; n++ {
				due := cal.AddWorkingDays(from, n)
				require.Equal(t, n, cal.WorkingDaysBetween(from, due), "n=%d", n)
				require.Equal(t, max(n-1, 0), cal.WorkingDaysBetween(from, due.Add(-time.Minute)), "n=%d, a minute early", n)
				require.True(t, cal.IsWorkingDay(due))
				require.Equal(t, 17, due.Hour())
			}
		})
	}
}

func TestNextWorkingDay(t *testing.T) {
	t.Parallel()
	cal := Default()
	require.Equal(t, on(t, "2026-02-23"), cal.NextWorkingDay(at(t, "2026-02-13 09:00")))
	require.Equal(t, on(t, "2025-04-26"), cal.NextWorkingDay(at(t, "2025-04-25 09:00")))
}

func TestCustomConfig(t *testing.T) {
	t.Parallel()
	cal, err := Load(Embedded(), Config{
		Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
		CutOff:   16 * time.Hour,
		EndOfDay: 17*time.Hour + 30*time.Minute,
	})
	require.NoError(t, err)
	tests := []struct {
		name     string
		received string
		n        int
		want     string
	}{
		{name: "later cut-off", received: "2025-03-10 15:30", n: 0, want: "2025-03-10 17:30"},
		{name: "Saturday works", received: "2025-03-14 16:30", n: 0, want: "2025-03-15 17:30"},
		{name: "holidays still hold", received: "2026-02-16 10:00", n: 0, want: "2026-02-21 17:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, at(t, tt.want), cal.AddWorkingDays(at(t, tt.received), tt.n))
		})
	}
}

func TestWorkingTime(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{name: "within one morning", from: "2025-03-10 10:00", to: "2025-03-10 12:00", want: 2 * time.Hour},
		{name: "before the office opens", from: "2025-03-10 06:00", to: "2025-03-10 09:00", want: time.Hour},
		{name: "a whole day and more", from: "2025-03-10 07:00", to: "2025-03-10 18:00", want: 9 * time.Hour},
		{name: "overnight", from: "2025-03-10 16:00", to: "2025-03-11 09:00", want: 2 * time.Hour},
		{name: "over a weekend", from: "2025-03-14 16:00", to: "2025-03-17 09:00", want: 2 * time.Hour},
		{name: "a weekend alone", from: "2025-03-15 09:00", to: "2025-03-16 17:00", want: 0},
		{name: "over the Hùng Kings holiday 2026", from: "2026-04-24 10:00", to: "2026-04-29 12:00", want: 20 * time.Hour},
		{name: "to before from", from: "2025-03-10 12:00", to: "2025-03-10 10:00", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cal.WorkingTime(at(t, tt.from), at(t, tt.to)))
		})
	}
}

func TestMissingYears(t *testing.T) {
	t.Parallel()
	cal := Default() // 2025 and 2026 ship; 2027 does not
	tests := []struct {
		name string
		day  time.Time
		want []int
	}{
		{"a covered year before December", time.Date(2026, 11, 30, 23, 59, 0, 0, zone), nil},
		{"from 1 December the next year is due", time.Date(2026, 12, 1, 0, 0, 0, 0, zone), []int{2027}},
		{"1 December in Vietnam is still 30 November in UTC", time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), []int{2027}},
		{"December with next year present", time.Date(2025, 12, 15, 9, 0, 0, 0, zone), nil},
		{"a year with no file of its own", time.Date(2027, 3, 1, 9, 0, 0, 0, zone), []int{2027}},
		{"and in its December both", time.Date(2027, 12, 2, 9, 0, 0, 0, zone), []int{2027, 2028}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cal.MissingYears(tt.day))
		})
	}
}
