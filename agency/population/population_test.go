package population_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/civil"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	const n = 12000
	p := population.Generate(6301, n)

	t.Run("same seed gives the same population", func(t *testing.T) {
		t.Parallel()
		q := population.Generate(6301, n)
		require.Equal(t, p.People, q.People)
		require.Equal(t, p.Households(), q.Households())
		r := population.Generate(6302, n)
		require.NotEqual(t, p.People[0].IDNumber, r.People[0].IDNumber)
	})

	t.Run("size is exact", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, n, p.Len())
		require.Equal(t, 7, population.Generate(1, 7).Len())
	})

	t.Run("people are valid", func(t *testing.T) {
		t.Parallel()
		ids := map[string]bool{}
		provinces := map[string]bool{}
		communes := map[string]bool{}
		for i, person := range p.People {
			require.Equal(t, i, person.Index)
			require.NoError(t, civil.ValidateName(person.FullName), "person %d", i)
			require.NoError(t, civil.CheckIDAgrees(person.IDNumber, person.Sex, person.BirthDate.Year()), "person %d", i)
			require.False(t, ids[person.IDNumber], "duplicate ID number at %d", i)
			ids[person.IDNumber] = true
			c, ok := civil.LookupCommune(person.CommuneCode)
			require.True(t, ok)
			require.Equal(t, c.ProvinceCode, person.Province)
			provinces[person.Province] = true
			communes[person.CommuneCode] = true
			got, ok := p.ByIDNumber(person.IDNumber)
			require.True(t, ok)
			require.Equal(t, person, got)
			require.True(t, person.Resident)
		}
		require.GreaterOrEqual(t, len(provinces), 2)
		require.GreaterOrEqual(t, len(communes), 5)
	})

	t.Run("households have heads", func(t *testing.T) {
		t.Parallel()
		heads := map[string]bool{}
		members := 0
		for _, h := range p.Households() {
			require.NotEmpty(t, h.Members)
			require.Equal(t, h.Head, h.Members[0])
			head := p.Person(h.Head)
			require.Equal(t, population.RelationHead, head.Relation)
			require.Equal(t, h.HeadIDNumber, head.IDNumber)
			require.False(t, heads[h.HeadIDNumber], "a person heads two households")
			heads[h.HeadIDNumber] = true
			for _, m := range h.Members {
				require.Equal(t, h.ID, p.Person(m).HouseholdID)
				require.Equal(t, h.CommuneCode, p.Person(m).CommuneCode)
			}
			members += len(h.Members)
			got, ok := p.Household(h.ID)
			require.True(t, ok)
			require.Equal(t, h, got)
		}
		require.Equal(t, n, members)
	})

	t.Run("contributions cover every funeral outcome", func(t *testing.T) {
		t.Parallel()
		var pensioners, eligible, ineligible int
		for _, person := range p.DeathCandidates() {
			c := p.Person(person).Contributions()
			if c.Pensioner {
				pensioners++
				require.Positive(t, p.Person(person).MonthlyPensionVND)
			}
			if ok, _ := civil.FuneralEligibility(c, false); ok {
				eligible++
			} else {
				ineligible++
			}
		}
		require.Greater(t, pensioners, 100)
		require.Greater(t, eligible, 100)
		require.Greater(t, ineligible, 10)
	})

	t.Run("couples are young parents of one household", func(t *testing.T) {
		t.Parallel()
		couples := p.Couples()
		require.Greater(t, len(couples), 100)
		for _, c := range couples[:50] {
			f, m := p.Person(c.Father), p.Person(c.Mother)
			require.Equal(t, civil.SexMale, f.Sex)
			require.Equal(t, civil.SexFemale, m.Sex)
			require.Equal(t, c.HouseholdID, f.HouseholdID)
			require.Equal(t, c.HouseholdID, m.HouseholdID)
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		population.Generate(6301, 12000)
	}
}
