// Package oracle owns the invariants a run of lienthong must keep, whatever
// was done to it: no accepted dossier lost, every one settled, one agency
// case per step, the read model equal to the workflow's state, the portal
// current, and versions in order. It reads the facts from the engine's and
// the agencies' tables with its own SQL, and judges them as plain data.
//
// It is a tool for measuring lienthong, not part of it: it may import the
// engine's data packages (dossier, the generated contracts) and pgx; it must
// not import workflows, activities, the API or stack, and no production
// package may import it.
package oracle

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lienthong/lienthong/dossier"
)

// Facts are what the chaos harness reads once a run has settled, from every
// place a dossier's state lives. The checks below compare them; they are
// plain data so that each check can be fed inconsistent facts in tests.
type Facts struct {
	// Accepted are the codes the API gave the load generator.
	Accepted []string
	// ReadModel is engine.dossiers with engine.steps, by code.
	ReadModel map[string]dossier.Snapshot
	// Workflows is each dossier's workflow as its state query answers, by code.
	Workflows map[string]WorkflowState
	// Cases are the rows of the agencies' case tables.
	Cases []AgencyCase
	// Portal is the portal's status feed, by code.
	Portal map[string]PortalRecord
	// History is engine.status_history by code, in any order.
	History map[string][]HistoryRow
}

// WorkflowState is one dossier's workflow.
type WorkflowState struct {
	Running  bool
	Snapshot dossier.Snapshot
	// Err says why the state could not be read (for example, no such workflow).
	Err string
}

// AgencyCase is one row of an agency's case table.
type AgencyCase struct {
	Agency      string
	CaseID      string
	DossierCode string
	Step        dossier.StepKind
	Status      dossier.CaseStatus
}

// PortalRecord is what the portal shows for a dossier.
type PortalRecord struct {
	Version int64
	Status  string
}

// HistoryRow is one version in engine.status_history.
type HistoryRow struct {
	Version    int64
	Status     dossier.Status
	Step       dossier.StepKind
	StepStatus dossier.StepStatus
}

// The invariants a chaos run must keep.
const (
	InvNoneLost     = "no dossier lost"
	InvSettled      = "terminal or legitimately waiting"
	InvAgencyOnce   = "one agency record per sent step"
	InvReadModel    = "read model equals workflow state"
	InvPortalLatest = "portal holds the latest version"
	InvMonotonic    = "no status went backwards"
)

// Check is one invariant's result.
type Check struct {
	Name       string
	Rule       string
	Checked    int
	Violations int
}

// Violation is one broken invariant for one dossier.
type Violation struct {
	Invariant string
	Code      string
	Detail    string
}

// Waiting is a dossier that is open for a reason the law allows.
type Waiting struct {
	Code   string
	Reason string
}

// Verdict is every check's result.
type Verdict struct {
	Checks     []Check
	Violations []Violation
	Waiting    []Waiting
}

// OK says no invariant broke.
func (v Verdict) OK() bool { return len(v.Violations) == 0 }

// Verify runs every check over f.
func Verify(f Facts) Verdict {
	var v Verdict
	add := func(name, rule string, checked int, vs []Violation) {
		v.Checks = append(v.Checks, Check{Name: name, Rule: rule, Checked: checked, Violations: len(vs)})
		v.Violations = append(v.Violations, vs...)
	}
	n, vs := CheckNoneLost(f)
	add(InvNoneLost, "every accepted dossier has a read-model row and a workflow", n, vs)
	n, vs, waiting := CheckSettled(f)
	v.Waiting = waiting
	add(InvSettled, "every dossier is terminal, or waits on the applicant or a late ID number", n, vs)
	n, vs = CheckAgencyRecords(f)
	add(InvAgencyOnce, "exactly one case per dossier and step sent, none unknown to the engine, decisions agree", n, vs)
	n, vs = CheckReadModel(f)
	add(InvReadModel, "status, version and every step's status and case equal the workflow's state query", n, vs)
	n, vs = CheckPortal(f)
	add(InvPortalLatest, "the portal's version and status equal the read model's", n, vs)
	n, vs = CheckMonotonic(f)
	add(InvMonotonic, "versions 1..N without gaps; terminal statuses never change", n, vs)
	return v
}

func codesOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// CheckNoneLost checks that every accepted dossier reached the read model and Temporal.
func CheckNoneLost(f Facts) (int, []Violation) {
	var out []Violation
	bad := func(code, format string, args ...any) {
		out = append(out, Violation{Invariant: InvNoneLost, Code: code, Detail: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for _, code := range f.Accepted {
		seen[code] = true
		if _, ok := f.ReadModel[code]; !ok {
			bad(code, "accepted by the API but not in the read model")
		}
	}
	for _, code := range codesOf(f.ReadModel) {
		seen[code] = true
		wf, ok := f.Workflows[code]
		switch {
		case !ok:
			bad(code, "in the read model but its workflow was not found")
		case wf.Err != "":
			bad(code, "workflow state unreadable: %s", wf.Err)
		}
	}
	for _, code := range codesOf(f.Workflows) {
		if _, ok := f.ReadModel[code]; !ok && f.Workflows[code].Err == "" {
			seen[code] = true
			bad(code, "a workflow runs for a dossier the read model does not have")
		}
	}
	return len(seen), out
}

// CheckSettled checks that every dossier is terminal, or waits for a reason the
// procedure allows: the applicant's supplement, or a late ID number.
func CheckSettled(f Facts) (int, []Violation, []Waiting) {
	var out []Violation
	var waiting []Waiting
	for _, code := range codesOf(f.ReadModel) {
		s := f.ReadModel[code]
		if s.Status.Terminal() {
			continue
		}
		if reason, ok := WaitingReason(s); ok {
			waiting = append(waiting, Waiting{Code: code, Reason: reason})
			continue
		}
		out = append(out, Violation{Invariant: InvSettled, Code: code, Detail: "still " + string(s.Status) + ": " + openSteps(s)})
	}
	return len(f.ReadModel), out, waiting
}

// WaitingReason says why an open dossier may legitimately stay open: every
// open step waits on the applicant (a supplement) or on the population
// database's late ID number, or has not started because it follows one that
// does. Anything else open after the run is stuck.
func WaitingReason(s dossier.Snapshot) (string, bool) {
	var reasons []string
	for _, st := range s.Steps {
		switch {
		case st.Status.Terminal():
		case st.Status == dossier.StepPending:
			// Not started: it follows a step that waits.
		case st.Status == dossier.StepNeedsSupplement:
			r := fmt.Sprintf("%s waits for the applicant's supplement", st.Kind)
			if len(st.Missing) > 0 {
				r += " (missing " + strings.Join(st.Missing, ", ") + ")"
			}
			reasons = append(reasons, r)
		case st.Kind == dossier.StepIDNumber && st.Status == dossier.StepAwaitingAgency && st.CaseID != "":
			reasons = append(reasons, "id_number: the population database will push the late ID number")
		case st.Status == dossier.StepWaitingIDNumber:
			reasons = append(reasons, fmt.Sprintf("%s waits for the ID number", st.Kind))
		default:
			return "", false
		}
	}
	if len(reasons) == 0 {
		return "", false
	}
	return strings.Join(reasons, "; "), true
}

func openSteps(s dossier.Snapshot) string {
	var parts []string
	for _, st := range s.Steps {
		if st.Status.Terminal() {
			continue
		}
		p := fmt.Sprintf("%s %s", st.Kind, st.Status)
		if !st.StatusSince.IsZero() {
			p += " since " + st.StatusSince.Format(time.TimeOnly)
		}
		if st.Attempts > 0 {
			p += fmt.Sprintf(" after %d attempt(s)", st.Attempts)
		}
		if st.LastError != "" {
			p += ", last error " + st.LastError
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "every step is closed but the dossier is not"
	}
	return strings.Join(parts, "; ")
}

type stepKey struct {
	code string
	step dossier.StepKind
}

// CheckAgencyRecords checks that exactly one agency case per dossier and step the
// engine sent, none the engine does not know, and the agency's decision and
// the engine's step status agree.
func CheckAgencyRecords(f Facts) (int, []Violation) {
	var out []Violation
	bad := func(code string, format string, args ...any) {
		out = append(out, Violation{Invariant: InvAgencyOnce, Code: code, Detail: fmt.Sprintf(format, args...)})
	}
	groups := map[stepKey][]AgencyCase{}
	for _, c := range f.Cases {
		k := stepKey{c.DossierCode, c.Step}
		groups[k] = append(groups[k], c)
	}
	checked := 0
	known := map[stepKey]bool{}
	for _, code := range codesOf(f.ReadModel) {
		for _, st := range f.ReadModel[code].Steps {
			checked++
			k := stepKey{code, st.Kind}
			known[k] = true
			cases := groups[k]
			if len(cases) > 1 {
				ids := make([]string, len(cases))
				for i, c := range cases {
					ids[i] = c.Agency + ":" + c.CaseID
				}
				bad(code, "%s: %d agency cases (%s), expected one", st.Kind, len(cases), strings.Join(ids, ", "))
			}
			if st.CaseID == "" {
				if len(cases) > 0 {
					bad(code, "%s: %s holds case %s, which the engine never recorded", st.Kind, cases[0].Agency, cases[0].CaseID)
				}
				if st.Status == dossier.StepApproved {
					bad(code, "%s: APPROVED in the engine without any agency case", st.Kind)
				}
				continue
			}
			i := slices.IndexFunc(cases, func(c AgencyCase) bool { return c.CaseID == st.CaseID })
			if i < 0 {
				bad(code, "%s: the engine recorded case %s at %s, which the agency does not have", st.Kind, st.CaseID, st.Agency)
				continue
			}
			c := cases[i]
			if c.Agency != st.Agency {
				bad(code, "%s: case %s is at %s, the step belongs to %s", st.Kind, c.CaseID, c.Agency, st.Agency)
			}
			approved := c.Status == dossier.CaseApproved || c.Status == dossier.CaseApprovedPendingID
			switch {
			case approved && st.Status != dossier.StepApproved:
				bad(code, "%s: the agency approved case %s but the engine shows %s", st.Kind, c.CaseID, st.Status)
			case !approved && st.Status == dossier.StepApproved:
				bad(code, "%s: the engine shows APPROVED but the agency's case %s is %s", st.Kind, c.CaseID, c.Status)
			case c.Status == dossier.CaseRejected && st.Status != dossier.StepRejected:
				bad(code, "%s: the agency rejected case %s but the engine shows %s", st.Kind, c.CaseID, st.Status)
			}
		}
	}
	var orphans []stepKey
	for k := range groups {
		if !known[k] {
			orphans = append(orphans, k)
		}
	}
	slices.SortFunc(orphans, func(a, b stepKey) int { return strings.Compare(a.code+"/"+string(a.step), b.code+"/"+string(b.step)) })
	for _, k := range orphans {
		c := groups[k][0]
		checked++
		bad(k.code, "%s: %s holds case %s for a dossier or step the engine does not have", k.step, c.Agency, c.CaseID)
	}
	return checked, out
}

// CheckReadModel checks that the read model says what each workflow says.
func CheckReadModel(f Facts) (int, []Violation) {
	var out []Violation
	checked := 0
	for _, code := range codesOf(f.ReadModel) {
		wf, ok := f.Workflows[code]
		if !ok || wf.Err != "" {
			continue // reported as lost
		}
		checked++
		if diffs := diffSnapshots(f.ReadModel[code], wf.Snapshot); len(diffs) > 0 {
			out = append(out, Violation{Invariant: InvReadModel, Code: code, Detail: strings.Join(diffs, "; ")})
		}
	}
	return checked, out
}

// diffSnapshots lists how the read model (rm) differs from the workflow (wf).
func diffSnapshots(rm, wf dossier.Snapshot) []string {
	var d []string
	if rm.Status != wf.Status {
		d = append(d, fmt.Sprintf("status: read model %s, workflow %s", rm.Status, wf.Status))
	}
	if rm.Version != wf.Version {
		d = append(d, fmt.Sprintf("version: read model %d, workflow %d", rm.Version, wf.Version))
	}
	steps := map[dossier.StepKind]dossier.Step{}
	for _, st := range wf.Steps {
		steps[st.Kind] = st
	}
	for _, st := range rm.Steps {
		w, ok := steps[st.Kind]
		if !ok {
			d = append(d, fmt.Sprintf("%s: in the read model, not in the workflow", st.Kind))
			continue
		}
		delete(steps, st.Kind)
		if st.Status != w.Status {
			d = append(d, fmt.Sprintf("%s: read model %s, workflow %s", st.Kind, st.Status, w.Status))
		}
		if st.CaseID != w.CaseID {
			d = append(d, fmt.Sprintf("%s: case %q in the read model, %q in the workflow", st.Kind, st.CaseID, w.CaseID))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(stepNames(steps))) {
		d = append(d, fmt.Sprintf("%s: in the workflow, not in the read model", k))
	}
	return d
}

func stepNames(m map[dossier.StepKind]dossier.Step) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[string(k)] = true
	}
	return out
}

// CheckPortal checks that the portal shows each dossier's latest version.
func CheckPortal(f Facts) (int, []Violation) {
	var out []Violation
	for _, code := range codesOf(f.ReadModel) {
		rm := f.ReadModel[code]
		p, ok := f.Portal[code]
		switch {
		case !ok:
			out = append(out, Violation{Invariant: InvPortalLatest, Code: code, Detail: fmt.Sprintf("the portal has no status; the read model is at v%d", rm.Version)})
		case p.Version != rm.Version:
			out = append(out, Violation{Invariant: InvPortalLatest, Code: code, Detail: fmt.Sprintf("the portal holds v%d (%s), the read model v%d (%s)", p.Version, p.Status, rm.Version, rm.Status)})
		case p.Status != string(rm.Status):
			out = append(out, Violation{Invariant: InvPortalLatest, Code: code, Detail: fmt.Sprintf("v%d: the portal shows %s, the read model %s", p.Version, p.Status, rm.Status)})
		}
	}
	return len(f.ReadModel), out
}

// CheckMonotonic checks that each dossier's history has every version from 1 to the
// read model's, once; a terminal dossier status never changes afterwards,
// and neither does a terminal step status.
func CheckMonotonic(f Facts) (int, []Violation) {
	var out []Violation
	for _, code := range codesOf(f.ReadModel) {
		bad := func(format string, args ...any) {
			out = append(out, Violation{Invariant: InvMonotonic, Code: code, Detail: fmt.Sprintf(format, args...)})
		}
		rows := slices.Clone(f.History[code])
		slices.SortFunc(rows, func(a, b HistoryRow) int { return int(a.Version - b.Version) })
		want := int64(1)
		for _, r := range rows {
			if r.Version != want {
				bad("history has v%d where v%d was expected", r.Version, want)
				break
			}
			want++
		}
		if last := int64(len(rows)); last != f.ReadModel[code].Version {
			bad("history holds %d version(s), the read model is at v%d", last, f.ReadModel[code].Version)
		}
		var final *HistoryRow
		closed := map[dossier.StepKind]HistoryRow{}
		for i, r := range rows {
			if final != nil && r.Status != final.Status {
				bad("status went from %s (v%d) to %s (v%d)", final.Status, final.Version, r.Status, r.Version)
			}
			if final == nil && r.Status.Terminal() {
				final = &rows[i]
			}
			if r.Step == "" || r.StepStatus == "" {
				continue
			}
			if c, ok := closed[r.Step]; ok && r.StepStatus != c.StepStatus {
				bad("%s went from %s (v%d) to %s (v%d)", r.Step, c.StepStatus, c.Version, r.StepStatus, r.Version)
			}
			if _, ok := closed[r.Step]; !ok && r.StepStatus.Terminal() {
				closed[r.Step] = r
			}
		}
	}
	return len(f.ReadModel), out
}
