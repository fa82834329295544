package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/measure/observe"
	"github.com/lienthong/lienthong/measure/oracle"
	"github.com/lienthong/lienthong/store"
)

// verify waits for the system to settle, reads every store, asks the
// oracle for its verdict, adds the harness's own checks, prints the tables
// and says whether the run held.
func (r *run) verify(ctx context.Context, rep loadgen.Report, loadErr error) (Outcome, error) {
	res := r.outcome(rep)
	// The portal follows the read model, and a dossier a killed worker was
	// publishing waits for its lease: give the last versions time to get there.
	r.logf("waiting for the last versions to reach the read model and the portal")
	settleErr := observe.WaitPortal(ctx, r.pool, 3*time.Minute)

	r.logf("reading every store")
	facts, err := oracle.ReadFacts(ctx, r.pool, rep.Codes)
	if err != nil {
		return res, err
	}
	facts.Workflows = observe.WorkflowStates(ctx, r.tc, slices.Sorted(maps.Keys(facts.ReadModel)))
	res.Verdict = oracle.Verify(facts)
	if err := r.checkHarness(ctx, &res.Verdict); err != nil {
		return res, err
	}
	res.Injected = append(res.Injected, observedFailures(ctx, r.pool)...)
	rep.PeakRSS = r.peakRSS()
	res.Load = rep
	r.report(res)

	var problems []error
	if loadErr != nil {
		problems = append(problems, fmt.Errorf("load: %w", loadErr))
	}
	if settleErr != nil {
		problems = append(problems, settleErr)
	}
	r.mu.Lock()
	problems = append(problems, r.errs...)
	r.mu.Unlock()
	if !res.Verdict.OK() {
		problems = append(problems, fmt.Errorf("%d invariant violation(s)", len(res.Verdict.Violations)))
	}
	if err := errors.Join(problems...); err != nil {
		return res, fmt.Errorf("chaos (seed %d): %w", r.o.Seed, err)
	}
	r.logf("every invariant held (seed %d)", r.o.Seed)
	return res, nil
}

// checkHarness adds the checks only the harness can make: no part died by
// itself, and kills and dropped connections mid-append left the audit
// chain whole.
func (r *run) checkHarness(ctx context.Context, v *oracle.Verdict) error {
	var crashes []string
	for _, p := range r.procs {
		crashes = append(crashes, p.crashes()...)
	}
	addCheck(v, oracle.Check{Name: "no part died on its own", Rule: "only the harness kills processes", Checked: len(r.procs)}, crashes)
	chain, err := store.New(r.pool).VerifyAudit(ctx)
	if err != nil {
		return err
	}
	var broken []string
	if chain.Break != nil {
		broken = append(broken, chain.Break.Detail)
	}
	addCheck(v, oracle.Check{Name: "the audit chain holds", Rule: "audit verify finds no row changed or removed", Checked: int(chain.Rows)}, broken)
	return nil
}

// peakRSS is every part's peak memory, and the harness's own.
func (r *run) peakRSS() []loadgen.ProcessRSS {
	var out []loadgen.ProcessRSS
	for _, p := range r.procs {
		p.sample()
	}
	for _, p := range r.procs {
		out = append(out, p.rss())
	}
	if self, err := loadgen.PeakRSS(0); err == nil {
		out = append(out, loadgen.ProcessRSS{Name: "chaos harness and load generator", PID: os.Getpid(), Bytes: self})
	}
	return out
}

func (r *run) report(res Outcome) {
	fmt.Fprintln(r.out)
	_ = res.Load.WriteText(r.out)
	fmt.Fprintln(r.out)
	_ = WriteSummary(r.out, res.Injected, res.Verdict, 10)
	if r.o.Keep {
		r.logf("logs: %s/*.log", r.tmp)
	}
}

// observedFailures summarises the failed attempts the trace recorded, by
// cause and agency: the faults as the engine saw them.
func observedFailures(ctx context.Context, pool *pgxpool.Pool) []Injection {
	failed, err := measuredb.New(pool).FailedAttempts(ctx, dossier.EventAttemptFailed)
	if err != nil {
		return []Injection{{Fault: "failed attempts in the trace", Effect: "could not read: " + err.Error()}}
	}
	counts := map[string]map[string]int{}
	for _, f := range failed {
		step := f.Step
		cause := failureCause(f.Error)
		if counts[cause] == nil {
			counts[cause] = map[string]int{}
		}
		counts[cause][dossier.StepKind(step).Agency()]++
	}
	var out []Injection
	for _, cause := range slices.Sorted(maps.Keys(counts)) {
		var parts []string
		total := 0
		for _, a := range slices.Sorted(maps.Keys(counts[cause])) {
			parts = append(parts, fmt.Sprintf("%s %d", a, counts[cause][a]))
			total += counts[cause][a]
		}
		fate := "each retried"
		if refusal(cause) {
			// The agency refused the request itself: the step machine
			// rejects the step without retrying. Under faults that are all
			// transient, a refusal points at a bug, not at the faults.
			fate = "REFUSED: the step was rejected, not retried"
		}
		out = append(out, Injection{Fault: "seen in traces: " + cause, When: "whole run",
			Effect: fmt.Sprintf("%d failed attempts (%s), %s", total, strings.Join(parts, ", "), fate)})
	}
	return out
}

// refusal says a failure's gRPC code makes the step machine give up.
func refusal(cause string) bool {
	switch cause {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "OUT_OF_RANGE", "UNIMPLEMENTED":
		return true
	}
	return false
}

func failureCause(msg string) string {
	switch {
	case strings.Contains(msg, "agency outage"):
		return "outage"
	case strings.HasPrefix(msg, "UNAUTHENTICATED"):
		return "UNAUTHENTICATED"
	case strings.Contains(msg, "injected fault"):
		return "transient UNAVAILABLE"
	case strings.HasPrefix(msg, "TIMEOUT"), strings.HasPrefix(msg, "DEADLINE_EXCEEDED"):
		return "timeout (killed worker or slow call)"
	case strings.Contains(msg, "SQLSTATE 57P01"), strings.Contains(msg, "terminating connection"):
		return "PostgreSQL connection dropped"
	}
	if code, _, ok := strings.Cut(msg, ":"); ok && code == strings.ToUpper(code) && !strings.Contains(code, " ") {
		return code
	}
	return "other"
}

// addCheck adds a check of the harness's own to the verdict, one violation
// per detail.
func addCheck(v *oracle.Verdict, c oracle.Check, details []string) {
	c.Violations = len(details)
	v.Checks = append(v.Checks, c)
	for _, d := range details {
		v.Violations = append(v.Violations, oracle.Violation{Invariant: c.Name, Code: "-", Detail: d})
	}
}
