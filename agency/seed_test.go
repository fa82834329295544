package agency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/internal/pgtest"
)

func TestSeed(t *testing.T) {
	t.Parallel()
	const people = 12000

	t.Run("police seeds people and households once", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		began := time.Now()
		a := start(t, agency.Options{Name: "police", Pool: pool, SeedPeople: people})
		require.Less(t, time.Since(began), 15*time.Second)
		require.Equal(t, people, a.count(t, "police.persons"))
		households := len(population.Generate(testSeed, people).Households())
		require.Equal(t, households, a.count(t, "police.households"))
		require.Equal(t, people, a.count(t, "police.persons", "resident AND household_id IS NOT NULL"))

		a.srv.Stop()
		b := start(t, agency.Options{Name: "police", Pool: pool, SeedPeople: people})
		require.Equal(t, people, b.count(t, "police.persons"))
		require.Equal(t, 1, b.count(t, "police.seed_runs"))
	})

	t.Run("insurance seeds contributions once", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		a := start(t, agency.Options{Name: "insurance", Pool: pool, SeedPeople: people})
		pop := population.Generate(testSeed, people)
		var pensioners int
		for _, p := range pop.People {
			if p.Pensioner {
				pensioners++
			}
		}
		require.Equal(t, pensioners, a.count(t, "insurance.contributions", "pensioner"))
		require.Positive(t, a.count(t, "insurance.contributions", "compulsory_months >= 12"))
		a.srv.Stop()
		b := start(t, agency.Options{Name: "insurance", Pool: pool, SeedPeople: people})
		require.Equal(t, 1, b.count(t, "insurance.seed_runs"))
	})
}
