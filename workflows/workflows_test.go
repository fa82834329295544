package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/workflows"
)

// A Monday morning in an ordinary week.
var monday = time.Date(2026, 3, 2, 9, 0, 0, 0, ict)

func birthScripts() map[dossier.StepKind]*agencyScript {
	return map[dossier.StepKind]*agencyScript{
		dossier.StepIDNumber:              {initial: dossier.CaseApproved, result: map[string]string{"id_number": "001226000123"}},
		dossier.StepBirthRegistration:     approveAt(time.Hour, map[string]string{"registration_number": "RB-1"}),
		dossier.StepResidenceRegistration: approveAt(3*time.Hour, map[string]string{"household_id": "HH-1"}),
		dossier.StepChildCard:             approveAt(4*time.Hour, map[string]string{"card_code": "TE101"}),
	}
}

func deathScripts() map[dossier.StepKind]*agencyScript {
	return map[dossier.StepKind]*agencyScript{
		dossier.StepDeathRegistration:     approveAt(time.Hour, map[string]string{"registration_number": "RD-1"}),
		dossier.StepResidenceCancellation: approveAt(3*time.Hour, nil),
		dossier.StepFuneralAllowance:      approveAt(5*time.Hour, map[string]string{"amount_vnd": "23400000"}),
	}
}

func TestBirthHappyPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, monday, birthScripts())
	final := h.runBirth(h.input(monday))

	require.Equal(t, dossier.StatusCompleted, final.Status)
	for _, k := range workflows.BirthSteps {
		require.Equal(t, dossier.StepApproved, stepStatus(final, k), k)
	}
	require.Equal(t, "001226000123", final.Step(dossier.StepIDNumber).Result["id_number"])
	// The prompt number went out with the birth registration: nothing to attach later.
	require.Equal(t, "001226000123", h.sends[dossier.StepBirthRegistration][0].ChildIDNumber)
	require.Empty(t, h.attached)
	// Residence and card rest on the birth record.
	require.Equal(t, "RB-1", h.sends[dossier.StepResidenceRegistration][0].RegistrationNumber)
	require.Equal(t, "RB-1", h.sends[dossier.StepChildCard][0].RegistrationNumber)
	require.Equal(t, "001226000123", h.sends[dossier.StepChildCard][0].ChildIDNumber)
	require.Equal(t, h.code+"/child_card", h.sends[dossier.StepChildCard][0].IdempotencyKey)
}

func TestDeathHappyPath(t *testing.T) {
	t.Parallel()
	t.Run("three procedures", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, monday, deathScripts())
		final := h.runDeath(h.input(monday), true)
		require.Equal(t, dossier.StatusCompleted, final.Status)
		require.Len(t, final.Steps, 3)
		require.Equal(t, "23400000", final.Step(dossier.StepFuneralAllowance).Result["amount_vnd"])
		require.Equal(t, "RD-1", h.sends[dossier.StepFuneralAllowance][0].RegistrationNumber)
	})
	t.Run("two procedures leave the allowance out", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, monday, deathScripts())
		final := h.runDeath(h.input(monday), false)
		require.Equal(t, dossier.StatusCompleted, final.Status)
		require.Len(t, final.Steps, 2)
		require.Empty(t, h.sends[dossier.StepFuneralAllowance])
	})
}

func TestDeathFourProcedures(t *testing.T) {
	t.Parallel()
	four := func(s map[dossier.StepKind]*agencyScript) map[dossier.StepKind]*agencyScript {
		s[dossier.StepSurvivorBenefit] = approveAt(6*time.Hour, map[string]string{"kind": "monthly", "monthly_total_vnd": "1170000"})
		return s
	}
	t.Run("the survivor benefit runs beside the others", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, monday, four(deathScripts()))
		final := h.runDeathInput(workflows.DeathInput{Dossier: h.input(monday), FuneralAllowance: true, SurvivorBenefit: true})
		require.Equal(t, dossier.StatusCompleted, final.Status)
		require.Equal(t, workflows.DeathSteps(true, true), kinds(final))
		require.Equal(t, dossier.AgencyInsurance, final.Step(dossier.StepSurvivorBenefit).Agency)
		require.Equal(t, "monthly", final.Step(dossier.StepSurvivorBenefit).Result["kind"])
		require.Equal(t, "RD-1", h.sends[dossier.StepSurvivorBenefit][0].RegistrationNumber, "it rests on the death record")
		require.Equal(t, h.code+"/survivor_benefit", h.sends[dossier.StepSurvivorBenefit][0].IdempotencyKey)
		// It starts with the others, not after them.
		require.Equal(t, *final.Step(dossier.StepResidenceCancellation).StartedAt, *final.Step(dossier.StepSurvivorBenefit).StartedAt)
	})
	t.Run("an ineligible claim is a rejection with its reason", func(t *testing.T) {
		t.Parallel()
		s := four(deathScripts())
		s[dossier.StepSurvivorBenefit] = &agencyScript{decideAt: 2 * time.Hour, decision: dossier.CaseRejected,
			reason: "not eligible for the survivor benefit: no social-insurance record"}
		h := newHarness(t, monday, s)
		final := h.runDeathInput(workflows.DeathInput{Dossier: h.input(monday), FuneralAllowance: true, SurvivorBenefit: true})
		require.Equal(t, dossier.StatusPartiallyCompleted, final.Status)
		require.Equal(t, dossier.StepRejected, stepStatus(final, dossier.StepSurvivorBenefit))
		require.Contains(t, final.Step(dossier.StepSurvivorBenefit).Reason, "no social-insurance record")
		require.Contains(t, final.OutcomeReason, "survivor_benefit rejected: not eligible")
		require.Equal(t, dossier.StepApproved, stepStatus(final, dossier.StepFuneralAllowance))
	})
	t.Run("a rejected death registration skips it", func(t *testing.T) {
		t.Parallel()
		s := four(deathScripts())
		s[dossier.StepDeathRegistration] = &agencyScript{decideAt: time.Hour, decision: dossier.CaseRejected, reason: "death notice number unknown"}
		h := newHarness(t, monday, s)
		final := h.runDeathInput(workflows.DeathInput{Dossier: h.input(monday), FuneralAllowance: true, SurvivorBenefit: true})
		require.Equal(t, dossier.StatusRejected, final.Status)
		require.Equal(t, dossier.StepSkipped, stepStatus(final, dossier.StepSurvivorBenefit))
		require.Empty(t, h.sends[dossier.StepSurvivorBenefit])
	})
}

func TestLateRegistrationFlags(t *testing.T) {
	t.Parallel()
	t.Run("a late death registration known at receipt is on every version", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, monday, deathScripts())
		in := h.input(monday)
		in.LateRegistrations = []dossier.LateRegistration{{Step: dossier.StepDeathRegistration, Days: 20, LimitDays: 15, CountedFrom: dossier.LateFromDeath}}
		final := h.runDeath(in, true)
		require.Equal(t, in.LateRegistrations, final.LateRegistrations)
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, v := range h.synced {
			require.Len(t, v.LateRegistrations, 1, "version %d", v.Version)
		}
	})
	birthAt := time.Date(2026, 3, 2, 10, 0, 0, 0, ict)
	for _, tc := range []struct {
		name string
		days int
		late bool
	}{
		{"residence 60 days after the birth registration is in time", 60, false},
		{"residence 61 days after is flagged", 61, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := birthScripts()
			s[dossier.StepBirthRegistration].decidedAt = birthAt
			s[dossier.StepResidenceRegistration].decidedAt = birthAt.AddDate(0, 0, tc.days)
			h := newHarness(t, monday, s)
			final := h.runBirth(h.input(monday))
			require.Equal(t, dossier.StatusCompleted, final.Status)
			events := h.eventKinds(dossier.EventLateRegistration)
			if !tc.late {
				require.Empty(t, final.LateRegistrations)
				require.Empty(t, events)
				return
			}
			require.Equal(t, []dossier.LateRegistration{{Step: dossier.StepResidenceRegistration, Days: tc.days,
				LimitDays: workflows.ResidenceRegistrationDays, CountedFrom: dossier.LateFromBirthRegistration}}, final.LateRegistrations)
			require.Len(t, events, 1)
			require.Contains(t, events[0].Detail, "61 days after the birth registration")
		})
	}
}

func kinds(s dossier.Snapshot) []dossier.StepKind {
	out := make([]dossier.StepKind, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = st.Kind
	}
	return out
}

func TestAgencyRejections(t *testing.T) {
	t.Parallel()
	reject := func(reason string) *agencyScript {
		return &agencyScript{decideAt: 2 * time.Hour, decision: dossier.CaseRejected, reason: reason}
	}
	t.Run("justice rejects the birth: dependants are skipped", func(t *testing.T) {
		t.Parallel()
		s := birthScripts()
		s[dossier.StepIDNumber] = &agencyScript{decideAt: 10 * time.Hour, decision: dossier.CaseApproved}
		s[dossier.StepBirthRegistration] = reject("hospital birth certificate does not match")
		h := newHarness(t, monday, s)
		final := h.runBirth(h.input(monday))
		require.Equal(t, dossier.StatusRejected, final.Status)
		require.Contains(t, final.OutcomeReason, "hospital birth certificate does not match")
		for _, k := range []dossier.StepKind{dossier.StepResidenceRegistration, dossier.StepChildCard, dossier.StepIDNumber} {
			require.Equal(t, dossier.StepSkipped, stepStatus(final, k), k)
			require.Contains(t, final.Step(k).Reason, "birth registration rejected")
		}
		require.Contains(t, h.withdrawn, caseID(dossier.StepIDNumber), "the pending ID request is withdrawn")
		require.Empty(t, h.sends[dossier.StepChildCard])
	})
	t.Run("police rejects residence: partial completion", func(t *testing.T) {
		t.Parallel()
		s := birthScripts()
		s[dossier.StepResidenceRegistration] = reject("household head has not consented")
		h := newHarness(t, monday, s)
		final := h.runBirth(h.input(monday))
		require.Equal(t, dossier.StatusPartiallyCompleted, final.Status)
		require.Contains(t, final.OutcomeReason, "residence_registration rejected: household head has not consented")
		require.Equal(t, dossier.StepApproved, stepStatus(final, dossier.StepChildCard))
	})
	t.Run("insurance rejects the card: partial completion", func(t *testing.T) {
		t.Parallel()
		s := birthScripts()
		s[dossier.StepChildCard] = reject("child is 6 or older")
		h := newHarness(t, monday, s)
		final := h.runBirth(h.input(monday))
		require.Equal(t, dossier.StatusPartiallyCompleted, final.Status)
		require.Equal(t, dossier.StepRejected, stepStatus(final, dossier.StepChildCard))
	})
	t.Run("justice rejects the death", func(t *testing.T) {
		t.Parallel()
		s := deathScripts()
		s[dossier.StepDeathRegistration] = reject("death notice number unknown")
		h := newHarness(t, monday, s)
		final := h.runDeath(h.input(monday), true)
		require.Equal(t, dossier.StatusRejected, final.Status)
		require.Equal(t, dossier.StepSkipped, stepStatus(final, dossier.StepFuneralAllowance))
	})
	t.Run("insurance rejects the allowance as ineligible", func(t *testing.T) {
		t.Parallel()
		s := deathScripts()
		s[dossier.StepFuneralAllowance] = reject("fewer than 12 months of compulsory contributions")
		h := newHarness(t, monday, s)
		final := h.runDeath(h.input(monday), true)
		require.Equal(t, dossier.StatusPartiallyCompleted, final.Status)
		require.Equal(t, dossier.StepApproved, stepStatus(final, dossier.StepResidenceCancellation))
	})
	t.Run("an agency refusing the request itself rejects the step", func(t *testing.T) {
		t.Parallel()
		s := deathScripts()
		s[dossier.StepResidenceCancellation] = &agencyScript{refuse: "FAILED_PRECONDITION: person is not resident"}
		h := newHarness(t, monday, s)
		final := h.runDeath(h.input(monday), true)
		require.Equal(t, dossier.StatusPartiallyCompleted, final.Status)
		require.Contains(t, final.Step(dossier.StepResidenceCancellation).Reason, "not resident")
		require.Len(t, h.sends[dossier.StepResidenceCancellation], 1, "a refusal is not retried")
	})
}

func TestSupplement(t *testing.T) {
	t.Parallel()
	needs := func() *agencyScript {
		return &agencyScript{decideAt: time.Hour, decision: dossier.CaseNeedsSupplement, reason: "birth certificate scan unreadable", missing: []string{"birth_certificate_scan"}}
	}
	t.Run("answered, then approved", func(t *testing.T) {
		t.Parallel()
		s := birthScripts()
		s[dossier.StepChildCard] = needs()
		s[dossier.StepChildCard].decideAt = 5 * time.Hour
		h := newHarness(t, monday, s)
		// The agency approves once it has the supplement.
		h.env.RegisterDelayedCallback(func() {
			h.env.UpdateWorkflow(workflows.UpdateSupplement, "sup-1", &updateCallbacks{t: t, wantErr: false},
				workflows.SupplementInput{Step: dossier.StepChildCard, RequestID: "r1", Fields: map[string]string{"birth_certificate_scan": "doc-2"}, Actor: "clerk:1"})
		}, 8*time.Hour)
		h.env.RegisterDelayedCallback(func() {
			c := h.caseOf(dossier.StepChildCard, dossier.CaseApproved, 60)
			h.env.SignalWorkflow(workflows.SignalCaseUpdate, c)
		}, 9*time.Hour)
		// Before any request, a supplement is refused clearly.
		h.env.RegisterDelayedCallback(func() {
			h.env.UpdateWorkflow(workflows.UpdateSupplement, "sup-0", &updateCallbacks{t: t, wantErr: true, errContains: "is not awaiting a supplement"},
				workflows.SupplementInput{Step: dossier.StepResidenceRegistration, RequestID: "r0", Fields: map[string]string{"x": "y"}})
		}, 30*time.Minute)
		final := h.runBirth(h.input(monday))
		require.Equal(t, dossier.StatusCompleted, final.Status)
		require.Len(t, h.supplements, 1)
		require.Equal(t, h.code+"/child_card/supplement/r1", h.supplements[0].IdempotencyKey)
		// The read model showed NEEDS_SUPPLEMENT on the way.
		seen := false
		for _, s := range h.synced {
			if s.Status == dossier.StatusNeedsSupplement && stepStatus(s, dossier.StepChildCard) == dossier.StepNeedsSupplement {
				seen = true
			}
		}
		require.True(t, seen)
	})
	t.Run("none within 7 working days across a holiday", func(t *testing.T) {
		t.Parallel()
		// Wednesday 22 April 2026: the window spans the Hùng Kings day off
		// (Mon 27 April), 30 April and 1 May.
		start := time.Date(2026, 4, 22, 9, 0, 0, 0, ict)
		s := deathScripts()
		s[dossier.StepDeathRegistration] = needs()
		h := newHarness(t, start, s)
		final := h.runDeath(h.input(start), true)
		require.Equal(t, dossier.StatusRejected, final.Status)
		reg := final.Step(dossier.StepDeathRegistration)
		require.Equal(t, dossier.StepRejected, reg.Status)
		require.Contains(t, reg.Reason, "no supplement within 7 working days")
		// Seven working days from Wed 22 April, skipping 27 and 30 April and 1 May, end on Mon 4 May... or later: never before.
		require.True(t, reg.DecidedAt.After(time.Date(2026, 5, 4, 0, 0, 0, 0, ict)), "decided %s", reg.DecidedAt)
		require.Equal(t, dossier.StepSkipped, stepStatus(final, dossier.StepResidenceCancellation))
		require.Contains(t, h.withdrawn, caseID(dossier.StepDeathRegistration))
	})
}

func TestLateIDNumber(t *testing.T) {
	t.Parallel()
	s := birthScripts()
	// The population database answers two days later.
	s[dossier.StepIDNumber] = &agencyScript{decideAt: 50 * time.Hour, decision: dossier.CaseApproved, result: map[string]string{"id_number": "001226000999"}}
	s[dossier.StepBirthRegistration] = &agencyScript{decideAt: time.Hour, decision: dossier.CaseApprovedPendingID, result: map[string]string{"registration_number": "RB-1"}}
	h := newHarness(t, monday, s)
	final := h.runBirth(h.input(monday))

	require.Equal(t, dossier.StatusCompleted, final.Status)
	require.Empty(t, h.sends[dossier.StepBirthRegistration][0].ChildIDNumber, "the certificate was issued without the number")
	require.Len(t, h.attached, 1, "the number was added when it arrived")
	require.Equal(t, "001226000999", h.attached[0].IDNumber)
	require.Equal(t, "001226000999", final.Step(dossier.StepBirthRegistration).Result["id_number"])
	require.Equal(t, "001226000999", h.sends[dossier.StepChildCard][0].ChildIDNumber)
	// Police registers residence by the child's ID number, so residence waits for it too.
	require.Equal(t, "001226000999", h.sends[dossier.StepResidenceRegistration][0].ChildIDNumber)
	require.NotEmpty(t, h.eventKinds(dossier.EventIDNumberLate))

	// Both waits showed as their own state.
	waited := map[dossier.StepKind]bool{}
	for _, snap := range h.synced {
		for _, k := range []dossier.StepKind{dossier.StepChildCard, dossier.StepResidenceRegistration} {
			if stepStatus(snap, k) == dossier.StepWaitingIDNumber {
				waited[k] = true
			}
		}
	}
	require.True(t, waited[dossier.StepChildCard])
	require.True(t, waited[dossier.StepResidenceRegistration])
}

func TestOutageThenRecovery(t *testing.T) {
	t.Parallel()
	s := birthScripts()
	// As the activities fail: the code's name travels as the error's detail.
	unavailable := temporal.NewApplicationError("UNAVAILABLE: police residence system is down", activities.ErrUnavailable, "UNAVAILABLE")
	unauth := temporal.NewApplicationError("UNAUTHENTICATED: national login failed", activities.ErrUnauthenticated, "UNAUTHENTICATED")
	s[dossier.StepResidenceRegistration].sendErrors = []error{unavailable, unavailable, unauth, unavailable, unavailable}
	h := newHarness(t, monday, s)
	final := h.runBirth(h.input(monday))

	require.Equal(t, dossier.StatusCompleted, final.Status)
	sends := h.sends[dossier.StepResidenceRegistration]
	require.Len(t, sends, 6)
	for _, in := range sends {
		require.Equal(t, h.code+"/residence_registration", in.IdempotencyKey, "every attempt reuses the key")
	}
	require.Equal(t, 6, final.Step(dossier.StepResidenceRegistration).Attempts)
	require.Len(t, h.eventKinds(dossier.EventAttemptFailed), 5)
	// While it failed, the read model showed the attempts and the last error,
	// with its code; the success cleared both.
	codes := map[string]bool{}
	for _, snap := range h.synced {
		if st := snap.Step(dossier.StepResidenceRegistration); st != nil && st.LastError != "" {
			codes[st.LastErrorCode] = true
			require.Equal(t, dossier.StepSending, st.Status)
		}
	}
	require.Equal(t, map[string]bool{"UNAVAILABLE": true, "UNAUTHENTICATED": true}, codes)
	st := final.Step(dossier.StepResidenceRegistration)
	require.Empty(t, st.LastError)
	require.Empty(t, st.LastErrorCode)
}

func TestLostCallbackCaughtByPoll(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	s[dossier.StepResidenceCancellation] = &agencyScript{decision: dossier.CaseApproved, lostPush: true}
	h := newHarness(t, monday, s)
	final := h.runDeath(h.input(monday), true)
	require.Equal(t, dossier.StatusCompleted, final.Status)
	require.Positive(t, h.polls)
	reconciled := false
	for _, ev := range h.eventKinds(dossier.EventDecision) {
		if ev.Outcome == "reconciled" && ev.Step == dossier.StepResidenceCancellation {
			reconciled = true
		}
	}
	require.True(t, reconciled)
}

func TestClerkCancel(t *testing.T) {
	t.Parallel()
	s := birthScripts()
	s[dossier.StepBirthRegistration] = &agencyScript{} // never decides
	s[dossier.StepIDNumber] = &agencyScript{}          // never decides
	h := newHarness(t, monday, s)
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateCancel, "c-0", &updateCallbacks{t: t, wantErr: true, errContains: "reason"},
			workflows.CancelInput{Actor: "clerk:1"})
		h.env.UpdateWorkflow(workflows.UpdateCancel, "c-1", &updateCallbacks{t: t},
			workflows.CancelInput{Reason: "family withdrew the application", Actor: "clerk:1"})
	}, 2*time.Hour)
	final := h.runBirth(h.input(monday))

	require.Equal(t, dossier.StatusCancelled, final.Status)
	require.Equal(t, "family withdrew the application", final.OutcomeReason)
	for _, k := range workflows.BirthSteps {
		require.Equal(t, dossier.StepCancelled, stepStatus(final, k), k)
	}
	require.ElementsMatch(t, []string{caseID(dossier.StepBirthRegistration), caseID(dossier.StepIDNumber)}, h.withdrawn)
}

func TestOverdueEscalation(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	// Residence cancellation has 2 working days; Police answers after 6 calendar days.
	s[dossier.StepResidenceCancellation] = approveAt(6*24*time.Hour, nil)
	h := newHarness(t, monday, s)
	final := h.runDeath(h.input(monday), true)

	require.Equal(t, dossier.StatusCompleted, final.Status)
	require.True(t, final.Step(dossier.StepResidenceCancellation).Overdue)
	require.False(t, final.Step(dossier.StepFuneralAllowance).Overdue)
	require.True(t, final.Overdue, "the whole dossier passed its limit too")
	var escalated bool
	for _, ev := range h.eventKinds(dossier.EventEscalated) {
		if ev.Step == dossier.StepResidenceCancellation {
			escalated = true
			require.Contains(t, ev.Outcome, "police")
		}
	}
	require.True(t, escalated)
}

// A late agency is asked, through its queue, for an apology and a new date;
// its answer moves the dossier's appointment and is kept on the step. An
// agency on time is asked for nothing.
func TestLateAgencyApologises(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	newDate := time.Date(2026, 3, 11, 17, 0, 0, 0, ict)
	// Residence cancellation has 2 working days; Police apologises on day 4
	// and answers on day 6.
	s[dossier.StepResidenceCancellation] = &agencyScript{decideAt: 6 * 24 * time.Hour, decision: dossier.CaseApproved,
		apologyAt: 4 * 24 * time.Hour, newAppointment: newDate}
	h := newHarness(t, monday, s)
	final := h.runDeath(h.input(monday), true)

	require.Equal(t, dossier.StatusCompleted, final.Status)
	h.mu.Lock()
	asked := slices.Clone(h.apologies)
	h.mu.Unlock()
	require.Len(t, asked, 1, "one apology, from the late agency only")
	require.Equal(t, dossier.AgencyPolice, asked[0].Agency)
	require.Equal(t, caseID(dossier.StepResidenceCancellation), asked[0].CaseID)
	step := final.Step(dossier.StepResidenceCancellation)
	require.Equal(t, *step.DueAt, asked[0].MissedDueAt, "the missed deadline is the step's own")

	require.True(t, step.Overdue)
	require.NotNil(t, step.Apology)
	require.True(t, step.Apology.Issued())
	require.Equal(t, "POL-2026-000001/PXL", step.Apology.Number)
	require.True(t, newDate.Equal(*step.Apology.NewAppointmentAt))
	require.True(t, newDate.Equal(final.AppointmentAt), "the dossier's appointment moved to the new date")
	require.Nil(t, final.Step(dossier.StepFuneralAllowance).Apology)

	require.Len(t, h.eventKinds(dossier.EventApologyRequested), 1)
	require.Len(t, h.eventKinds(dossier.EventApologyIssued), 1)
	require.Len(t, h.eventKinds(dossier.EventNewAppointment), 1)
}

// A step waiting for the applicant's supplement when its deadline passes is
// not the agency's lateness: the apology is asked for once the step is back
// with the agency, and never when it closes first.
func TestNoApologyForTheApplicantsWait(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	s[dossier.StepResidenceCancellation] = &agencyScript{initial: dossier.CaseNeedsSupplement, reason: "thiếu giấy báo tử", missing: []string{"death_notice"}}
	h := newHarness(t, monday, s)
	final := h.runDeath(h.input(monday), true)
	require.Equal(t, dossier.StepRejected, stepStatus(final, dossier.StepResidenceCancellation), "no supplement came")
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Empty(t, h.apologies)
}

func TestRetryNowCutsTheBackoff(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	down := temporal.NewApplicationError("UNAVAILABLE: down", activities.ErrUnavailable)
	s[dossier.StepFuneralAllowance].sendErrors = []error{down}
	h := newHarness(t, monday, s)
	in := h.input(monday)
	// Without help, the second attempt would wait a full day.
	in.Timing.RetryInitial = 24 * time.Hour
	in.Timing.RetryMax = 24 * time.Hour
	h.env.RegisterDelayedCallback(func() {
		// A step that is already approved cannot be retried.
		h.env.UpdateWorkflow(workflows.UpdateRetryStep, "r-0", &updateCallbacks{t: t, wantErr: true, errContains: "cannot be retried"},
			workflows.RetryInput{Step: dossier.StepDeathRegistration, Actor: "supervisor:1"})
		h.env.UpdateWorkflow(workflows.UpdateRetryStep, "r-1", &updateCallbacks{t: t},
			workflows.RetryInput{Step: dossier.StepFuneralAllowance, Reason: "agency is back", Actor: "supervisor:1"})
	}, 2*time.Hour)
	final := h.runDeath(in, true)
	require.Equal(t, dossier.StatusCompleted, final.Status)
	require.Equal(t, 2, final.Step(dossier.StepFuneralAllowance).Attempts)
	var sentAt time.Time
	for _, ev := range h.eventKinds(dossier.EventSent) {
		if ev.Step == dossier.StepFuneralAllowance {
			sentAt = ev.At
		}
	}
	require.False(t, sentAt.IsZero())
	require.True(t, sentAt.Before(monday.Add(3*time.Hour)), "second attempt at %s, want right after the 2h retry", sentAt)
	remedies := h.eventKinds(dossier.EventRemedy)
	require.Len(t, remedies, 1)
	require.Equal(t, "supervisor:1", remedies[0].Actor)
}

// An agency seen to answer again wakes the steps waiting out a backoff on it,
// and only those: another agency's held step keeps its own timer.
func TestAgencyBackCutsTheBackoff(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	down := temporal.NewApplicationError("UNAVAILABLE: down", activities.ErrUnavailable)
	s[dossier.StepResidenceCancellation].sendErrors = []error{down}
	s[dossier.StepFuneralAllowance].sendErrors = []error{down}
	h := newHarness(t, monday, s)
	in := h.input(monday)
	in.Timing.RetryInitial, in.Timing.RetryMax = 24*time.Hour, 24*time.Hour
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalAgencyBack, workflows.AgencyBackInput{Agency: dossier.AgencyPolice})
	}, 2*time.Hour)
	final := h.runDeath(in, true)
	require.Equal(t, dossier.StatusCompleted, final.Status)
	sentAt := map[dossier.StepKind]time.Time{}
	for _, ev := range h.eventKinds(dossier.EventSent) {
		sentAt[ev.Step] = ev.At
	}
	police := sentAt[dossier.StepResidenceCancellation]
	require.False(t, police.IsZero())
	require.True(t, police.Before(monday.Add(3*time.Hour)), "police's second attempt at %s, want right after the signal at 2h", police)
	require.Equal(t, 2, final.Step(dossier.StepResidenceCancellation).Attempts)
	// Insurance's step slept on: its case came by the agency's push, with no second send.
	require.Len(t, h.sends[dossier.StepFuneralAllowance], 1)
	require.Empty(t, h.eventKinds(dossier.EventRemedy), "no supervisor acted")
}

// A step whose agency has failed it until the backoff reached its cap waits
// for the agency's return, not for another capped backoff: the return wakes
// it, and the long HeldMax timer is only the safety net.
func TestHeldStepWaitsForTheReturn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		back   time.Duration // when the agency is seen to answer; 0: never
		wantAt time.Duration // the third send, when the first two failed
	}{
		{name: "woken by the return", back: 3 * time.Hour, wantAt: 3 * time.Hour},
		// Death registration decides at 1h; the second send fails at 1h01.
		{name: "woken by the safety timer", wantAt: time.Hour + time.Minute + 24*time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := deathScripts()
			down := temporal.NewApplicationError("UNAVAILABLE: down", activities.ErrUnavailable)
			// Police decides after every send, so no push ends the wait.
			s[dossier.StepResidenceCancellation] = approveAt(48*time.Hour, nil)
			s[dossier.StepResidenceCancellation].sendErrors = []error{down, down}
			h := newHarness(t, monday, s)
			in := h.input(monday)
			// The first failure waits a minute; the second has reached the cap.
			in.Timing.RetryInitial, in.Timing.RetryMax, in.Timing.HeldMax = time.Minute, 2*time.Minute, 24*time.Hour
			if tc.back > 0 {
				h.env.RegisterDelayedCallback(func() {
					h.env.SignalWorkflow(workflows.SignalAgencyBack, workflows.AgencyBackInput{Agency: dossier.AgencyPolice})
				}, tc.back)
			}
			final := h.runDeath(in, true)
			require.Equal(t, dossier.StatusCompleted, final.Status)
			require.Equal(t, 3, final.Step(dossier.StepResidenceCancellation).Attempts, "no capped retries in between")
			var sentAt time.Time
			for _, ev := range h.eventKinds(dossier.EventSent) {
				if ev.Step == dossier.StepResidenceCancellation {
					sentAt = ev.At
				}
			}
			require.WithinDuration(t, monday.Add(tc.wantAt), sentAt, time.Minute, "third send")
		})
	}
}

// A send whose answer was lost but whose case the agency created: the
// agency's push must end the backoff at once, with no second send.
func TestPushDuringSendBackoff(t *testing.T) {
	t.Parallel()
	s := deathScripts()
	lost := temporal.NewApplicationError("DEADLINE_EXCEEDED: the agency did not answer in time", activities.ErrUnavailable)
	s[dossier.StepResidenceCancellation] = &agencyScript{sendErrors: []error{lost}, decideAt: 2 * time.Hour, decision: dossier.CaseApproved}
	h := newHarness(t, monday, s)
	in := h.input(monday)
	in.Timing.RetryInitial, in.Timing.RetryMax = 24*time.Hour, 24*time.Hour
	final := h.runDeath(in, true)
	require.Equal(t, dossier.StatusCompleted, final.Status)
	require.Len(t, h.sends[dossier.StepResidenceCancellation], 1, "no second send")
	st := final.Step(dossier.StepResidenceCancellation)
	require.Equal(t, caseID(dossier.StepResidenceCancellation), st.CaseID)
	// The allowance decides at +5h; without the fix residence would wait out the day-long backoff.
	require.True(t, final.CompletedAt.Before(monday.Add(6*time.Hour)), "completed at %s, not after the day-long backoff", final.CompletedAt)
}

type updateCallbacks struct {
	t           *testing.T
	wantErr     bool
	errContains string
}

func (u *updateCallbacks) Accept() {
	if u.wantErr {
		u.t.Errorf("update accepted, want rejection containing %q", u.errContains)
	}
}

func (u *updateCallbacks) Reject(err error) {
	if !u.wantErr {
		u.t.Errorf("update rejected: %v", err)
		return
	}
	require.ErrorContains(u.t, err, u.errContains)
}

func (u *updateCallbacks) Complete(_ any, err error) {
	if err != nil && !u.wantErr {
		u.t.Errorf("update failed: %v", err)
	}
}

var _ client.UpdateWorkflowOptions

// A read model that refuses a write for good must not leave the dossier
// waiting in silence: the workflow task fails, naming the sync.
func TestStoppedSyncFailsTheWorkflowTask(t *testing.T) {
	t.Parallel()
	h := newHarness(t, monday, deathScripts())
	h.syncErr = temporal.NewNonRetryableApplicationError("version 2 conflicts with version 3", "Conflict", nil)
	h.env.ExecuteWorkflow(workflows.WorkflowDeath, workflows.DeathInput{Dossier: h.input(monday), FuneralAllowance: true})

	require.True(t, h.env.IsWorkflowCompleted())
	var panicked *temporal.PanicError
	require.ErrorAs(t, h.env.GetWorkflowError(), &panicked)
	require.Contains(t, panicked.Error(), "read model sync stopped")
	require.Contains(t, panicked.Error(), "version 2 conflicts with version 3")
}
