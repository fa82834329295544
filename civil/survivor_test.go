package civil

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSurvivorRulesData(t *testing.T) {
	t.Parallel()
	d, err := parseSurvivorRules()
	require.NoError(t, err)
	require.Len(t, d.sets, 2)
	require.Equal(t, "2016-01-01", d.sets[0].From.Format(time.DateOnly))
	require.Contains(t, d.sets[0].Law, "58/2014/QH13")
	require.Equal(t, "2025-07-01", d.sets[1].From.Format(time.DateOnly))
	require.Contains(t, d.sets[1].Law, "41/2024/QH15")
	_, err = decodeRules([]byte(`{"monthly_percent": {"value": 50, "source": "art. 68"}}`))
	require.ErrorContains(t, err, "want all", "a rule set missing rules is refused")

	for _, tt := range []struct {
		day  string
		want string
	}{
		{"2025-06-30", "2014"},
		{"2025-07-01", "2024"},
		{"2026-11-30", "2024"},
	} {
		law, err := SurvivorLawOn(day(t, tt.day))
		require.NoError(t, err)
		require.Contains(t, law, tt.want, tt.day)
	}
	_, err = SurvivorLawOn(day(t, "2015-12-31"))
	require.ErrorIs(t, err, ErrNoSurvivorRules)
}

func TestRetirementAgeMonths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sex  Sex
		year int
		want int
	}{
		{SexMale, 2020, 60 * 12},
		{SexMale, 2021, 60*12 + 3},
		{SexMale, 2025, 61*12 + 3},
		{SexMale, 2026, 61*12 + 6},
		{SexMale, 2028, 62 * 12},
		{SexMale, 2040, 62 * 12},
		{SexFemale, 2020, 55 * 12},
		{SexFemale, 2021, 55*12 + 4},
		{SexFemale, 2026, 57 * 12},
		{SexFemale, 2035, 60 * 12},
		{SexFemale, 2050, 60 * 12},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, RetirementAgeMonths(tt.sex, tt.year), "%s %d", tt.sex, tt.year)
	}
}

func TestSurvivorBenefit(t *testing.T) {
	t.Parallel()
	old := day(t, "2025-03-10") // 2014 law; base salary 2,340,000 in April 2025
	recent := day(t, "2026-03-10")
	wife := func(born string) Relative {
		return Relative{Relationship: RelationshipSpouse, Sex: SexFemale, BirthDate: day(t, born)}
	}
	child := func(born string) Relative {
		return Relative{Relationship: RelationshipChild, Sex: SexMale, BirthDate: day(t, born)}
	}
	long := Contributions{CompulsoryMonths: 200}
	tests := []struct {
		name      string
		claim     SurvivorClaim
		eligible  bool
		kind      SurvivorKind
		monthly   int64
		qualifies []bool
		reason    string
	}{
		{
			name:   "no record and no work accident: nothing payable",
			claim:  SurvivorClaim{DeathDate: old, Relatives: []Relative{child("2015-01-01")}},
			reason: "no social-insurance record", qualifies: []bool{true},
		},
		{
			name:     "a work accident needs no record: monthly for a child",
			claim:    SurvivorClaim{DeathDate: old, WorkAccident: true, Relatives: []Relative{child("2015-01-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
		{
			name:     "179 months and no other basis: lump sum",
			claim:    SurvivorClaim{DeathDate: old, Contributions: Contributions{CompulsoryMonths: 179}, Relatives: []Relative{child("2015-01-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{true}, reason: "fewer than 180 months",
		},
		{
			name:     "180 months and a child under 18: monthly at 50%",
			claim:    SurvivorClaim{DeathDate: old, Contributions: Contributions{CompulsoryMonths: 180}, Relatives: []Relative{child("2010-05-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
		{
			name:     "voluntary contributions only: lump sum",
			claim:    SurvivorClaim{DeathDate: old, Contributions: Contributions{VoluntaryMonths: 240}, Relatives: []Relative{child("2015-01-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{true}, reason: "give the lump sum only",
		},
		{
			name:     "pensioner: monthly for a wife of 55 under the 2014 law",
			claim:    SurvivorClaim{DeathDate: old, Contributions: Contributions{Pensioner: true, CompulsoryMonths: 100}, Relatives: []Relative{wife("1970-01-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
		{
			name:     "a wife of 54 under the 2014 law does not qualify: lump sum",
			claim:    SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{wife("1970-06-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{false}, reason: "no claimed relative",
		},
		{
			name:     "a wife of 56 in 2026 is under the retirement age (57) of the 2024 law",
			claim:    SurvivorClaim{DeathDate: recent, Contributions: long, Relatives: []Relative{wife("1970-01-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{false},
		},
		{
			name:     "a wife of 57 in 2026 has reached the retirement age",
			claim:    SurvivorClaim{DeathDate: recent, Contributions: long, Relatives: []Relative{wife("1969-03-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
		{
			name: "a young wife with 81% loss qualifies",
			claim: SurvivorClaim{DeathDate: old, Contributions: long,
				Relatives: []Relative{{Relationship: RelationshipSpouse, Sex: SexFemale, BirthDate: day(t, "1990-01-01"), LossPercent: 81}}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
		{
			name: "income at the base salary disqualifies a spouse but not a child",
			claim: SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{
				{Relationship: RelationshipSpouse, Sex: SexFemale, BirthDate: day(t, "1960-01-01"), IncomeAtLeastBaseSalary: true},
				{Relationship: RelationshipChild, Sex: SexFemale, BirthDate: day(t, "2012-01-01"), IncomeAtLeastBaseSalary: true},
			}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{false, true},
		},
		{
			name: "no direct carer: 70%",
			claim: SurvivorClaim{DeathDate: old, Contributions: long,
				Relatives: []Relative{{Relationship: RelationshipChild, Sex: SexMale, BirthDate: day(t, "2012-01-01"), NoDirectCarer: true}}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_638_000, qualifies: []bool{true},
		},
		{
			name: "an adult child of 25 with 81% loss qualifies, one with 80% does not",
			claim: SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{
				{Relationship: RelationshipChild, Sex: SexMale, BirthDate: day(t, "2000-01-01"), LossPercent: 81},
				{Relationship: RelationshipChild, Sex: SexMale, BirthDate: day(t, "2000-01-01"), LossPercent: 80},
			}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true, false},
		},
		{
			name: "a father of 60 and a mother-in-law of 55 qualify",
			claim: SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{
				{Relationship: RelationshipParent, Sex: SexMale, BirthDate: day(t, "1965-01-01")},
				{Relationship: RelationshipParentInLaw, Sex: SexFemale, BirthDate: day(t, "1969-12-01")},
			}},
			eligible: true, kind: SurvivorMonthly, monthly: 2_340_000, qualifies: []bool{true, true},
		},
		{
			name: "at most four relatives are paid for",
			claim: SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{
				child("2010-01-01"), child("2011-01-01"), child("2012-01-01"), child("2013-01-01"), child("2014-01-01"),
			}},
			eligible: true, kind: SurvivorMonthly, monthly: 4 * 1_170_000, qualifies: []bool{true, true, true, true, true}, reason: "at most 4",
		},
		{
			name:     "the family may choose the lump sum for a child of 10",
			claim:    SurvivorClaim{DeathDate: old, Contributions: long, PreferLumpSum: true, Relatives: []Relative{child("2015-01-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{true}, reason: "chose the lump sum",
		},
		{
			name:     "not with a child under 6: monthly all the same",
			claim:    SurvivorClaim{DeathDate: old, Contributions: long, PreferLumpSum: true, Relatives: []Relative{child("2021-01-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true}, reason: "cannot be chosen: a child under 6",
		},
		{
			name: "a work-injury benefit at 61% is a basis, at 60% it is not",
			claim: SurvivorClaim{DeathDate: old, Contributions: Contributions{WorkInjuryBenefit: true, WorkInjuryLossPercent: 60},
				Relatives: []Relative{child("2015-01-01")}},
			eligible: true, kind: SurvivorLumpSum, qualifies: []bool{true}, reason: "below 61%",
		},
		{
			name:   "no relative claimed",
			claim:  SurvivorClaim{DeathDate: old, Contributions: long},
			reason: "no relative is claimed", qualifies: []bool{},
		},
		{
			name:     "a posthumous child qualifies",
			claim:    SurvivorClaim{DeathDate: old, Contributions: long, Relatives: []Relative{child("2025-08-01")}},
			eligible: true, kind: SurvivorMonthly, monthly: 1_170_000, qualifies: []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SurvivorBenefit(tt.claim)
			require.NoError(t, err)
			require.Equal(t, tt.eligible, got.Eligible, got.Reason)
			require.Equal(t, tt.kind, got.Kind, got.Reason)
			require.Equal(t, tt.monthly, got.MonthlyTotalVND)
			require.Len(t, got.Relatives, len(tt.qualifies))
			for i, q := range tt.qualifies {
				require.Equal(t, q, got.Relatives[i].Qualifies, "relative %d: %s", i, got.Relatives[i].Why)
				require.NotEmpty(t, got.Relatives[i].Why)
			}
			require.Contains(t, got.Reason, tt.reason)
			if !got.Eligible {
				require.NotEmpty(t, got.Reason, "a rejection says why")
			}
			if got.Kind == SurvivorMonthly {
				first := time.Date(tt.claim.DeathDate.Year(), tt.claim.DeathDate.Month()+1, 1, 0, 0, 0, 0, Zone)
				require.Equal(t, first, got.MonthlyFrom, "paid from the month after the death")
				require.Equal(t, int64(2_340_000), got.BaseSalaryVND)
			}
		})
	}
}

func TestSurvivorBenefitOutsideTheData(t *testing.T) {
	t.Parallel()
	_, err := SurvivorBenefit(SurvivorClaim{DeathDate: day(t, "2015-06-01"), WorkAccident: true,
		Relatives: []Relative{{Relationship: RelationshipChild, BirthDate: day(t, "2010-01-01")}}})
	require.ErrorIs(t, err, ErrNoSurvivorRules)
	// The 2014 law applies, but the base-salary table starts in July 2019.
	_, err = SurvivorBenefit(SurvivorClaim{DeathDate: day(t, "2018-06-01"), WorkAccident: true,
		Relatives: []Relative{{Relationship: RelationshipChild, BirthDate: day(t, "2010-01-01")}}})
	require.ErrorIs(t, err, ErrNoBaseSalary)
}

func TestDaysBetween(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"same day", time.Date(2026, 1, 5, 8, 0, 0, 0, Zone), time.Date(2026, 1, 5, 23, 0, 0, 0, Zone), 0},
		{"evening to next morning", time.Date(2026, 1, 5, 22, 0, 0, 0, Zone), time.Date(2026, 1, 6, 7, 0, 0, 0, Zone), 1},
		{"60 days", time.Date(2026, 1, 1, 9, 0, 0, 0, Zone), time.Date(2026, 3, 2, 9, 0, 0, 0, Zone), 60},
		{"read in Zone, not UTC", time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC), time.Date(2026, 1, 6, 1, 0, 0, 0, time.UTC), 0},
		{"backwards", time.Date(2026, 1, 6, 9, 0, 0, 0, Zone), time.Date(2026, 1, 5, 9, 0, 0, 0, Zone), -1},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, DaysBetween(tt.from, tt.to), tt.name)
	}
}

func TestSurvivorFirstDeathDay(t *testing.T) {
	t.Parallel()
	first := SurvivorFirstDeathDay()
	// The rules start in 2016, but the base salary only in July 2019: a death in June 2019
	// is paid from July.
	require.Equal(t, "2019-06-01", first.Format(time.DateOnly))
	_, err := SurvivorBenefit(SurvivorClaim{DeathDate: first, WorkAccident: true,
		Relatives: []Relative{{Relationship: RelationshipChild, BirthDate: day(t, "2010-01-01")}}})
	require.NoError(t, err)
}
