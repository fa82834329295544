package civil

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// FuneralAllowanceMultiple is how many base salaries the funeral allowance pays
// (SI Law 2014 art. 66; SI Law 2024 art. 85).
const FuneralAllowanceMultiple = 10

// ErrNoBaseSalary is returned, wrapped, for a day before the first row of the base-salary table.
var ErrNoBaseSalary = errors.New("no base salary in force")

// BaseSalaryRate is one row of the base-salary table: Amount VND from From (a day in Zone)
// until the next row's From.
type BaseSalaryRate struct {
	From   time.Time
	Amount int64
	Source string // the decree that set it
}

type baseSalaryFile struct {
	Source string `json:"source"`
	Rates  []struct {
		From   string `json:"from"`
		VND    int64  `json:"vnd"`
		Source string `json:"source"`
	} `json:"rates"`
}

var loadBaseSalaries = sync.OnceValue(func() []BaseSalaryRate {
	rates, err := parseBaseSalaries()
	if err != nil {
		panic(fmt.Sprintf("civil: embedded data/base_salary.json: %v", err))
	}
	return rates
})

func parseBaseSalaries() ([]BaseSalaryRate, error) {
	var f baseSalaryFile
	if err := decodeData("data/base_salary.json", &f); err != nil {
		return nil, err
	}
	rates := make([]BaseSalaryRate, 0, len(f.Rates))
	for i, r := range f.Rates {
		from, err := time.ParseInLocation(time.DateOnly, r.From, Zone)
		if err != nil {
			return nil, fmt.Errorf("rates[%d].from: %w", i, err)
		}
		if r.VND <= 0 {
			return nil, fmt.Errorf("rates[%d].vnd: %d is not positive", i, r.VND)
		}
		rates = append(rates, BaseSalaryRate{From: from, Amount: r.VND, Source: r.Source})
	}
	slices.SortFunc(rates, func(a, b BaseSalaryRate) int { return a.From.Compare(b.From) })
	return rates, nil
}

// BaseSalaries returns the base-salary table, oldest first. The slice is a copy.
func BaseSalaries() []BaseSalaryRate { return slices.Clone(loadBaseSalaries()) }

// BaseSalaryOn returns the base salary in force on day (read as a day in Zone).
func BaseSalaryOn(day time.Time) (int64, error) {
	d := dateIn(day)
	rates := loadBaseSalaries()
	for i := len(rates) - 1; i >= 0; i-- {
		if !rates[i].From.After(d) {
			return rates[i].Amount, nil
		}
	}
	return 0, fmt.Errorf("%w on %s: the table starts on %s", ErrNoBaseSalary, d.Format(time.DateOnly), rates[0].From.Format(time.DateOnly))
}

// FuneralAllowance returns the funeral allowance for a death on deathDate: 10 × the base
// salary in force in the month of death.
//
// "In force in the month of death" is read as the rate in force on the first day of that
// month. Every rate so far starts on the 1st of a month, so this is the only rate of the
// month; if a decree ever starts mid-month, the month keeps the rate it began with, so two
// deaths in the same month always get the same amount.
func FuneralAllowance(deathDate time.Time) (int64, error) {
	d := dateIn(deathDate)
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, Zone)
	base, err := BaseSalaryOn(first)
	if err != nil {
		return 0, fmt.Errorf("funeral allowance: %w", err)
	}
	return FuneralAllowanceMultiple * base, nil
}

// Contributions is what Social Insurance knows about the deceased.
type Contributions struct {
	CompulsoryMonths  int  // months of compulsory social-insurance contributions
	VoluntaryMonths   int  // months of voluntary contributions
	Pensioner         bool // was receiving a monthly pension
	WorkInjuryBenefit bool // was receiving a monthly work-injury or occupational-disease benefit
	// WorkInjuryLossPercent is the loss of working capacity the work-injury benefit is
	// paid for; the survivor benefit reads it.
	WorkInjuryLossPercent int
}

// Thresholds for the funeral allowance.
const (
	MinCompulsoryMonths = 12
	MinVoluntaryMonths  = 60
)

// FuneralEligibility decides whether the funeral allowance is payable. workAccident is
// true when the death came from a work accident or an occupational disease. The reason
// names every basis that holds or, when none does, says in plain words why: the step is
// then rejected with this reason, not failed.
func FuneralEligibility(c Contributions, workAccident bool) (eligible bool, reason string) {
	var bases []string
	if c.CompulsoryMonths >= MinCompulsoryMonths {
		bases = append(bases, fmt.Sprintf("%d or more months of compulsory contributions (%d)", MinCompulsoryMonths, c.CompulsoryMonths))
	}
	if workAccident {
		bases = append(bases, "death from a work accident or occupational disease")
	}
	if c.Pensioner {
		bases = append(bases, "was receiving a pension")
	}
	if c.WorkInjuryBenefit {
		bases = append(bases, "was receiving a monthly work-injury or occupational-disease benefit")
	}
	if c.VoluntaryMonths >= MinVoluntaryMonths {
		bases = append(bases, fmt.Sprintf("%d or more months of voluntary contributions (%d)", MinVoluntaryMonths, c.VoluntaryMonths))
	}
	if len(bases) > 0 {
		return true, strings.Join(bases, "; ")
	}
	return false, fmt.Sprintf(
		"fewer than %d months of compulsory contributions (%d) and fewer than %d months of voluntary contributions (%d); no pension, no monthly work-injury benefit, no work accident",
		MinCompulsoryMonths, c.CompulsoryMonths, MinVoluntaryMonths, c.VoluntaryMonths)
}
