package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The bare engine: a workflow that only runs no-op activities, as many per
// run and on the same kinds of task queue as the measured dossiers used.
const (
	bareWorkflowName = "BenchBare"
	bareActivityName = "BenchNoop"
	bareTaskQueue    = "lienthong-bench-bare"
)

// bareQueue is the bare twin of one of lienthong's task queues.
func bareQueue(q string) string { return "bench-bare-" + q }

// BareInput lists one bare workflow's activities, by task queue, and how
// many local activities run between them.
type BareInput struct {
	Queues []string
	Local  int
}

// BareResult says when the workflow finished, by its own clock, as a
// dossier's completed_at does.
type BareResult struct {
	Ended time.Time
}

func bareNoop(context.Context) error { return nil }

func bareWorkflow(ctx workflow.Context, in BareInput) (BareResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 20 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 15 * time.Second})
	steps := max(len(in.Queues), 1)
	done := 0
	for i := range steps {
		if i < len(in.Queues) {
			if err := workflow.ExecuteActivity(workflow.WithTaskQueue(actx, in.Queues[i]), bareActivityName).Get(ctx, nil); err != nil {
				return BareResult{}, err
			}
		}
		// Local activities are spread evenly among the activities.
		for due := (i + 1) * in.Local / steps; done < due; done++ {
			if err := workflow.ExecuteLocalActivity(lctx, bareNoop).Get(ctx, nil); err != nil {
				return BareResult{}, err
			}
		}
	}
	return BareResult{Ended: workflow.Now(ctx)}, nil
}

// spread is workflow i's share, of n, of total measured over workflows:
// the total is scaled to n workflows, then spread evenly.
func spread(total, workflows, n, i int) int {
	if workflows == 0 {
		return 0
	}
	scaled := total * n / workflows
	return (i+1)*scaled/n - i*scaled/n
}

// bareInputs gives workflow i of n its share of the measured totals, so
// that n bare workflows run exactly the activities n dossiers did.
func bareInputs(cost workflowCost, n int) []BareInput {
	queues := slices.Sorted(maps.Keys(cost.Activities))
	out := make([]BareInput, n)
	for i := range out {
		for _, q := range queues {
			for range spread(cost.Activities[q], cost.Workflows, n, i) {
				out[i].Queues = append(out[i].Queues, bareQueue(q))
			}
		}
		out[i].Local = spread(cost.Local, cost.Workflows, n, i)
	}
	return out
}

type bareResult struct {
	// IDs are the measured bare workflows.
	IDs          []string
	Cost         workflowCost
	Workflows    int
	Activities   int
	Local        int
	Duration     time.Duration
	Throughput   float64
	StartLatency loadgen.Summary
	EndToEnd     loadgen.Summary
}

// bareWorkers are workers built with the real worker's options: the bare
// workflow's, and one for each of the queues, whose activities call done.
func bareWorkers(tc client.Client, rate float64, queues []string, done func()) []worker.Worker {
	wf := worker.New(tc, bareTaskQueue, stack.WorkflowWorkerOptions())
	wf.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	wf.RegisterActivity(bareNoop)
	ws := []worker.Worker{wf}
	for _, q := range queues {
		ws = append(ws, bareAgencyWorker(tc, rate, q, done))
	}
	return ws
}

// bareAgencyWorker serves the bare twin of queue q with the options
// newWorkers gives each agency queue.
func bareAgencyWorker(tc client.Client, rate float64, q string, done func()) worker.Worker {
	w := worker.New(tc, bareQueue(q), stack.AgencyWorkerOptions(rate))
	w.RegisterActivityWithOptions(func(context.Context) error {
		if done != nil {
			done()
		}
		return nil
	}, activity.RegisterOptions{Name: bareActivityName})
	return w
}

// bareStarts are the bare workflows one run started.
type bareStarts struct {
	ids     []string
	runs    []client.WorkflowRun
	starts  []time.Time
	latency []time.Duration
	began   time.Time
}

// startBare starts one bare workflow per input at the load's concurrency
// and rate.
func startBare(ctx context.Context, tc client.Client, inputs []BareInput, prefix string, f Options) (bareStarts, error) {
	out := bareStarts{runs: make([]client.WorkflowRun, len(inputs)), starts: make([]time.Time, len(inputs)), began: time.Now()}
	for i := range inputs {
		out.ids = append(out.ids, fmt.Sprintf("%s-%05d", prefix, i))
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	work := make(chan int)
	for range f.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t0 := time.Now()
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				r, err := tc.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: out.ids[i], TaskQueue: bareTaskQueue}, bareWorkflowName, inputs[i])
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					out.runs[i], out.starts[i] = r, t0
					out.latency = append(out.latency, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range inputs {
		if f.Rate > 0 {
			if d := time.Until(out.began.Add(time.Duration(float64(i) / f.Rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return out, fmt.Errorf("starting bare workflows: %d failed, first: %w", len(errs), errs[0])
	}
	return out, nil
}

// wait gives each started workflow's end, by its own clock, within timeout.
func (s bareStarts) wait(ctx context.Context, timeout time.Duration) ([]time.Time, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ends := make([]time.Time, len(s.runs))
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	idx := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				var r BareResult
				err := s.runs[i].Get(wctx, &r)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ends[i] = r.Ended
				}
				mu.Unlock()
			}
		}()
	}
	for i := range s.runs {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if len(errs) > 0 {
		return ends, fmt.Errorf("bare workflows: %d failed, first: %w", len(errs), errs[0])
	}
	return ends, nil
}

// latest is the latest of the times.
func latest(ts []time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// bareRun starts the bare workflows at the load's concurrency and rate on
// workers built with the real worker's options, and times them from the
// first start to the last workflow's end.
func bareRun(ctx context.Context, tc client.Client, rate float64, cost workflowCost, f Options) (bareResult, time.Duration, error) {
	ws := bareWorkers(tc, rate, slices.Collect(maps.Keys(cost.Activities)), nil)
	if err := stack.StartWorkers(ws); err != nil {
		return bareResult{}, 0, err
	}
	defer stack.StopWorkers(ws)

	run := func(inputs []BareInput, prefix string) (bareResult, error) {
		var out bareResult
		started, err := startBare(ctx, tc, inputs, prefix, f)
		if err != nil {
			return out, err
		}
		ends, err := started.wait(ctx, f.Timeout)
		if err != nil {
			return out, err
		}
		var e2e []time.Duration
		for i, end := range ends {
			e2e = append(e2e, end.Sub(started.starts[i]))
			out.Activities += len(inputs[i].Queues)
			out.Local += inputs[i].Local
		}
		out.Workflows, out.IDs = len(inputs), started.ids
		out.Duration = latest(ends).Sub(started.began)
		if s := out.Duration.Seconds(); s > 0 {
			out.Throughput = float64(out.Workflows) / s
		}
		out.StartLatency = loadgen.Summarize(started.latency)
		out.EndToEnd = loadgen.Summarize(e2e)
		return out, nil
	}

	id := loadgen.RandomHex(4)
	if f.Warmup > 0 {
		if _, err := run(bareInputs(cost, f.Warmup), "bench-bare-warmup-"+id); err != nil {
			return bareResult{}, 0, fmt.Errorf("bare warm-up: %w", err)
		}
	}
	cpu0 := processCPU()
	res, err := run(bareInputs(cost, f.Dossiers), "bench-bare-"+id)
	return res, processCPU() - cpu0, err
}
