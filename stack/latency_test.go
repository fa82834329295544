package stack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// The watch keeps the workflow task waits the SDK times, through tags, and
// only those; Recent is their 90th percentile over the last two seconds.
func TestTaskLatencyKeepsTheRecentWorkflowTaskWaits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	l := NewTaskLatency()
	l.now = func() time.Time { return now }
	h := l.watch(nil).WithTags(map[string]string{"task_queue": "dossiers"})

	wait, n := l.Recent()
	require.Zero(t, n, "nothing taken yet")
	require.Zero(t, wait)

	h.Timer("temporal_activity_schedule_to_start_latency").Record(time.Minute)
	for i := 1; i <= 10; i++ {
		h.Timer(workflowTaskWait).Record(time.Duration(i) * 100 * time.Millisecond)
	}
	wait, n = l.Recent()
	require.Equal(t, 10, n, "an activity's wait is not a workflow task's")
	require.Equal(t, time.Second, wait, "the 90th percentile of 100 ms … 1 s")

	now = now.Add(3 * time.Second)
	h.Timer(workflowTaskWait).Record(5 * time.Millisecond)
	wait, n = l.Recent()
	require.Equal(t, 1, n, "waits older than the window are left out")
	require.Equal(t, 5*time.Millisecond, wait)

	for range latencyRing + 10 {
		h.Timer(workflowTaskWait).Record(time.Millisecond)
	}
	_, n = l.Recent()
	require.Equal(t, latencyRing, n, "the ring keeps the last waits only")
}

// The watch passes every metric on to the handler it wraps.
func TestTaskLatencyPassesMetricsOn(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	inner := timerHandler{record: func(d time.Duration) { got = append(got, d) }}
	h := NewTaskLatency().watch(inner)
	h.Timer(workflowTaskWait).Record(time.Second)
	h.WithTags(map[string]string{"a": "b"}).Timer("other").Record(2 * time.Second)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, got)
}

type timerHandler struct {
	client.MetricsHandler
	record func(time.Duration)
}

func (h timerHandler) WithTags(map[string]string) client.MetricsHandler { return h }
func (h timerHandler) Timer(string) client.MetricsTimer                 { return timerFunc(h.record) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
