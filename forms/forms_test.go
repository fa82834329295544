package forms_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/forms"
)

// The four-procedure forms must pass the API's validation, or the end-to-end
// and load runs that use them would only measure refusals.
func TestDeathWithSurvivorsIsValid(t *testing.T) {
	t.Parallel()
	forms := forms.NewForms(population.Generate(6301, 3000))
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	claimed := 0
	for i := range 60 {
		req, ok := forms.DeathWithSurvivors(i, now, "four")
		if !ok {
			require.Empty(t, req.GetForm().GetSurvivorBenefit().GetSurvivors(), "death %d", i)
			continue
		}
		claimed++
		require.Empty(t, api.ValidateDeath(req, now), "death %d", i)
	}
	require.Greater(t, claimed, 40, "most of the deceased leave someone to claim for")
}
