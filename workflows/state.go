package workflows

import (
	"maps"
	"slices"
	"time"

	"github.com/lienthong/lienthong/dossier"
)

// step is everything the machine holds of one step, in one place: the part
// every version publishes (the embedded dossier.Step, which lives in the
// snapshot) and the part only the workflow keeps. Its status changes only
// through machine.transition.
type step struct {
	*dossier.Step

	// latest is the newest case the agency reported, by push, poll or the
	// answer to a call; applied is the case version the step last acted on.
	latest  *dossier.Case
	applied int64
	// sent: the agency holds the case. sentWithID: the birth record went out
	// with the child's ID number.
	sent       bool
	sentWithID bool
	// retryNow: a supervisor asked for the next attempt or poll now, or the
	// agency answers again after an outage (SignalAgencyBack).
	retryNow bool
	// supplements wait to be forwarded, oldest first; delivered holds the
	// request IDs already forwarded, so a repeated request is answered at once.
	supplements []SupplementInput
	delivered   map[string]bool
}

// newStep keeps the machine's side of s, a step of the snapshot.
func newStep(s *dossier.Step) *step {
	return &step{Step: s, delivered: map[string]bool{}}
}

// step is the machine's step of kind k, nil when the dossier has none.
func (m *machine) step(k dossier.StepKind) *step { return m.steps[k] }

// hasNews says the agency reported a case newer than version seen.
func (s *step) hasNews(seen int64) bool {
	return s.latest != nil && s.latest.Version > seen
}

// offer records a case the agency reported, if it is newer than what we hold.
// Duplicates and out-of-order pushes fall away here.
func (m *machine) offer(c dossier.Case) {
	s, ok := m.steps[c.Step]
	if !ok || c.DossierCode != m.in.Code {
		return
	}
	if s.latest == nil || c.Version > s.latest.Version {
		cp := c
		s.latest = &cp
	}
}

// copySnapshot is the dossier as it stands, sharing nothing with the machine.
func (m *machine) copySnapshot() dossier.Snapshot {
	s := m.snap
	s.LateRegistrations = slices.Clone(m.snap.LateRegistrations)
	s.Steps = make([]dossier.Step, len(m.snap.Steps))
	for i, st := range m.snap.Steps {
		cp := st
		cp.Missing = slices.Clone(st.Missing)
		cp.Result = maps.Clone(st.Result)
		s.Steps[i] = cp
	}
	return s
}

// mergeResult adds src's keys to dst, src winning.
//
//workflowcheck:ignore the result is the same whatever order the keys are copied in.
func mergeResult(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	maps.Copy(dst, src)
	return dst
}

// apologiesEqual says two apologies hold the same facts.
func apologiesEqual(x, y *dossier.Apology) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.RequestedAt.Equal(y.RequestedAt) && x.MissedDueAt.Equal(y.MissedDueAt) && timesEqual(x.IssuedAt, y.IssuedAt) &&
		x.Number == y.Number && x.Reason == y.Reason && timesEqual(x.NewAppointmentAt, y.NewAppointmentAt) && x.IssuedBy == y.IssuedBy
}

func timesEqual(x, y *time.Time) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.Equal(*y)
}

// mapsEqual says two results hold the same keys and values.
//
//workflowcheck:ignore equality does not depend on the order the keys are compared in.
func mapsEqual(x, y map[string]string) bool {
	return maps.Equal(x, y)
}
