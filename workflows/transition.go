package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/dossier"
)

// version says which version of the dossier carries a transition.
type version struct {
	// decidedAt dates the version when the change was decided outside the
	// workflow (by the agency) or at a moment of its own; nil leaves it undated.
	decidedAt *time.Time
	// final leaves the change to the dossier's final version, which finish
	// commits: a cancellation closes every open step in that one version.
	final bool
}

// nextVersion commits a transition as a version of its own.
var nextVersion = version{}

// decided commits a transition as a version dated at.
func decided(at *time.Time) version { return version{decidedAt: at} }

// finalVersion leaves a transition to the dossier's final version.
var finalVersion = version{final: true}

// transition is the one way a step's status changes. A new status is stamped
// with the time it was entered; the same status again keeps its stamp, so a
// transition to it only commits what else changed on the step (a late result,
// a new appointment).
func (m *machine) transition(ctx workflow.Context, s *step, to dossier.StepStatus, v version) {
	if s.Status != to {
		s.Status = to
		s.StatusSince = workflow.Now(ctx)
	}
	if !v.final {
		m.commit(ctx, s.Kind, v.decidedAt)
	}
}

// reject closes a step the workflow itself refuses (the agency refused the
// send, or no supplement came in time), decided now.
func (m *machine) reject(ctx workflow.Context, s *step, reason string) {
	now := workflow.Now(ctx)
	s.DecidedAt = &now
	s.Reason = reason
	m.transition(ctx, s, dossier.StepRejected, decided(&now))
}

// commit makes the current state a new version and queues it for the read
// model and the portal, in order. changed names the step the version is
// about; it is empty for a change to the dossier as a whole.
func (m *machine) commit(ctx workflow.Context, changed dossier.StepKind, decidedAt *time.Time) {
	now := workflow.Now(ctx)
	if changed != "" {
		m.step(changed).UpdatedAt = now
	}
	m.snap.Status = m.snap.DerivedStatus()
	m.snap.CurrentStep, m.snap.CurrentAgency = m.snap.Current()
	m.snap.Version++
	m.snap.At = now
	m.snap.ChangedStep = changed
	m.snap.DecidedAt = decidedAt
	m.out.queue(m.copySnapshot())
	m.upsertSearchAttributes(ctx)
}

// searchAttrs is what the workflow last told the engine its search
// attributes hold, so it upserts only what changed.
type searchAttrs struct {
	status, step, agency string
	overdue              bool
}

func (m *machine) upsertSearchAttributes(ctx workflow.Context) {
	var updates []temporal.SearchAttributeUpdate
	keyword := func(key temporal.SearchAttributeKeyKeyword, held *string, v string) {
		if *held == v {
			return
		}
		*held = v
		if v == "" {
			updates = append(updates, key.ValueUnset())
		} else {
			updates = append(updates, key.ValueSet(v))
		}
	}
	keyword(SAStatus, &m.searchAttrs.status, string(m.snap.Status))
	keyword(SAStep, &m.searchAttrs.step, string(m.snap.CurrentStep))
	keyword(SAAgency, &m.searchAttrs.agency, m.snap.CurrentAgency)
	// An unset flag reads as false, so it is first written when it turns true.
	if m.searchAttrs.overdue != m.snap.Overdue {
		m.searchAttrs.overdue = m.snap.Overdue
		updates = append(updates, SAOverdue.ValueSet(m.snap.Overdue))
	}
	if len(updates) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		m.logger.Warn("upserting search attributes", "error", err)
	}
}

// event queues a trace event; its key makes a retried sync write it once.
func (m *machine) event(ctx workflow.Context, ev dossier.Event) {
	m.out.eventSeq++
	ev.Code = m.in.Code
	ev.Key = fmt.Sprintf("%s/%d", m.in.Code, m.out.eventSeq)
	if ev.At.IsZero() {
		ev.At = workflow.Now(ctx)
	}
	if ev.Actor == "" {
		ev.Actor = "system"
	}
	m.out.events = append(m.out.events, ev)
}
