package civil

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBaseSalaryOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		day     time.Time
		want    int64
		wantErr bool
	}{
		{name: "before the table", day: time.Date(2019, 6, 30, 0, 0, 0, 0, Zone), wantErr: true},
		{name: "first day of Decree 38/2019", day: time.Date(2019, 7, 1, 0, 0, 0, 0, Zone), want: 1_490_000},
		{name: "last day before Decree 24/2023", day: time.Date(2023, 6, 30, 0, 0, 0, 0, Zone), want: 1_490_000},
		{name: "first day of Decree 24/2023", day: time.Date(2023, 7, 1, 0, 0, 0, 0, Zone), want: 1_800_000},
		{name: "last day before Decree 73/2024", day: time.Date(2024, 6, 30, 0, 0, 0, 0, Zone), want: 1_800_000},
		{name: "first day of Decree 73/2024", day: time.Date(2024, 7, 1, 0, 0, 0, 0, Zone), want: 2_340_000},
		{name: "2025", day: time.Date(2025, 3, 10, 0, 0, 0, 0, Zone), want: 2_340_000},
		{name: "midnight in Zone is still 30 June in UTC", day: time.Date(2023, 6, 30, 17, 0, 0, 0, time.UTC), want: 1_800_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := BaseSalaryOn(tt.day)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrNoBaseSalary)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFuneralAllowance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		death   string
		want    int64
		wantErr bool
	}{
		{name: "before the table", death: "2019-06-30", wantErr: true},
		{name: "July 2019", death: "2019-07-15", want: 14_900_000},
		{name: "day before 2023-07-01", death: "2023-06-30", want: 14_900_000},
		{name: "2023-07-01", death: "2023-07-01", want: 18_000_000},
		{name: "day before 2024-07-01", death: "2024-06-30", want: 18_000_000},
		{name: "2024-07-01", death: "2024-07-01", want: 23_400_000},
		{name: "last day of July 2024", death: "2024-07-31", want: 23_400_000},
		{name: "2025-03-10", death: "2025-03-10", want: 23_400_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FuneralAllowance(day(t, tt.death))
			if tt.wantErr {
				require.ErrorIs(t, err, ErrNoBaseSalary)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBaseSalaryTable(t *testing.T) {
	t.Parallel()
	rates := BaseSalaries()
	require.Len(t, rates, 3)
	want := []struct {
		from   string
		amount int64
	}{
		{from: "2019-07-01", amount: 1_490_000},
		{from: "2023-07-01", amount: 1_800_000},
		{from: "2024-07-01", amount: 2_340_000},
	}
	for i, w := range want {
		t.Run(w.from, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, day(t, w.from), rates[i].From)
			require.Equal(t, w.amount, rates[i].Amount)
			require.NotEmpty(t, rates[i].Source)
			require.Equal(t, 1, rates[i].From.Day(), "a rate must start on the 1st of a month, see FuneralAllowance")
		})
	}
}

func TestFuneralEligibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		c            Contributions
		workAccident bool
		eligible     bool
		reason       string
	}{
		{
			name:     "12 months compulsory",
			c:        Contributions{CompulsoryMonths: 12},
			eligible: true,
			reason:   "12 or more months of compulsory contributions (12)",
		},
		{
			name:         "work accident with 1 month",
			c:            Contributions{CompulsoryMonths: 1},
			workAccident: true,
			eligible:     true,
			reason:       "death from a work accident or occupational disease",
		},
		{
			name:     "pensioner",
			c:        Contributions{Pensioner: true},
			eligible: true,
			reason:   "was receiving a pension",
		},
		{
			name:     "monthly work-injury benefit",
			c:        Contributions{WorkInjuryBenefit: true},
			eligible: true,
			reason:   "was receiving a monthly work-injury or occupational-disease benefit",
		},
		{
			name:     "60 months voluntary",
			c:        Contributions{VoluntaryMonths: 60},
			eligible: true,
			reason:   "60 or more months of voluntary contributions (60)",
		},
		{
			name:     "several bases",
			c:        Contributions{CompulsoryMonths: 200, Pensioner: true},
			eligible: true,
			reason:   "12 or more months of compulsory contributions (200); was receiving a pension",
		},
		{
			name:     "11 months compulsory",
			c:        Contributions{CompulsoryMonths: 11},
			eligible: false,
			reason:   "fewer than 12 months of compulsory contributions (11) and fewer than 60 months of voluntary contributions (0); no pension, no monthly work-injury benefit, no work accident",
		},
		{
			name:     "7 compulsory and 59 voluntary do not add up",
			c:        Contributions{CompulsoryMonths: 7, VoluntaryMonths: 59},
			eligible: false,
			reason:   "fewer than 12 months of compulsory contributions (7) and fewer than 60 months of voluntary contributions (59); no pension, no monthly work-injury benefit, no work accident",
		},
		{
			name:     "nothing at all",
			eligible: false,
			reason:   "fewer than 12 months of compulsory contributions (0) and fewer than 60 months of voluntary contributions (0); no pension, no monthly work-injury benefit, no work accident",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eligible, reason := FuneralEligibility(tt.c, tt.workAccident)
			require.Equal(t, tt.eligible, eligible)
			require.Equal(t, tt.reason, reason)
		})
	}
}
