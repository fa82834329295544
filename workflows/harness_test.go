package workflows_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/workflows"
)

var a *activities.Activities

var ict = time.FixedZone("ICT", 7*3600)

// agencyScript says how a scripted agency treats one step.
type agencyScript struct {
	// sendErrors fail the first sends, in order, before one succeeds.
	sendErrors []error
	// refuse makes the send fail with a non-retryable refusal.
	refuse string
	// initial is the case status the send returns; RECEIVED by default.
	initial dossier.CaseStatus
	// decideAt pushes the decision at this offset from the start; zero: never.
	decideAt time.Duration
	decision dossier.CaseStatus
	reason   string
	missing  []string
	result   map[string]string
	// lostPush decides without pushing: only a poll finds it.
	lostPush bool
	// apologyAt, when set, pushes the agency's issued apology at this offset,
	// with newAppointment as the new date.
	apologyAt      time.Duration
	newAppointment time.Time
	// decidedAt is when the agency says it decided; 1 January 2026 by default.
	decidedAt time.Time
}

// harness runs a workflow against scripted agencies and records what the
// read model and the portal received.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu          sync.Mutex
	scripts     map[dossier.StepKind]*agencyScript
	sends       map[dossier.StepKind][]activities.StepInput
	synced      []dossier.Snapshot
	events      []dossier.Event
	portal      []dossier.Snapshot
	withdrawn   []string
	supplements []activities.SupplementInput
	attached    []activities.AttachIDInput
	apologies   []activities.ApologyInput
	polls       int
	code        string
	// syncErr, when set, fails every write to the read model with it.
	syncErr error
}

func newHarness(t *testing.T, start time.Time, scripts map[dossier.StepKind]*agencyScript) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	h := &harness{
		t:       t,
		env:     s.NewTestWorkflowEnvironment(),
		scripts: scripts,
		sends:   map[dossier.StepKind][]activities.StepInput{},
		code:    "00004-260302-0001",
	}
	h.env.SetStartTime(start)
	h.env.SetTestTimeout(30 * time.Second)
	h.env.RegisterActivity(a)
	workflows.Register(h.env)

	for _, send := range []struct {
		kind dossier.StepKind
		fn   any
	}{
		{dossier.StepBirthRegistration, a.RegisterBirth},
		{dossier.StepIDNumber, a.IssueIDNumber},
		{dossier.StepResidenceRegistration, a.RegisterResidence},
		{dossier.StepChildCard, a.IssueChildCard},
		{dossier.StepDeathRegistration, a.RegisterDeath},
		{dossier.StepResidenceCancellation, a.CancelResidence},
		{dossier.StepFuneralAllowance, a.SettleFuneralAllowance},
		{dossier.StepSurvivorBenefit, a.SettleSurvivorBenefit},
	} {
		h.env.OnActivity(send.fn, mock.Anything, mock.Anything).Return(h.send).Maybe()
	}
	h.env.OnActivity(a.GetCase, mock.Anything, mock.Anything).Return(h.getCase).Maybe()
	h.env.OnActivity(a.WithdrawCase, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WithdrawInput) (activities.CaseResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.withdrawn = append(h.withdrawn, in.CaseID)
			return activities.CaseResult{Case: h.caseOf(stepOfCase(in.CaseID), dossier.CaseWithdrawn, 90)}, nil
		}).Maybe()
	h.env.OnActivity(a.SupplementCase, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SupplementInput) (activities.CaseResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.supplements = append(h.supplements, in)
			k := stepOfCase(in.CaseID)
			return activities.CaseResult{Case: h.caseOf(k, dossier.CaseReceived, 50)}, nil
		}).Maybe()
	h.env.OnActivity(a.AttachIDNumber, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AttachIDInput) (activities.CaseResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.attached = append(h.attached, in)
			c := h.caseOf(dossier.StepBirthRegistration, dossier.CaseApproved, 80)
			c.Result = map[string]string{"registration_number": "RB-1", "id_number": in.IDNumber}
			return activities.CaseResult{Case: c}, nil
		}).Maybe()
	h.env.OnActivity(a.RequestApology, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ApologyInput) (activities.CaseResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.apologies = append(h.apologies, in)
			c := h.caseOf(stepOfCase(in.CaseID), dossier.CaseReceived, 5)
			c.Apology = &dossier.Apology{RequestedAt: in.MissedDueAt.Add(time.Minute), MissedDueAt: in.MissedDueAt}
			return activities.CaseResult{Case: c}, nil
		}).Maybe()
	h.env.OnActivity(a.SyncReadModel, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SyncInput) (activities.SyncResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.syncErr != nil {
				return activities.SyncResult{}, h.syncErr
			}
			h.synced = append(h.synced, in.Snapshots...)
			h.events = append(h.events, in.Events...)
			return activities.SyncResult{Applied: true}, nil
		}).Maybe()
	h.env.OnActivity(a.PublishPortal, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PortalInput) (activities.PortalResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.portal = append(h.portal, in.Snapshots...)
			return activities.PortalResult{}, nil
		}).Maybe()

	for k, s := range scripts {
		if s.apologyAt > 0 {
			k, s := k, s
			h.env.RegisterDelayedCallback(func() {
				h.mu.Lock()
				asked := len(h.apologies) > 0
				var missed time.Time
				if asked {
					missed = h.apologies[0].MissedDueAt
				}
				h.mu.Unlock()
				if !asked {
					return
				}
				c := h.caseOf(k, dossier.CaseInReview, 6)
				issued, at := missed.Add(time.Hour), s.newAppointment
				c.NewAppointmentAt = &at
				c.Apology = &dossier.Apology{RequestedAt: missed.Add(time.Minute), MissedDueAt: missed, IssuedAt: &issued,
					Number: "POL-2026-000001/PXL", Reason: "Số lượng hồ sơ tăng cao", NewAppointmentAt: &at, IssuedBy: "congan-1"}
				h.env.SignalWorkflow(workflows.SignalCaseUpdate, c)
			}, s.apologyAt)
		}
		if s.decideAt > 0 && !s.lostPush {
			k, s := k, s
			h.env.RegisterDelayedCallback(func() {
				h.env.SignalWorkflow(workflows.SignalCaseUpdate, h.decided(k, s))
			}, s.decideAt)
		}
	}
	return h
}

func caseID(k dossier.StepKind) string { return "case-" + string(k) }

func stepOfCase(id string) dossier.StepKind { return dossier.StepKind(id[len("case-"):]) }

func (h *harness) caseOf(k dossier.StepKind, st dossier.CaseStatus, version int64) dossier.Case {
	return dossier.Case{CaseID: caseID(k), Agency: k.Agency(), DossierCode: h.code, Step: k, Status: st, Version: version}
}

func (h *harness) decided(k dossier.StepKind, s *agencyScript) dossier.Case {
	c := h.caseOf(k, s.decision, 10)
	c.Reason, c.Missing, c.Result = s.reason, s.missing, s.result
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !s.decidedAt.IsZero() {
		t = s.decidedAt
	}
	c.DecidedAt = &t
	return c
}

func (h *harness) send(_ context.Context, in activities.StepInput) (activities.StepResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sends[in.Step] = append(h.sends[in.Step], in)
	s := h.scripts[in.Step]
	if s == nil {
		return activities.StepResult{}, fmt.Errorf("no script for %s", in.Step)
	}
	if s.refuse != "" {
		return activities.StepResult{}, temporal.NewNonRetryableApplicationError(s.refuse, activities.ErrRefused, nil)
	}
	if n := len(h.sends[in.Step]); n <= len(s.sendErrors) {
		return activities.StepResult{}, s.sendErrors[n-1]
	}
	initial := s.initial
	if initial == "" {
		initial = dossier.CaseReceived
	}
	if initial.Decided() {
		c := h.decided(in.Step, s)
		c.Status, c.Version = initial, 1
		return activities.StepResult{Case: c}, nil
	}
	return activities.StepResult{Case: h.caseOf(in.Step, initial, 1)}, nil
}

func (h *harness) getCase(_ context.Context, in activities.CaseInput) (activities.CaseResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polls++
	k := stepOfCase(in.CaseID)
	s := h.scripts[k]
	if s != nil && s.lostPush {
		return activities.CaseResult{Case: h.decided(k, s)}, nil
	}
	return activities.CaseResult{Case: h.caseOf(k, dossier.CaseReceived, 1)}, nil
}

func (h *harness) input(received time.Time) workflows.DossierInput {
	return workflows.DossierInput{
		Code: h.code, CommuneCode: "00004", ProvinceCode: "001",
		ReceivedAt: received, DueAt: received.Add(72 * time.Hour), AppointmentAt: received.Add(72 * time.Hour),
		Limits: workflows.DefaultLimits(),
		Timing: workflows.Timing{RetryInitial: time.Second, RetryMax: time.Minute, PollInitial: 30 * time.Second, PollMax: 10 * time.Minute},
	}
}

func (h *harness) runBirth(in workflows.DossierInput) dossier.Snapshot {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.WorkflowBirth, workflows.BirthInput{Dossier: in})
	return h.result()
}

func (h *harness) runDeath(in workflows.DossierInput, allowance bool) dossier.Snapshot {
	h.t.Helper()
	return h.runDeathInput(workflows.DeathInput{Dossier: in, FuneralAllowance: allowance})
}

func (h *harness) runDeathInput(in workflows.DeathInput) dossier.Snapshot {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.WorkflowDeath, in)
	return h.result()
}

func (h *harness) result() dossier.Snapshot {
	h.t.Helper()
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var res struct{ Final dossier.Snapshot }
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	h.checkSync(res.Final)
	return res.Final
}

// checkSync asserts every version reached the read model, in order, with
// nothing missing or repeated, ending at the final state; and that the
// workflow left the portal to the read model's feed.
func (h *harness) checkSync(final dossier.Snapshot) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(h.t, h.synced)
	for i, s := range h.synced {
		require.Equal(h.t, int64(i+1), s.Version, "read model version %d out of order", i)
	}
	last := h.synced[len(h.synced)-1]
	require.Equal(h.t, final.Version, last.Version)
	require.Equal(h.t, final.Status, last.Status)
	require.Empty(h.t, h.portal, "the portal is fed from the read model, not by the workflow")
	keys := map[string]bool{}
	for _, ev := range h.events {
		require.False(h.t, keys[ev.Key], "event %s written twice", ev.Key)
		keys[ev.Key] = true
	}
}

func (h *harness) eventKinds(kind string) []dossier.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []dossier.Event
	for _, ev := range h.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func approveAt(d time.Duration, result map[string]string) *agencyScript {
	return &agencyScript{decideAt: d, decision: dossier.CaseApproved, result: result}
}

func stepStatus(s dossier.Snapshot, k dossier.StepKind) dossier.StepStatus {
	if st := s.Step(k); st != nil {
		return st.Status
	}
	return ""
}
