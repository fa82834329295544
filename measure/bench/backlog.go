package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/measure/internal/section"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/measure/observe"
	"github.com/lienthong/lienthong/measure/oracle"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/workflows"
)

// The backlog scenario's goals (issue: capacity after an outage).
const (
	goalDrain      = 5 * time.Minute
	goalDrainRatio = 1.25
	goalDrainLag   = 2 * time.Second
)

// downAgency is the agency the backlog scenario takes down: every birth
// needs it first (the child's ID number) and every death last (the
// residence cancellation).
const downAgency = "police"

// minOutage is how long the agency stays down at least, however soon the
// backlog settles: long enough for the held steps' backoffs to grow past a
// minute, and for the worker to count the agency as down, as in a real
// outage.
const minOutage = 2 * time.Minute

// backlogSection names the scenario's section of the benchmarks document.
const backlogSection = "backlog"

// RunBacklog measures the drain of a backlog: with Police down, f.Dossiers
// dossiers are submitted and the engine does all it can without it; then
// Police comes back, and the run times how long the engine takes to finish
// every dossier, with the read model's and the portal's lag meanwhile, and
// checks the chaos run's invariants. In the same run, the bare engine
// drains the same activities. It writes its section of f.Out, or prints it.
func RunBacklog(ctx context.Context, cfg config.Config, f Options) error {
	res, err := measureBacklog(ctx, cfg, f)
	if err != nil {
		return err
	}
	if f.Out == "" {
		_, err = io.WriteString(os.Stdout, renderBacklog(res, ""))
	} else if err = section.Write(f.Out, backlogSection, func(notes string) string { return renderBacklog(res, notes) }); err == nil {
		fmt.Fprintf(os.Stderr, "bench: wrote the backlog section of %s\n", f.Out)
	}
	if err != nil {
		return err
	}
	if !res.Verdict.OK() {
		return fmt.Errorf("backlog: %d invariant violation(s)", len(res.Verdict.Violations))
	}
	return nil
}

// backlogResult is everything the backlog section shows.
type backlogResult struct {
	At       time.Time
	Machine  machineInfo
	Database string
	Flags    Options
	Agency   string

	// Load is the submission, made while the agency was down, and the wait.
	Load loadgen.Report
	// Down and Back are when the agency went down and came back; Settled is
	// when the engine had done all it could without it.
	Down, Settled, Back time.Time
	// LastDone is the last dossier's completed_at.
	LastDone time.Time
	// Wake is, for every step whose call had failed during the outage, the
	// time from the agency's return to the end of its next call.
	Wake loadgen.Summary
	// ReadModelLag and PortalLag are for the versions decided during the drain.
	ReadModelLag, PortalLag loadgen.Summary
	// Taken and Written split ReadModelLag: from the agency's decision to
	// the workflow task that made the version (the push's way to the engine
	// and the task's wait for a worker), and from that task to the read
	// model's commit.
	Taken, Written loadgen.Summary
	// Pushed is how long the agencies' pushes made during the drain waited
	// in their outboxes before the engine acknowledged them.
	Pushed   loadgen.Summary
	Cost     workflowCost
	Bare     bareDrain
	PeakRSS  int64
	DrainCPU time.Duration

	Profile    loadgen.ProfileSummary
	ProfileTop string
	ProfileErr string

	Verdict   oracle.Verdict
	SettleErr string
}

// Drain is the time from the agency's return to the last dossier's end.
func (r backlogResult) Drain() time.Duration {
	if r.LastDone.IsZero() {
		return 0
	}
	return r.LastDone.Sub(r.Back)
}

// Ratio is our drain's time over the bare engine's.
func (r backlogResult) Ratio() float64 {
	if r.Bare.Drain <= 0 {
		return 0
	}
	return r.Drain().Seconds() / r.Bare.Drain.Seconds()
}

// bareDrain is the bare engine's drain of the same backlog.
type bareDrain struct {
	Workflows int
	// Before and After are the activities run before the blocked queue's
	// worker started and after.
	Before, After int
	Local         int
	Drain         time.Duration
	CPU           time.Duration
}

func measureBacklog(ctx context.Context, base config.Config, f Options) (backlogResult, error) {
	res := backlogResult{At: time.Now(), Flags: f, Agency: downAgency}
	h, err := startHarness(ctx, base, f.Temporal)
	if err != nil {
		return res, err
	}
	defer h.close()
	res.Database, res.Machine = h.database, h.machine

	conn, err := h.tr.DialAgency(h.addrs.Agencies[downAgency], downAgency, h.cfg.AgencyAdminKey, true, nil)
	if err != nil {
		return res, err
	}
	defer func() { _ = conn.Close() }()
	admin := agencyv1.NewAdminServiceClient(conn)

	res.Down = time.Now()
	if err := setFaults(ctx, admin, &agencyv1.Faults{
		Seed: 1, OutageFrom: timestamppb.New(res.Down.Add(-time.Second)), OutageUntil: timestamppb.New(res.Down.Add(24 * time.Hour)),
	}); err != nil {
		return res, fmt.Errorf("taking %s down: %w", downAgency, err)
	}
	fmt.Fprintf(os.Stderr, "bench: %s is down; submitting a backlog of %d dossiers\n", downAgency, f.Dossiers)

	submitted := make(chan []string, 1)
	type outcome struct {
		rep loadgen.Report
		err error
	}
	loaded := make(chan outcome, 1)
	go func() {
		rep, err := h.load(ctx, f, f.Dossiers, 0, os.Stderr, func(c *loadgen.Config) {
			c.Submitted = func(codes []string) { submitted <- codes }
		})
		loaded <- outcome{rep, err}
	}()
	var codes []string
	select {
	case codes = <-submitted:
	case o := <-loaded:
		return res, fmt.Errorf("the backlog's submission: %w", o.err)
	}
	fmt.Fprintf(os.Stderr, "\nbench: %d accepted; waiting for the engine to do what it can without %s\n", len(codes), downAgency)
	if err := waitBlocked(ctx, h, codes, f.Timeout); err != nil {
		return res, err
	}
	res.Settled = time.Now()
	if wait := time.Until(res.Down.Add(minOutage)); wait > 0 {
		fmt.Fprintf(os.Stderr, "bench: settled; %s stays down %s more\n", downAgency, wait.Round(time.Second))
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
	}

	stopProfile, err := startProfile(h.profilePath(f.Profile))
	if err != nil {
		return res, err
	}
	cpu0 := processCPU()
	res.Back = time.Now()
	if err := setFaults(ctx, admin, &agencyv1.Faults{Seed: 1}); err != nil {
		stopProfile()
		return res, fmt.Errorf("bringing %s back: %w", downAgency, err)
	}
	fmt.Fprintf(os.Stderr, "bench: %s is back; draining\n", downAgency)
	o := <-loaded
	res.DrainCPU = processCPU() - cpu0
	stopProfile()
	res.Load = o.rep
	if o.err != nil {
		return res, fmt.Errorf("the backlog's drain: %w", o.err)
	}
	res.LastDone = o.rep.Started.Add(o.rep.Duration)
	res.Profile, res.ProfileTop, res.ProfileErr = readProfile(ctx, h.profilePath(f.Profile))

	if err := observe.WaitPortal(ctx, h.pool, 3*time.Minute); err != nil {
		res.SettleErr = err.Error()
	}
	facts, err := oracle.ReadFacts(ctx, h.pool, o.rep.Codes)
	if err != nil {
		return res, err
	}
	facts.Workflows = observe.WorkflowStates(ctx, h.tc, slices.Sorted(maps.Keys(facts.ReadModel)))
	res.Verdict = oracle.Verify(facts)
	if err := drainFigures(ctx, h, &res); err != nil {
		return res, err
	}
	if res.Cost, err = measureCost(ctx, h.tc, workflowIDs(o.rep.Codes), res.Back); err != nil {
		return res, err
	}

	h.stopWorkers()
	fmt.Fprintf(os.Stderr, "bench: the bare engine drains the same backlog\n")
	if res.Bare, err = bareBacklog(ctx, h.tc, h.cfg.WorkerRate, res.Cost, f); err != nil {
		return res, err
	}
	res.PeakRSS, _ = loadgen.PeakRSS(0)
	return res, nil
}

func setFaults(ctx context.Context, c agencyv1.AdminServiceClient, f *agencyv1.Faults) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.SetFaults(cctx, &agencyv1.SetFaultsRequest{Faults: f})
	return err
}

// waitBlocked waits until every accepted dossier has ended or has called
// the agency that is down (and so waits on it), and none has a step at
// another agency still being sent or decided: all that is left waits on
// the agency. In a day-long outage the engine has hours to get there.
func waitBlocked(ctx context.Context, h *harness, codes []string, within time.Duration) error {
	deadline := time.Now().Add(within)
	q := measuredb.New(h.pool)
	quiet, last := 0, time.Now()
	n := int64(len(codes))
	for {
		row, err := q.BacklogUnderWay(ctx, measuredb.BacklogUnderWayParams{Codes: codes, Agency: downAgency})
		if err == nil && row.Known == n && row.Ended+row.Waiting >= n && row.UnderWay == 0 {
			// Twice in a row: a step between two versions reads as neither.
			if quiet++; quiet == 2 {
				return nil
			}
		} else {
			quiet = 0
		}
		if time.Since(last) >= 30*time.Second {
			last = time.Now()
			fmt.Fprintf(os.Stderr, "bench: %d of %d wait on %s, %d ended, %d steps under way elsewhere\n",
				row.Waiting, n, downAgency, row.Ended, row.UnderWay)
		}
		if time.Now().After(deadline) {
			unsettled := fmt.Errorf("the backlog did not settle within %s (read model holds %d of %d; %d wait on %s, %d ended, %d steps under way)",
				within, row.Known, n, row.Waiting, downAgency, row.Ended, row.UnderWay)
			if err != nil {
				return fmt.Errorf("%w; the last reading failed: %w", unsettled, err)
			}
			return unsettled
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// drainFigures reads the lag of the versions decided during the drain, and
// how long the steps the outage held took to be called again.
func drainFigures(ctx context.Context, h *harness, res *backlogResult) error {
	q := measuredb.New(h.pool)
	lags, err := q.DecisionLags(ctx, res.Load.Codes)
	if err != nil {
		return fmt.Errorf("reading status history: %w", err)
	}
	var readModel, portal, taken, written []time.Duration
	for _, l := range lags {
		if l.DecidedAt.Before(res.Back) {
			continue
		}
		readModel = append(readModel, l.SyncedAt.Sub(l.DecidedAt))
		taken = append(taken, l.At.Sub(l.DecidedAt))
		written = append(written, l.SyncedAt.Sub(l.At))
		if l.PortalSyncedAt != nil {
			portal = append(portal, l.PortalSyncedAt.Sub(l.DecidedAt))
		}
	}
	res.ReadModelLag, res.PortalLag = loadgen.Summarize(readModel), loadgen.Summarize(portal)
	res.Taken, res.Written = loadgen.Summarize(taken), loadgen.Summarize(written)
	pushes, err := q.PushDelays(ctx, measuredb.PushDelaysParams{Codes: res.Load.Codes, Since: res.Back})
	if err != nil {
		return fmt.Errorf("reading the agencies' outboxes: %w", err)
	}
	pushed := make([]time.Duration, 0, len(pushes))
	for _, p := range pushes {
		pushed = append(pushed, p.SentAt.Sub(p.CreatedAt))
	}
	res.Pushed = loadgen.Summarize(pushed)
	calls, err := q.FirstCallsAfter(ctx, measuredb.FirstCallsAfterParams{Codes: res.Load.Codes, Since: res.Back})
	if err != nil {
		return fmt.Errorf("reading the trace: %w", err)
	}
	wake := make([]time.Duration, 0, len(calls))
	for _, c := range calls {
		wake = append(wake, c.FirstAt.Sub(res.Back))
	}
	res.Wake = loadgen.Summarize(wake)
	return nil
}

// backlogInputs give n bare workflows the backlog's activities in the order
// the outage imposed: first each one's share of what the dossiers ran
// before the agency came back, on the other queues; then the down agency's
// activities, which wait for its worker; then the rest. The down agency's
// failed calls during the outage are left out: the bare engine has no
// agency to fail.
func backlogInputs(cost workflowCost, n int, down string) []BareInput {
	queues := slices.Sorted(maps.Keys(cost.Activities))
	out := make([]BareInput, n)
	for i := range out {
		add := func(q string, k int) {
			for range k {
				out[i].Queues = append(out[i].Queues, bareQueue(q))
			}
		}
		for _, q := range queues {
			if q != down {
				add(q, spread(cost.DoneBefore[q], cost.Workflows, n, i))
			}
		}
		add(down, spread(cost.Activities[down]-cost.DoneBefore[down], cost.Workflows, n, i))
		for _, q := range queues {
			if q != down {
				add(q, spread(cost.Activities[q]-cost.DoneBefore[q], cost.Workflows, n, i))
			}
		}
		out[i].Local = spread(cost.Local, cost.Workflows, n, i)
	}
	return out
}

// bareBacklog starts the bare workflows with no worker on the down
// agency's queue, waits until they have run every activity before it, then
// starts that worker and times the drain to the last workflow's end.
func bareBacklog(ctx context.Context, tc client.Client, rate float64, cost workflowCost, f Options) (bareDrain, error) {
	down := workflows.AgencyTaskQueue(downAgency)
	inputs := backlogInputs(cost, f.Dossiers, down)
	var res bareDrain
	res.Workflows = len(inputs)
	for _, in := range inputs {
		before := slices.Index(in.Queues, bareQueue(down))
		if before < 0 {
			before = len(in.Queues)
		}
		res.Before += before
		res.After += len(in.Queues) - before
		res.Local += in.Local
	}
	var done atomic.Int64
	others := slices.DeleteFunc(slices.Collect(maps.Keys(cost.Activities)), func(q string) bool { return q == down })
	ws := bareWorkers(tc, rate, others, func() { done.Add(1) })
	if err := stack.StartWorkers(ws); err != nil {
		return res, err
	}
	defer stack.StopWorkers(ws)

	started, err := startBare(ctx, tc, inputs, "bench-backlog-"+loadgen.RandomHex(4), f)
	if err != nil {
		return res, err
	}
	deadline := time.Now().Add(f.Timeout)
	for done.Load() < int64(res.Before) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the bare backlog ran %d of its %d activities before the return within %s", done.Load(), res.Before, f.Timeout)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	cpu0 := processCPU()
	back := time.Now()
	w := bareAgencyWorker(tc, rate, down, nil)
	if err := w.Start(); err != nil {
		return res, err
	}
	defer w.Stop()
	ends, err := started.wait(ctx, f.Timeout)
	res.CPU = processCPU() - cpu0
	if err != nil {
		return res, err
	}
	if last := latest(ends); last.After(back) {
		res.Drain = last.Sub(back)
	} else {
		return res, errors.New("the bare backlog ended before its agency's worker started")
	}
	return res, nil
}
