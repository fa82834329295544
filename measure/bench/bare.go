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

// bareInputs gives workflow i of n its share of the measured totals, so
// that n bare workflows run exactly the activities n dossiers did.
func bareInputs(cost workflowCost, n int) []BareInput {
	queues := slices.Sorted(maps.Keys(cost.Activities))
	share := func(total, i int) int {
		if cost.Workflows == 0 {
			return 0
		}
		// Scale the measured total to n workflows, then spread it.
		scaled := total * n / cost.Workflows
		return (i+1)*scaled/n - i*scaled/n
	}
	out := make([]BareInput, n)
	for i := range out {
		for _, q := range queues {
			for range share(cost.Activities[q], i) {
				out[i].Queues = append(out[i].Queues, bareQueue(q))
			}
		}
		out[i].Local = share(cost.Local, i)
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

// bareRun starts the bare workflows at the load's concurrency and rate on
// workers built with the real worker's options, and times them from the
// first start to the last workflow's end.
func bareRun(ctx context.Context, tc client.Client, rate float64, cost workflowCost, f Options) (bareResult, time.Duration, error) {
	var res bareResult
	wf := worker.New(tc, bareTaskQueue, stack.WorkflowWorkerOptions())
	wf.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	wf.RegisterActivity(bareNoop)
	ws := []worker.Worker{wf}
	for q := range cost.Activities {
		// The same options newWorkers gives each agency queue.
		w := worker.New(tc, bareQueue(q), stack.AgencyWorkerOptions(rate))
		w.RegisterActivityWithOptions(bareNoop, activity.RegisterOptions{Name: bareActivityName})
		ws = append(ws, w)
	}
	if err := stack.StartWorkers(ws); err != nil {
		return res, 0, err
	}
	defer stack.StopWorkers(ws)

	run := func(inputs []BareInput, prefix string) (bareResult, error) {
		var out bareResult
		var (
			mu      sync.Mutex
			runs    = make([]client.WorkflowRun, len(inputs))
			starts  = make([]time.Time, len(inputs))
			latency []time.Duration
			errs    []error
		)
		began := time.Now()
		work := make(chan int)
		var wg sync.WaitGroup
		for range f.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					t0 := time.Now()
					sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					r, err := tc.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
						ID: fmt.Sprintf("%s-%05d", prefix, i), TaskQueue: bareTaskQueue,
					}, bareWorkflowName, inputs[i])
					cancel()
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						runs[i], starts[i] = r, t0
						latency = append(latency, time.Since(t0))
					}
					mu.Unlock()
				}
			}()
		}
		for i := range inputs {
			if f.Rate > 0 {
				if d := time.Until(began.Add(time.Duration(float64(i) / f.Rate * float64(time.Second)))); d > 0 {
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
		wctx, cancel := context.WithTimeout(ctx, f.Timeout)
		defer cancel()
		ends := make([]time.Time, len(inputs))
		idx := make(chan int)
		var wg2 sync.WaitGroup
		for range 32 {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				for i := range idx {
					var r BareResult
					err := runs[i].Get(wctx, &r)
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
		for i := range inputs {
			idx <- i
		}
		close(idx)
		wg2.Wait()
		if len(errs) > 0 {
			return out, fmt.Errorf("bare workflows: %d failed, first: %w", len(errs), errs[0])
		}
		var last time.Time
		var e2e []time.Duration
		for i, end := range ends {
			e2e = append(e2e, end.Sub(starts[i]))
			if end.After(last) {
				last = end
			}
			out.Activities += len(inputs[i].Queues)
			out.Local += inputs[i].Local
		}
		out.Workflows = len(inputs)
		for i := range inputs {
			out.IDs = append(out.IDs, fmt.Sprintf("%s-%05d", prefix, i))
		}
		out.Duration = last.Sub(began)
		if s := out.Duration.Seconds(); s > 0 {
			out.Throughput = float64(out.Workflows) / s
		}
		out.StartLatency = loadgen.Summarize(latency)
		out.EndToEnd = loadgen.Summarize(e2e)
		return out, nil
	}

	id := loadgen.RandomHex(4)
	if f.Warmup > 0 {
		if _, err := run(bareInputs(cost, f.Warmup), "bench-bare-warmup-"+id); err != nil {
			return res, 0, fmt.Errorf("bare warm-up: %w", err)
		}
	}
	cpu0 := processCPU()
	res, err := run(bareInputs(cost, f.Dossiers), "bench-bare-"+id)
	return res, processCPU() - cpu0, err
}
