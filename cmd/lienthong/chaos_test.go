package main

import (
	"bytes"
	"context"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/loadgen"
)

// testLog writes the harness's lines to the test log as they come.
type testLog struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			break
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
	return len(p), nil
}

// TestChaos is the chaos harness, small: every part as its own process,
// 200 dossiers, 20% transient errors and UNAUTHENTICATED bursts at every
// agency, a 10-second Police outage, one SIGKILL of the worker and one drop
// of every database connection. It fails if any invariant breaks.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs every part as its own process")
	}
	// The binary is built once for every test that runs the parts as processes.
	bin := testBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	res, err := chaos(ctx, chaosOptions{
		Binary:   bin,
		Dossiers: 200, Kills: 1, Outage: 10 * time.Second, Seed: 6301,
		// A burst every 20 calls: the fault window is short, and on a loaded
		// machine an agency may answer fewer than 60 calls in it.
		Transient: 0.2, BurstEvery: 20, BurstLength: 4,
		Rate: 10, Concurrency: 8, Settle: 5 * time.Minute, AgencyMaxDelay: 300 * time.Millisecond,
		BaseURL: pgtest.ServerURL(), LogLevel: "info",
	}, &testLog{t: t})
	require.NoError(t, err)
	require.True(t, res.Verdict.OK())
	require.Equal(t, 200, res.Load.Accepted, "every submission is accepted")

	// The faults must really have happened, or the run proved nothing.
	seen := map[string]bool{}
	for _, in := range res.Injected {
		switch {
		case strings.HasPrefix(in.Fault, "worker SIGKILL"):
			seen["kill"] = strings.Contains(in.Effect, "ready")
		case strings.HasPrefix(in.Fault, "PostgreSQL connections dropped"):
			seen["drop"] = !strings.HasPrefix(in.Effect, "failed") && !strings.HasPrefix(in.Effect, "0 ")
		case in.Fault == "seen in traces: transient UNAVAILABLE":
			seen["transient"] = true
		case in.Fault == "seen in traces: outage":
			seen["outage"] = true
		case in.Fault == "seen in traces: UNAUTHENTICATED":
			seen["unauthenticated"] = true
		}
	}
	for _, want := range []string{"kill", "drop", "transient", "outage", "unauthenticated"} {
		require.True(t, seen[want], "fault %q was not observed: %+v", want, res.Injected)
	}
}

func TestPlanChaos(t *testing.T) {
	t.Parallel()
	t.Run("same seed, same plan", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, planChaos(7, 2000, 20, 3, time.Minute), planChaos(7, 2000, 20, 3, time.Minute))
		require.NotEqual(t, planChaos(7, 2000, 20, 3, time.Minute), planChaos(8, 2000, 20, 3, time.Minute))
	})
	for _, seed := range []int64{1, 2, 3, 42, 6301} {
		p := planChaos(seed, 2000, 20, 3, time.Minute)
		require.Equal(t, 100*time.Second, p.Window)
		require.Len(t, p.Kills, 3)
		span := max(p.Window, p.OutageAt+p.Outage)
		for i, k := range p.Kills {
			// One kill in each third of the chaos window, never in the first seconds.
			require.GreaterOrEqual(t, k, max(span*time.Duration(i)/3, 5*time.Second))
			require.Less(t, k, span*time.Duration(i+1)/3)
			require.GreaterOrEqual(t, p.Downtime[i], time.Second)
		}
		require.GreaterOrEqual(t, p.OutageAt, p.Window/10)
		require.Less(t, p.OutageAt, p.Window/2)
		require.Greater(t, p.ClearAt, p.OutageAt+p.Outage, "faults stay on through the outage")
		require.Greater(t, p.ClearAt, p.Kills[2]+p.Downtime[2], "and through the last restart")
	}
	t.Run("no kills", func(t *testing.T) {
		t.Parallel()
		p := planChaos(1, 200, 0, 0, 0)
		require.Empty(t, p.Kills)
		require.Equal(t, 60*time.Second, p.Window)
	})
}

func TestFailureCause(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"UNAVAILABLE: agency outage until 2026-03-02T03:04:05Z (injected fault)": "outage",
		"UNAVAILABLE: agency temporarily unavailable (injected fault)":           "transient UNAVAILABLE",
		"UNAUTHENTICATED: national login unavailable (injected fault)":           "UNAUTHENTICATED",
		"TIMEOUT: the agency call timed out":                                     "timeout (killed worker or slow call)",
		"DEADLINE_EXCEEDED: the agency did not answer in time":                   "timeout (killed worker or slow call)",
		"INTERNAL: boom": "INTERNAL",
		"something odd":  "other",
	} {
		require.Equal(t, want, failureCause(msg), msg)
	}
}

func TestBenchReport(t *testing.T) {
	t.Parallel()
	res := benchResult{
		At:      time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Machine: machineInfo{CPUs: 2, CPUModel: "AMD EPYC", Memory: "23 GiB", GoVersion: "go1.26.8 linux/amd64"},
		Flags:   benchFlags{dossiers: 400, warmup: 20, concurrency: 16},
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
	doc := renderBenchmarks(res, "Kept analysis.")
	for _, want := range []string{
		"| CPU | AMD EPYC, 2 logical CPUs (`nproc`) |",
		"| throughput, end to end (first submission → last `completed_at`) | 12.5 dossiers/s (400 in 32.00s) | ≥ 20/s | **missed** |",
		"| submission latency | p50 40ms, p99 90ms | p99 < 100ms | met |",
		"p99 1.50s (n=2000) | p99 < 1.00s | **missed** |",
		"| our throughput ÷ bare limit | 0.50 | ≥ 0.7 | **missed** |",
		"| activity tasks on `lienthong-portal` | 4.00 | 3.00 |",
		"| activity tasks, all queues | 5.00 | 3.00 |",
		"| local activities (read-model sync) | 6.00 | 0.00 |",
		"| errors (submission calls, by gRPC code) | UNAVAILABLE × 3 |",
		"| Temporal server | 20.00s | 50.0% |",
		notesBegin + "\nKept analysis.\n" + notesEnd,
	} {
		require.Contains(t, doc, want)
	}
	require.Equal(t, "Kept analysis.", keptNotes(doc), "a rerun keeps the findings")
	require.Empty(t, keptNotes("# no notes here"))
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
	before := processCPU()
	require.Positive(t, before)
	n := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		n++
	}
	require.Positive(t, n)
	require.GreaterOrEqual(t, processCPU()-before, 100*time.Millisecond)
}

func TestDieWithParent(t *testing.T) {
	t.Parallel()
	attr := dieWithParent()
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if runtime.GOOS != "linux" {
		require.False(t, f.IsValid())
		return
	}
	require.Equal(t, int64(syscall.SIGKILL), f.Int(), "children are killed with the harness")
}
