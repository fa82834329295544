package stack

import (
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// workflowTaskWait is the SDK's timer for how long a workflow task waited
// in the server between being scheduled and a worker taking it, sticky
// queues included.
const workflowTaskWait = "temporal_workflow_task_schedule_to_start_latency"

// TaskLatency keeps the last waits of the workflow tasks this process's
// workers took, as the SDK times them. The server's backlog count covers
// only the normal task queue; a worker's sticky queue, where most tasks of a
// cached dossier go, is not in it. The wait is what every task, a
// decision's read-model write among them, actually sees.
type TaskLatency struct {
	mu   sync.Mutex
	ring [latencyRing]observation
	next int
	now  func() time.Time
}

type observation struct {
	at   time.Time
	wait time.Duration
}

// latencyRing is how many waits it keeps; latencyWindow is how old a wait
// may be and still count.
const (
	latencyRing   = 128
	latencyWindow = 2 * time.Second
)

// NewTaskLatency keeps no waits yet.
func NewTaskLatency() *TaskLatency { return &TaskLatency{now: time.Now} }

func (l *TaskLatency) record(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next%latencyRing] = observation{at: l.now(), wait: d}
	l.next++
}

// Recent is the 90th percentile of the waits of the last latencyWindow,
// and how many it saw; zero when no task was taken in it.
func (l *TaskLatency) Recent() (time.Duration, int) {
	l.mu.Lock()
	since := l.now().Add(-latencyWindow)
	var waits []time.Duration
	for _, o := range l.ring {
		if !o.at.IsZero() && o.at.After(since) {
			waits = append(waits, o.wait)
		}
	}
	l.mu.Unlock()
	if len(waits) == 0 {
		return 0, 0
	}
	slices.Sort(waits)
	return waits[(len(waits)*9)/10], len(waits)
}

// recentOrNil is Recent, or nil for no TaskLatency.
func (l *TaskLatency) recentOrNil() func() (time.Duration, int) {
	if l == nil {
		return nil
	}
	return l.Recent
}

// watch passes every metric to inner and, for the workflow task wait, also
// records it in l.
func (l *TaskLatency) watch(inner client.MetricsHandler) client.MetricsHandler {
	if inner == nil {
		inner = client.MetricsNopHandler
	}
	return latencyHandler{MetricsHandler: inner, l: l}
}

type latencyHandler struct {
	client.MetricsHandler
	l *TaskLatency
}

func (h latencyHandler) WithTags(tags map[string]string) client.MetricsHandler {
	return latencyHandler{MetricsHandler: h.MetricsHandler.WithTags(tags), l: h.l}
}

func (h latencyHandler) Timer(name string) client.MetricsTimer {
	t := h.MetricsHandler.Timer(name)
	if name != workflowTaskWait {
		return t
	}
	return latencyTimer{inner: t, l: h.l}
}

type latencyTimer struct {
	inner client.MetricsTimer
	l     *TaskLatency
}

func (t latencyTimer) Record(d time.Duration) {
	t.inner.Record(d)
	t.l.record(d)
}
