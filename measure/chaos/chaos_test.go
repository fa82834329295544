package chaos

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
	res, err := Run(ctx, Options{
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
