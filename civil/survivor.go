package civil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// The survivor benefit (trợ cấp tuất) is paid to the relatives of a person covered by
// social insurance who dies: monthly when the deceased's record and at least one relative
// qualify, otherwise as a lump sum. The rules differ by law (the 2014 law for deaths
// before 1 July 2025, the 2024 law from then), so they are dated data in
// data/survivor_rules.json, each with its source; SurvivorBenefit applies the set in
// force on the day of death.

// ErrNoSurvivorRules is returned, wrapped, for a death before the first rule set.
var ErrNoSurvivorRules = errors.New("no survivor-benefit rules in force")

// Relationship is how a claimed relative is related to the deceased.
type Relationship string

const (
	RelationshipChild       Relationship = "child"
	RelationshipSpouse      Relationship = "spouse"
	RelationshipParent      Relationship = "parent"        // the deceased's own father or mother
	RelationshipParentInLaw Relationship = "parent_in_law" // the spouse's father or mother
	RelationshipDependant   Relationship = "dependant"     // another family member the deceased was obliged to support
)

// Relationships lists every relationship the rules know, in the order forms offer them.
func Relationships() []Relationship {
	return []Relationship{RelationshipChild, RelationshipSpouse, RelationshipParent, RelationshipParentInLaw, RelationshipDependant}
}

// Relative is one survivor the family claims for.
type Relative struct {
	Relationship Relationship
	Sex          Sex
	BirthDate    time.Time
	// LossPercent is the loss of working capacity a medical assessment found, 0 to 100.
	LossPercent int
	// IncomeAtLeastBaseSalary is true when the relative's monthly income reaches the base salary.
	IncomeAtLeastBaseSalary bool
	// NoDirectCarer is true when no one directly cares for the relative: the higher rate.
	NoDirectCarer bool
}

// SurvivorClaim is what the survivor-benefit decision reads.
type SurvivorClaim struct {
	DeathDate     time.Time
	Contributions Contributions
	// WorkAccident is true for a death from a work accident or an occupational disease.
	WorkAccident bool
	Relatives    []Relative
	// PreferLumpSum is the family's choice of the lump sum where a monthly benefit is payable.
	PreferLumpSum bool
}

// SurvivorKind is the kind of benefit decided.
type SurvivorKind string

const (
	SurvivorMonthly SurvivorKind = "monthly"
	SurvivorLumpSum SurvivorKind = "lump_sum"
)

// RelativeOutcome is the decision about one claimed relative.
type RelativeOutcome struct {
	// Qualifies says the relative meets the conditions of the monthly benefit.
	Qualifies bool
	// Why says, in plain words, why the relative qualifies or not.
	Why string
	// Counted is true for the relatives the monthly benefit is paid for (at most the
	// legal number); Percent and MonthlyVND are set for them only.
	Counted    bool
	Percent    int
	MonthlyVND int64
}

// SurvivorDecision is the survivor-benefit decision.
type SurvivorDecision struct {
	// Eligible is false when nothing is payable; Reason then says why.
	Eligible bool
	Kind     SurvivorKind
	// Law names the law applied.
	Law string
	// Basis says why the deceased's record gives the monthly benefit ("" when it does not).
	Basis string
	// Reason explains the kind (why a lump sum and not a monthly benefit, or the reverse),
	// or, when not Eligible, why nothing is payable.
	Reason    string
	Relatives []RelativeOutcome
	// Monthly benefit: the base salary it is computed from, the total of all counted
	// relatives, and the first month paid.
	BaseSalaryVND   int64
	MonthlyTotalVND int64
	MonthlyFrom     time.Time
	// LumpSumRule says how BHXH computes a lump sum from the salary history, which
	// lienthong does not hold.
	LumpSumRule string
}

// rule is one dated rule with its legal source.
type rule[T any] struct {
	Value      T      `json:"value"`
	Source     string `json:"source"`
	Assumption bool   `json:"assumption,omitempty"`
	Note       string `json:"note,omitempty"`
}

// elderAge is the age from which a spouse, parent or dependant qualifies: fixed years by
// sex, or the retirement age.
type elderAge struct {
	MaleYears     int  `json:"male_years,omitempty"`
	FemaleYears   int  `json:"female_years,omitempty"`
	RetirementAge bool `json:"retirement_age,omitempty"`
}

type survivorRules struct {
	MonthlyMinCompulsoryMonths         rule[int]            `json:"monthly_min_compulsory_months"`
	MonthlyIfPensioner                 rule[bool]           `json:"monthly_if_pensioner"`
	MonthlyIfWorkAccident              rule[bool]           `json:"monthly_if_work_accident"`
	MonthlyMinWorkInjuryLossPercent    rule[int]            `json:"monthly_min_work_injury_loss_percent"`
	ChildUnderAge                      rule[int]            `json:"child_under_age"`
	DisabledMinLossPercent             rule[int]            `json:"disabled_min_loss_percent"`
	ElderAge                           rule[elderAge]       `json:"elder_age"`
	IncomeBelowBaseSalary              rule[[]Relationship] `json:"income_below_base_salary"`
	MonthlyPercent                     rule[int]            `json:"monthly_percent"`
	MonthlyPercentNoCarer              rule[int]            `json:"monthly_percent_no_carer"`
	MaxMonthlyRelatives                rule[int]            `json:"max_monthly_relatives"`
	MonthlyFromMonthAfterDeath         rule[bool]           `json:"monthly_from_month_after_death"`
	LumpSumChoiceExcludedChildUnderAge rule[int]            `json:"lump_sum_choice_excluded_child_under_age"`
	LumpSumMonthsPerYearBefore2014     rule[float64]        `json:"lump_sum_months_per_year_before_2014"`
	LumpSumMonthsPerYearFrom2014       rule[float64]        `json:"lump_sum_months_per_year_from_2014"`
	LumpSumMinMonths                   rule[float64]        `json:"lump_sum_min_months"`
}

type survivorRuleSet struct {
	From  time.Time
	Law   string
	Rules survivorRules
}

// retirementSchedule is the retirement age by year: BeforeMonths until FromYear, then
// FromMonths in FromYear rising StepMonths a year up to UntilMonths.
type retirementSchedule struct {
	BeforeMonths int `json:"before_months"`
	FromYear     int `json:"from_year"`
	FromMonths   int `json:"from_months"`
	StepMonths   int `json:"step_months"`
	UntilMonths  int `json:"until_months"`
}

// months is the retirement age, in months, in force in year.
func (s retirementSchedule) months(year int) int {
	if year < s.FromYear {
		return s.BeforeMonths
	}
	return min(s.FromMonths+(year-s.FromYear)*s.StepMonths, s.UntilMonths)
}

type survivorData struct {
	sets       []survivorRuleSet
	male       retirementSchedule
	female     retirementSchedule
	retirement string
}

type survivorFile struct {
	Source   string `json:"source"`
	RuleSets []struct {
		From  string          `json:"from"`
		Law   string          `json:"law"`
		Rules json.RawMessage `json:"rules"`
	} `json:"rule_sets"`
	RetirementAge struct {
		Source string             `json:"source"`
		Male   retirementSchedule `json:"male"`
		Female retirementSchedule `json:"female"`
	} `json:"retirement_age"`
}

var loadSurvivorRules = sync.OnceValue(func() survivorData {
	d, err := parseSurvivorRules()
	if err != nil {
		panic(fmt.Sprintf("civil: embedded data/survivor_rules.json: %v", err))
	}
	return d
})

func parseSurvivorRules() (survivorData, error) {
	var f survivorFile
	if err := decodeData("data/survivor_rules.json", &f); err != nil {
		return survivorData{}, err
	}
	d := survivorData{male: f.RetirementAge.Male, female: f.RetirementAge.Female, retirement: f.RetirementAge.Source}
	if d.male.FromMonths == 0 || d.female.FromMonths == 0 || d.retirement == "" {
		return survivorData{}, errors.New("retirement_age: both schedules and a source are required")
	}
	for i, s := range f.RuleSets {
		from, err := time.ParseInLocation(time.DateOnly, s.From, Zone)
		if err != nil {
			return survivorData{}, fmt.Errorf("rule_sets[%d].from: %w", i, err)
		}
		if s.Law == "" {
			return survivorData{}, fmt.Errorf("rule_sets[%d].law is required", i)
		}
		rules, err := decodeRules(s.Rules)
		if err != nil {
			return survivorData{}, fmt.Errorf("rule_sets[%d].rules: %w", i, err)
		}
		if i > 0 && !from.After(d.sets[i-1].From) {
			return survivorData{}, fmt.Errorf("rule_sets[%d].from: must be after the previous set's", i)
		}
		d.sets = append(d.sets, survivorRuleSet{From: from, Law: s.Law, Rules: rules})
	}
	if len(d.sets) == 0 {
		return survivorData{}, errors.New("rule_sets: at least one is required")
	}
	return d, nil
}

// decodeRules reads one rule set, which must have every rule, each with its source.
func decodeRules(raw json.RawMessage) (survivorRules, error) {
	var r survivorRules
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, err
	}
	var sources map[string]struct {
		Source string `json:"source"`
	}
	if err := json.Unmarshal(raw, &sources); err != nil {
		return r, err
	}
	if want := reflect.TypeFor[survivorRules]().NumField(); len(sources) != want {
		return r, fmt.Errorf("has %d rules, want all %d", len(sources), want)
	}
	for name, s := range sources {
		if s.Source == "" {
			return r, fmt.Errorf("%s: a source is required", name)
		}
	}
	return r, nil
}

// survivorRulesOn returns the rule set in force on day.
func survivorRulesOn(day time.Time) (survivorRuleSet, error) {
	d := dateIn(day)
	sets := loadSurvivorRules().sets
	for i := len(sets) - 1; i >= 0; i-- {
		if !sets[i].From.After(d) {
			return sets[i], nil
		}
	}
	return survivorRuleSet{}, fmt.Errorf("%w on %s: the first set starts on %s", ErrNoSurvivorRules,
		d.Format(time.DateOnly), sets[0].From.Format(time.DateOnly))
}

// SurvivorLawOn names the law whose survivor rules apply to a death on day.
func SurvivorLawOn(day time.Time) (string, error) {
	rs, err := survivorRulesOn(day)
	return rs.Law, err
}

// SurvivorFirstDeathDay is the first day of death for which a survivor benefit can be
// decided: the first rule set must be in force, and the base-salary table must cover the
// month after the death, when a monthly benefit starts.
func SurvivorFirstDeathDay() time.Time {
	first := loadSurvivorRules().sets[0].From
	salary := loadBaseSalaries()[0].From
	fromSalary := time.Date(salary.Year(), salary.Month()-1, 1, 0, 0, 0, 0, Zone)
	if fromSalary.After(first) {
		return fromSalary
	}
	return first
}

// RetirementAgeMonths is the retirement age, in months, in force in year for sex under
// normal working conditions (Labour Code 2019 art. 169(2)).
func RetirementAgeMonths(sex Sex, year int) int {
	d := loadSurvivorRules()
	if sex == SexFemale {
		return d.female.months(year)
	}
	return d.male.months(year)
}

// SurvivorBenefit decides the survivor benefit for c under the rules in force on the day
// of death. A claim with nothing payable is a decision with Eligible false and a Reason,
// not an error; errors are for dates the data does not cover.
func SurvivorBenefit(c SurvivorClaim) (SurvivorDecision, error) {
	rs, err := survivorRulesOn(c.DeathDate)
	if err != nil {
		return SurvivorDecision{}, fmt.Errorf("survivor benefit: %w", err)
	}
	r := rs.Rules
	died := dateIn(c.DeathDate)
	dec := SurvivorDecision{Law: rs.Law, Relatives: make([]RelativeOutcome, len(c.Relatives))}
	dec.LumpSumRule = fmt.Sprintf("%g months of the average salary per year of contributions before 2014 and %g per year from 2014, at least %g months; BHXH computes it from the salary history",
		r.LumpSumMonthsPerYearBefore2014.Value, r.LumpSumMonthsPerYearFrom2014.Value, r.LumpSumMinMonths.Value)

	var qualifying []int
	for i, rel := range c.Relatives {
		ok, why := relativeQualifies(r, rel, died)
		dec.Relatives[i] = RelativeOutcome{Qualifies: ok, Why: why}
		if ok {
			qualifying = append(qualifying, i)
		}
	}

	co := c.Contributions
	if co.CompulsoryMonths <= 0 && co.VoluntaryMonths <= 0 && !co.Pensioner && !co.WorkInjuryBenefit && !c.WorkAccident {
		dec.Reason = "no social-insurance record: no compulsory or voluntary contributions, no pension or monthly work-injury benefit, and the death was not from a work accident or occupational disease"
		return dec, nil
	}
	if len(c.Relatives) == 0 {
		dec.Reason = "no relative is claimed for: the benefit is paid to the deceased's relatives"
		return dec, nil
	}
	dec.Eligible = true

	bases := monthlyBases(r, c)
	dec.Basis = strings.Join(bases, "; ")
	if len(bases) == 0 || len(qualifying) == 0 {
		dec.Kind = SurvivorLumpSum
		if len(bases) == 0 {
			dec.Reason = "no basis for the monthly benefit: " + noMonthlyBasis(r, c)
		} else {
			dec.Reason = "no claimed relative meets the conditions of the monthly benefit"
		}
		return dec, nil
	}
	if c.PreferLumpSum {
		excluded := lumpSumExcluded(r, c.Relatives, qualifying, died)
		if excluded == "" {
			dec.Kind = SurvivorLumpSum
			dec.Reason = "the family chose the lump sum instead of the monthly benefit"
			return dec, nil
		}
		dec.Reason = "the lump sum cannot be chosen: " + excluded + " (" + r.LumpSumChoiceExcludedChildUnderAge.Source + ")"
	}

	dec.Kind = SurvivorMonthly
	from := time.Date(died.Year(), died.Month(), 1, 0, 0, 0, 0, Zone)
	if r.MonthlyFromMonthAfterDeath.Value {
		from = from.AddDate(0, 1, 0)
	}
	base, err := BaseSalaryOn(from)
	if err != nil {
		return SurvivorDecision{}, fmt.Errorf("survivor benefit: %w", err)
	}
	dec.BaseSalaryVND, dec.MonthlyFrom = base, from
	counted := qualifying[:min(len(qualifying), r.MaxMonthlyRelatives.Value)]
	for _, i := range counted {
		pct := r.MonthlyPercent.Value
		if c.Relatives[i].NoDirectCarer {
			pct = r.MonthlyPercentNoCarer.Value
		}
		o := &dec.Relatives[i]
		o.Counted, o.Percent, o.MonthlyVND = true, pct, base*int64(pct)/100
		dec.MonthlyTotalVND += o.MonthlyVND
	}
	if len(qualifying) > len(counted) {
		note := fmt.Sprintf("paid for the first %d qualifying relatives claimed; the law pays for at most %d", len(counted), r.MaxMonthlyRelatives.Value)
		dec.Reason = strings.TrimPrefix(dec.Reason+"; "+note, "; ")
	}
	return dec, nil
}

// monthlyBases names every basis in the deceased's record for the monthly benefit.
func monthlyBases(r survivorRules, c SurvivorClaim) []string {
	var bases []string
	co := c.Contributions
	if co.CompulsoryMonths >= r.MonthlyMinCompulsoryMonths.Value {
		bases = append(bases, fmt.Sprintf("%d or more months of compulsory contributions (%d)", r.MonthlyMinCompulsoryMonths.Value, co.CompulsoryMonths))
	}
	if r.MonthlyIfPensioner.Value && co.Pensioner {
		bases = append(bases, "was receiving a pension")
	}
	if r.MonthlyIfWorkAccident.Value && c.WorkAccident {
		bases = append(bases, "death from a work accident or occupational disease")
	}
	if co.WorkInjuryBenefit && co.WorkInjuryLossPercent >= r.MonthlyMinWorkInjuryLossPercent.Value {
		bases = append(bases, fmt.Sprintf("was receiving a monthly work-injury benefit at %d%% loss of working capacity", co.WorkInjuryLossPercent))
	}
	return bases
}

// noMonthlyBasis says why the record gives no monthly benefit.
func noMonthlyBasis(r survivorRules, c SurvivorClaim) string {
	co := c.Contributions
	parts := []string{fmt.Sprintf("fewer than %d months of compulsory contributions (%d)", r.MonthlyMinCompulsoryMonths.Value, co.CompulsoryMonths)}
	if co.VoluntaryMonths > 0 {
		parts = append(parts, fmt.Sprintf("voluntary contributions (%d months) give the lump sum only", co.VoluntaryMonths))
	}
	parts = append(parts, "no pension")
	if co.WorkInjuryBenefit {
		parts = append(parts, fmt.Sprintf("a work-injury benefit at %d%% loss of working capacity, below %d%%", co.WorkInjuryLossPercent, r.MonthlyMinWorkInjuryLossPercent.Value))
	} else {
		parts = append(parts, "no monthly work-injury benefit")
	}
	parts = append(parts, "not a work accident")
	return strings.Join(parts, "; ")
}

// relativeQualifies applies the relative's conditions on the day of death.
func relativeQualifies(r survivorRules, rel Relative, died time.Time) (bool, string) {
	age := AgeInMonths(rel.BirthDate, died)
	disabled := rel.LossPercent >= r.DisabledMinLossPercent.Value
	disabledText := fmt.Sprintf("%d%% or more loss of working capacity (%d%%)", r.DisabledMinLossPercent.Value, rel.LossPercent)
	if rel.Relationship == RelationshipChild {
		switch {
		case age < r.ChildUnderAge.Value*12:
			return true, fmt.Sprintf("a child under %d", r.ChildUnderAge.Value)
		case disabled:
			return true, "a child with " + disabledText
		}
		return false, fmt.Sprintf("a child aged %d with less than %d%% loss of working capacity", age/12, r.DisabledMinLossPercent.Value)
	}
	if !slices.Contains(Relationships(), rel.Relationship) {
		return false, fmt.Sprintf("relationship %q is not one the survivor benefit knows", rel.Relationship)
	}
	if slices.Contains(r.IncomeBelowBaseSalary.Value, rel.Relationship) && rel.IncomeAtLeastBaseSalary {
		return false, "a monthly income at or above the base salary"
	}
	need, ok := elderMonths(r.ElderAge.Value, rel.Sex, died.Year())
	switch {
	case ok && age >= need:
		return true, fmt.Sprintf("aged %d, at or over %s", age/12, yearsMonths(need))
	case disabled:
		return true, "under the age limit, with " + disabledText
	case !ok:
		return false, "the relative's sex is not known, so the age limit cannot be applied; and less than 81% loss of working capacity"
	}
	return false, fmt.Sprintf("aged %d, under %s, with less than %d%% loss of working capacity", age/12, yearsMonths(need), r.DisabledMinLossPercent.Value)
}

// elderMonths is the age, in months, from which a spouse, parent or dependant of sex
// qualifies in year; ok is false when sex is unknown.
func elderMonths(e elderAge, sex Sex, year int) (int, bool) {
	if sex != SexMale && sex != SexFemale {
		return 0, false
	}
	if e.RetirementAge {
		return RetirementAgeMonths(sex, year), true
	}
	if sex == SexFemale {
		return e.FemaleYears * 12, true
	}
	return e.MaleYears * 12, true
}

func yearsMonths(months int) string {
	if months%12 == 0 {
		return fmt.Sprintf("%d", months/12)
	}
	return fmt.Sprintf("%d years %d months", months/12, months%12)
}

// lumpSumExcluded says which qualifying relative stops the family from taking the
// lump sum instead, or "" when none does.
func lumpSumExcluded(r survivorRules, rels []Relative, qualifying []int, died time.Time) string {
	for _, i := range qualifying {
		rel := rels[i]
		disabled := rel.LossPercent >= r.DisabledMinLossPercent.Value
		switch {
		case rel.Relationship == RelationshipChild && AgeInMonths(rel.BirthDate, died) < r.LumpSumChoiceExcludedChildUnderAge.Value*12:
			return fmt.Sprintf("a child under %d", r.LumpSumChoiceExcludedChildUnderAge.Value)
		case (rel.Relationship == RelationshipChild || rel.Relationship == RelationshipSpouse) && disabled:
			return fmt.Sprintf("a child or spouse with %d%% or more loss of working capacity", r.DisabledMinLossPercent.Value)
		}
	}
	return ""
}
