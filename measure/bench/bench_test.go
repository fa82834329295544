package bench

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/measure/loadgen"
)

func TestBenchReport(t *testing.T) {
	t.Parallel()
	res := result{
		At:      time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Machine: machineInfo{CPUs: 2, CPUModel: "AMD EPYC", Memory: "23 GiB", GoVersion: "go1.26.8 linux/amd64"},
		Flags:   Options{Dossiers: 400, Warmup: 20, Concurrency: 16},
		Workers: 200,
		Ours: loadgen.Report{
			Births: 280, Deaths: 120, Finished: 400, Throughput: 12.5, Duration: 32 * time.Second,
			SubmitLatency: loadgen.Summary{Count: 400, P50: 40 * time.Millisecond, P99: 90 * time.Millisecond},
			ReadModelLag:  loadgen.Summary{Count: 2000, P50: 100 * time.Millisecond, P99: 1500 * time.Millisecond},
			ByStatus:      map[string]int{"COMPLETED": 400},
			Errors:        map[string]int{"UNAVAILABLE": 3},
		},
		Cost: workflowCost{Workflows: 400, Activities: map[string]int{"lienthong-portal": 1600, "lienthong-justice": 400}, Local: 2400},
		Bare: bareResult{Workflows: 400, Throughput: 25, Duration: 16 * time.Second,
			Cost: workflowCost{Workflows: 400, Activities: map[string]int{bareQueue("lienthong-portal"): 1200}}},
		Profile: loadgen.ProfileSummary{Total: 40 * time.Second, Owners: []loadgen.ProfileShare{
			{Name: "Temporal server", CPU: 20 * time.Second, Share: 0.5},
		}},
	}
	scale := "<!-- scale:begin -->\n## Scale of the read model\n\n<!-- scale-notes:begin -->\nIts own findings.\n<!-- scale-notes:end -->\n<!-- scale:end -->"
	doc := renderBenchmarks(res, kept{Notes: "Kept analysis.", Sections: []string{scale}})
	for _, want := range []string{
		"| CPU | AMD EPYC, 2 logical CPUs (`nproc`) |",
		"| throughput, end to end (first submission → last `completed_at`) | 12.5 dossiers/s (400 in 32.00s) | ≥ 20/s | **missed** |",
		"| submission latency | p50 40ms, p99 90ms | p99 < 100ms | met |",
		"p99 1.50s (n=2000) | p99 < 1.00s | **missed** |",
		"| our throughput ÷ bare limit | 0.50 | ≥ 0.8 | **missed** |",
		"| activity tasks on `lienthong-portal` | 4.00 | 3.00 |",
		"| activity tasks, all queues | 5.00 | 3.00 |",
		"| local activities (read-model sync) | 6.00 | 0.00 |",
		"| errors (submission calls, by gRPC code) | UNAVAILABLE × 3 |",
		"| Temporal server | 20.00s | 50.0% |",
		notesBegin + "\nKept analysis.\n" + notesEnd,
	} {
		require.Contains(t, doc, want)
	}
	again := keptFrom(doc)
	require.Equal(t, "Kept analysis.", again.Notes, "a rerun keeps the findings")
	require.Equal(t, []string{scale}, again.Sections, "a rerun keeps the scale scenario's section whole")
	require.Less(t, strings.Index(doc, scale), strings.Index(doc, "## Reproduce"), "other sections come before Reproduce")
	require.Equal(t, kept{}, keptFrom("# no notes here"))
	require.Equal(t, kept{}, keptFrom("<!-- scale:begin --> never ended"), "an unclosed section is not kept half")
}

func TestBareInputs(t *testing.T) {
	t.Parallel()
	cost := workflowCost{Workflows: 4, Activities: map[string]int{"q-a": 10, "q-b": 3}, Local: 7}
	inputs := bareInputs(cost, 4)
	perQueue := map[string]int{}
	local := 0
	for _, in := range inputs {
		for _, q := range in.Queues {
			perQueue[q]++
		}
		local += in.Local
	}
	require.Equal(t, map[string]int{bareQueue("q-a"): 10, bareQueue("q-b"): 3}, perQueue, "the bare run does exactly the measured work")
	require.Equal(t, 7, local)
	double := bareInputs(cost, 8)
	n := 0
	for _, in := range double {
		n += len(in.Queues)
	}
	require.Equal(t, 26, n, "scaled to the number of bare workflows")
}

func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// A fresh test binary may not have used one clock tick (10 ms) yet, so
	// the first reading may be zero; the spin below must move it.
	before := processCPU()
	// Spin until the process has used 50 ms more CPU. The wall-clock bound
	// is generous because a shared machine may lend this test little CPU;
	// a processCPU that does not move fails it.
	for end := time.Now().Add(20 * time.Second); processCPU()-before < 50*time.Millisecond; {
		if time.Now().After(end) {
			t.Fatalf("processCPU moved %s in 20 s of spinning", processCPU()-before)
		}
	}
}

// The committed report holds the scale scenario's section; a rerun of make
// bench must carry it over whole.
func TestKeptFromTheCommittedReport(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/BENCHMARKS.md")
	require.NoError(t, err)
	k := keptFrom(string(b))
	require.NotEmpty(t, k.Notes)
	require.Len(t, k.Sections, 2)
	require.True(t, strings.HasPrefix(k.Sections[0], "<!-- scale:begin -->\n## Scale of the read model"))
	require.True(t, strings.HasSuffix(k.Sections[0], "<!-- scale:end -->"))
	require.Contains(t, k.Sections[0], "<!-- scale-notes:end -->", "the scale section's own notes stay inside it")
	require.True(t, strings.HasPrefix(k.Sections[1], "<!-- backlog:begin -->\n## Backlog drain"))
	require.True(t, strings.HasSuffix(k.Sections[1], "<!-- backlog:end -->"))
	require.Contains(t, k.Sections[1], "<!-- backlog-notes:end -->", "the backlog section's own notes stay inside it")
}
