package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/measure/oracle"
)

func TestBacklogInputs(t *testing.T) {
	t.Parallel()
	const police, justice, insurance = "lienthong-police", "lienthong-justice", "lienthong-insurance"
	// 10 dossiers: 6 Justice and 2 Insurance activities ran before Police
	// came back, 30 failed calls to Police during the outage, 25 to Police
	// and 8 to Justice after it.
	cost := workflowCost{
		Workflows:  10,
		Activities: map[string]int{police: 55, justice: 14, insurance: 9},
		DoneBefore: map[string]int{police: 30, justice: 6, insurance: 2},
		Local:      40,
	}
	in := backlogInputs(cost, 10, police)
	require.Len(t, in, 10)
	count := map[string][2]int{} // before and after the first Police activity
	local := 0
	for _, w := range in {
		first := slices.Index(w.Queues, bareQueue(police))
		require.GreaterOrEqual(t, first, 0, "every workflow waits for Police")
		for i, q := range w.Queues {
			c := count[q]
			if i < first {
				c[0]++
			} else {
				c[1]++
			}
			count[q] = c
		}
		local += w.Local
	}
	require.Equal(t, [2]int{0, 25}, count[bareQueue(police)], "Police's failed calls are left out, its later ones kept")
	require.Equal(t, [2]int{6, 8}, count[bareQueue(justice)])
	require.Equal(t, [2]int{2, 7}, count[bareQueue(insurance)])
	require.Equal(t, 40, local)

	// Twice the workflows run twice the work.
	require.Len(t, backlogInputs(cost, 20, police), 20)
	n := 0
	for _, w := range backlogInputs(cost, 20, police) {
		n += len(w.Queues)
	}
	require.Equal(t, 2*(25+14+9), n)
}

func TestBacklogReport(t *testing.T) {
	t.Parallel()
	down := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	res := backlogResult{
		At: down, Machine: machineInfo{CPUs: 2, CPUModel: "AMD EPYC"}, Flags: Options{Dossiers: 5500, Concurrency: 16},
		Agency: "police", Down: down, Settled: down.Add(2 * time.Minute), Back: down.Add(2 * time.Minute),
		LastDone: down.Add(9 * time.Minute),
		Load: loadgen.Report{Dossiers: 5500, Births: 3850, Deaths: 1650, Finished: 5500,
			ByStatus: map[string]int{"COMPLETED": 5500}},
		ReadModelLag: loadgen.Summary{Count: 20000, P50: time.Second, P99: 1500 * time.Millisecond, Max: 3 * time.Second},
		PortalLag:    loadgen.Summary{Count: 20000, P50: time.Second, P99: 2500 * time.Millisecond, Max: 4 * time.Second},
		Bare:         bareDrain{Workflows: 5500, Drain: 5 * time.Minute},
		Verdict:      oracle.Verdict{Checks: []oracle.Check{{Name: oracle.InvNoneLost, Rule: "every accepted dossier", Checked: 5500}}},
	}
	doc := renderBacklog(res, "Why it drains as it does.")
	for _, want := range []string{
		"| drain: police's return → the last dossier's `completed_at` | 7m00s (5500 dossiers, 13.1/s) | ≤ 5m00s | **missed** |",
		"| our drain ÷ the bare engine's | 1.40 | ≤ 1.25 | **missed** |",
		"p99 1.50s, max 3.00s (n=20000) | p99 ≤ 2.00s | met |",
		"p99 2.50s, max 4.00s (n=20000) | p99 ≤ 2.00s | **missed** |",
		"| no dossier lost | every accepted dossier | 5500 | 0 |",
		"<!-- backlog-notes:begin -->\nWhy it drains as it does.\n<!-- backlog-notes:end -->",
	} {
		require.Contains(t, doc, want)
	}
	res.LastDone = down.Add(6 * time.Minute)
	require.Contains(t, renderBacklog(res, ""), "| 4m00s (5500 dossiers, 22.9/s) | ≤ 5m00s | met |")
}
