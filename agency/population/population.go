// Package population generates the synthetic population that the mock agencies
// are seeded with and that the load generator draws applicants from: people
// with Vietnamese names, ID numbers that agree with their sex and year of
// birth, households with heads and addresses, permanent residence, and
// social-insurance contribution histories with some pensioners.
//
// It is pure: the same seed and size give the same population, with no I/O
// and no clock (ages are counted to a fixed reference day). It imports civil
// and nothing else of lienthong; agencies and tools import it, never the other
// way round.
package population

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/lienthong/lienthong/civil"
)

// Reference is the day ages are counted to, so that a population does not
// drift as the calendar moves on.
var Reference = time.Date(2025, time.July, 1, 0, 0, 0, 0, civil.Zone)

// Relation is a person's place in their household.
type Relation string

const (
	RelationHead   Relation = "head"
	RelationSpouse Relation = "spouse"
	RelationChild  Relation = "child"
	RelationParent Relation = "parent"
)

// Person is one member of the population.
type Person struct {
	Index       int
	IDNumber    string
	FullName    string
	Sex         civil.Sex
	BirthDate   time.Time // midnight in civil.Zone
	Province    string    // 3-digit code of the province of residence and of birth registration
	CommuneCode string
	HouseholdID string
	Relation    Relation
	// Phone is a synthetic mobile number in E.164 form.
	Phone    string
	Resident bool

	CompulsoryMonths  int
	VoluntaryMonths   int
	Pensioner         bool
	MonthlyPensionVND int64
	WorkInjuryBenefit bool
	// WorkInjuryLossPercent is the loss of working capacity the benefit is paid for.
	WorkInjuryLossPercent int
}

// Contributions is what Social Insurance knows about the person.
func (p Person) Contributions() civil.Contributions {
	return civil.Contributions{
		CompulsoryMonths:  p.CompulsoryMonths,
		VoluntaryMonths:   p.VoluntaryMonths,
		Pensioner:         p.Pensioner,
		WorkInjuryBenefit: p.WorkInjuryBenefit,

		WorkInjuryLossPercent: p.WorkInjuryLossPercent,
	}
}

// AgeOn returns the person's age in full years on day.
func (p Person) AgeOn(day time.Time) int {
	return civil.AgeInMonths(p.BirthDate, day) / 12
}

// Household is a registered household (hộ khẩu) with its head.
type Household struct {
	ID           string
	Head         int // index of the head in People
	HeadIDNumber string
	Members      []int // indexes in People, head first
	Province     string
	CommuneCode  string
	Address      string
}

// Couple is a resident man and woman of the same household, young enough to
// have a child: the load generator's parents.
type Couple struct {
	HouseholdID string
	Father      int
	Mother      int
}

// Population is a generated population. Treat it as read-only.
type Population struct {
	Seed       int64
	People     []Person
	households []Household
	byID       map[string]int
	byHH       map[string]int
}

// Generate builds a population of exactly n people (n >= 1) from seed, spread
// over every commune civil knows.
func Generate(seed int64, n int) *Population {
	g := &generator{
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x706f70756c617465)),
		communes: civil.Communes(),
		ids:      map[string]bool{},
		perHH:    map[string]int{},
	}
	for _, f := range familyNames {
		g.familyTotal += f.weight
	}
	p := &Population{Seed: seed, byID: make(map[string]int, n), byHH: map[string]int{}}
	for len(p.People) < n {
		g.household(p, n)
	}
	for i := range p.People {
		p.byID[p.People[i].IDNumber] = i
	}
	for i := range p.households {
		p.byHH[p.households[i].ID] = i
	}
	return p
}

// Len is the number of people.
func (p *Population) Len() int { return len(p.People) }

// Person returns the i-th person.
func (p *Population) Person(i int) Person { return p.People[i] }

// ByIDNumber finds a person by ID number.
func (p *Population) ByIDNumber(id string) (Person, bool) {
	i, ok := p.byID[id]
	if !ok {
		return Person{}, false
	}
	return p.People[i], true
}

// Households returns every household, in generation order.
func (p *Population) Households() []Household {
	out := make([]Household, len(p.households))
	for i, h := range p.households {
		h.Members = slices.Clone(h.Members)
		out[i] = h
	}
	return out
}

// Household finds a household by id.
func (p *Population) Household(id string) (Household, bool) {
	i, ok := p.byHH[id]
	if !ok {
		return Household{}, false
	}
	h := p.households[i]
	h.Members = slices.Clone(h.Members)
	return h, true
}

// Couples returns the head-and-spouse couples aged 20 to 45 on Reference.
func (p *Population) Couples() []Couple {
	var out []Couple
	for _, h := range p.households {
		if len(h.Members) < 2 || p.People[h.Members[1]].Relation != RelationSpouse {
			continue
		}
		a, b := h.Members[0], h.Members[1]
		if p.People[a].Sex == civil.SexFemale {
			a, b = b, a
		}
		fa, ma := p.People[a].AgeOn(Reference), p.People[b].AgeOn(Reference)
		if fa >= 20 && fa <= 45 && ma >= 20 && ma <= 45 {
			out = append(out, Couple{HouseholdID: h.ID, Father: a, Mother: b})
		}
	}
	return out
}

// DeathCandidates returns the indexes of residents aged 50 or more on
// Reference: the people the death group's load is drawn from.
func (p *Population) DeathCandidates() []int {
	var out []int
	for i, person := range p.People {
		if person.Resident && person.AgeOn(Reference) >= 50 {
			out = append(out, i)
		}
	}
	return out
}

type generator struct {
	rng         *rand.Rand
	communes    []civil.Commune
	ids         map[string]bool
	perHH       map[string]int
	familyTotal int
}

// household appends one household, cut short if the population is full.
func (g *generator) household(p *Population, n int) {
	c := g.communes[g.rng.IntN(len(g.communes))]
	g.perHH[c.Code]++
	h := Household{
		ID:          fmt.Sprintf("HK-%s-%06d", c.Code, g.perHH[c.Code]),
		Province:    c.ProvinceCode,
		CommuneCode: c.Code,
		Address:     g.address(),
	}
	add := func(rel Relation, sex civil.Sex, age int, family string) int {
		if len(p.People) >= n {
			return -1
		}
		i := len(p.People)
		p.People = append(p.People, g.person(i, rel, sex, age, family, h))
		h.Members = append(h.Members, i)
		return i
	}

	headAge := 22 + g.rng.IntN(58)
	headSex := civil.SexMale
	if g.rng.IntN(10) < 3 {
		headSex = civil.SexFemale
	}
	headFamily := g.family()
	h.Head = add(RelationHead, headSex, headAge, headFamily)
	h.HeadIDNumber = p.People[h.Head].IDNumber

	childFamily := headFamily
	youngest := headAge
	if headAge < 76 && g.rng.IntN(10) < 8 {
		age := max(20, headAge-3+g.rng.IntN(7))
		sex := civil.SexFemale
		spouseFamily := g.family()
		if headSex == civil.SexFemale {
			sex = civil.SexMale
			childFamily = spouseFamily
		}
		if add(RelationSpouse, sex, age, spouseFamily) >= 0 {
			youngest = min(youngest, age)
		}
	}
	kids := g.rng.IntN(4)
	if headAge >= 65 {
		kids = g.rng.IntN(2)
	}
	for range kids {
		span := min(youngest-18, 30)
		if span < 1 {
			break
		}
		add(RelationChild, g.sex(), g.rng.IntN(span), childFamily)
	}
	if headAge <= 55 && g.rng.IntN(100) < 15 {
		add(RelationParent, g.sex(), min(95, headAge+22+g.rng.IntN(10)), headFamily)
	}
	p.households = append(p.households, h)
}

func (g *generator) person(i int, rel Relation, sex civil.Sex, age int, family string, h Household) Person {
	birth := Reference.AddDate(-age, 0, -g.rng.IntN(365))
	p := Person{
		Index:       i,
		FullName:    g.name(family, sex),
		Sex:         sex,
		BirthDate:   birth,
		Province:    h.Province,
		CommuneCode: h.CommuneCode,
		HouseholdID: h.ID,
		Relation:    rel,
		Phone:       fmt.Sprintf("+84%d%08d", []int{3, 5, 7, 8, 9}[g.rng.IntN(5)], g.rng.IntN(100_000_000)),
		Resident:    true,
	}
	for {
		id, err := civil.NewIDNumber(h.Province, sex, birth.Year(), g.rng.IntN(1_000_000))
		if err != nil {
			// Every province and year used here is valid; a failure is a broken civil table.
			panic(fmt.Sprintf("population: building an ID number: %v", err))
		}
		if !g.ids[id] {
			g.ids[id] = true
			p.IDNumber = id
			break
		}
	}
	g.contributions(&p, p.AgeOn(Reference))
	return p
}

// contributions gives adults a plausible history: some never contributed,
// some only voluntarily, some too briefly, most enough; many over 60 draw a
// pension.
func (g *generator) contributions(p *Person, age int) {
	if age < 18 {
		return
	}
	working := min(age-18, 42) * 12
	r := g.rng.IntN(100)
	switch {
	case age >= 60 && r < 55:
		p.Pensioner = true
		p.CompulsoryMonths = 240 + g.rng.IntN(181)
		p.MonthlyPensionVND = int64(2_500_000 + g.rng.IntN(125)*100_000)
	case r < 20:
		// never contributed
	case r < 35:
		p.VoluntaryMonths = 6 + g.rng.IntN(max(1, min(working, 150)))
	case r < 45:
		p.CompulsoryMonths = 1 + g.rng.IntN(11)
	default:
		p.CompulsoryMonths = 12 + g.rng.IntN(max(1, working-11))
	}
	if g.rng.IntN(100) == 0 {
		p.WorkInjuryBenefit = true
		// Read off the ID number's last digit rather than drawn, so that adding
		// it left every other draw, and so the population, as it was: 31% to 94%.
		p.WorkInjuryLossPercent = 31 + int(p.IDNumber[len(p.IDNumber)-1]-'0')*7
	}
}

func (g *generator) sex() civil.Sex {
	if g.rng.IntN(2) == 0 {
		return civil.SexMale
	}
	return civil.SexFemale
}

func (g *generator) family() string {
	r := g.rng.IntN(g.familyTotal)
	for _, f := range familyNames {
		if r < f.weight {
			return f.name
		}
		r -= f.weight
	}
	return familyNames[0].name
}

func (g *generator) name(family string, sex civil.Sex) string {
	female := sex == civil.SexFemale
	parts := []string{family, pick(g.rng, middleNames[female])}
	if g.rng.IntN(10) == 0 {
		if second := pick(g.rng, middleNames[female]); second != parts[1] {
			parts = append(parts, second)
		}
	}
	parts = append(parts, pick(g.rng, givenNames[female]))
	return norm.NFC.String(strings.Join(parts, " "))
}

func (g *generator) address() string {
	if g.rng.IntN(2) == 0 {
		return norm.NFC.String(fmt.Sprintf("Số %d, ngõ %d, đường %s", 1+g.rng.IntN(120), 1+g.rng.IntN(200), pick(g.rng, streets)))
	}
	return norm.NFC.String(fmt.Sprintf("Số %d đường %s", 1+g.rng.IntN(400), pick(g.rng, streets)))
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }
