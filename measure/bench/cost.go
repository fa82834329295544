package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// workflowCost is what the measured dossiers asked of the engine, counted
// from their histories.
type workflowCost struct {
	Workflows int
	// Activities counts scheduled activity tasks by task queue.
	Activities map[string]int
	// DoneBefore counts, by task queue, the activity tasks that closed
	// (completed, failed or timed out) before the time measureCost was
	// given: none for the zero time.
	DoneBefore map[string]int
	Local      int
	Signals    int
	Tasks      int
	Events     int
	LastClose  time.Time
}

func (c workflowCost) per(n int) float64 {
	if c.Workflows == 0 {
		return 0
	}
	return float64(n) / float64(c.Workflows)
}

func (c workflowCost) totalActivities() int {
	n := 0
	for _, v := range c.Activities {
		n += v
	}
	return n
}

func (c workflowCost) ActivitiesPerDossier() float64 { return c.per(c.totalActivities()) }
func (c workflowCost) LocalPerDossier() float64      { return c.per(c.Local) }

// measureCost reads the histories of the given workflows; activities that
// completed before the time before are counted apart too.
func measureCost(ctx context.Context, tc client.Client, workflowIDs []string, before time.Time) (workflowCost, error) {
	cost := workflowCost{Activities: map[string]int{}, DoneBefore: map[string]int{}}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range workflowIDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := historyCost(ctx, tc, id, before)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("reading the history of %s: %w", id, err)
				}
				return
			}
			cost.Workflows++
			for q, n := range c.Activities {
				cost.Activities[q] += n
			}
			for q, n := range c.DoneBefore {
				cost.DoneBefore[q] += n
			}
			cost.Local += c.Local
			cost.Signals += c.Signals
			cost.Tasks += c.Tasks
			cost.Events += c.Events
			if c.LastClose.After(cost.LastClose) {
				cost.LastClose = c.LastClose
			}
		}()
	}
	wg.Wait()
	return cost, firstErr
}

const localActivityMarker = "LocalActivity"

func historyCost(ctx context.Context, tc client.Client, workflowID string, before time.Time) (workflowCost, error) {
	c := workflowCost{Activities: map[string]int{}, DoneBefore: map[string]int{}, Workflows: 1}
	queueOf := map[int64]string{} // by the activity's scheduled event
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return c, err
		}
		c.Events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			q := ev.GetActivityTaskScheduledEventAttributes().GetTaskQueue().GetName()
			c.Activities[q]++
			queueOf[ev.GetEventId()] = q
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			c.closed(ev.GetEventTime().AsTime(), before, queueOf[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			c.closed(ev.GetEventTime().AsTime(), before, queueOf[ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			c.closed(ev.GetEventTime().AsTime(), before, queueOf[ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				c.Local++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			c.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			c.Tasks++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			c.LastClose = ev.GetEventTime().AsTime()
		}
	}
	return c, nil
}

// closed counts an activity task that closed at when, on queue q.
func (c *workflowCost) closed(when, before time.Time, q string) {
	if when.Before(before) {
		c.DoneBefore[q]++
	}
}
