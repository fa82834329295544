package workflows

import (
	"time"

	"github.com/lienthong/lienthong/dossier"
)

// DossierInput is what both groups start from. The form itself stays in the
// engine's store.
type DossierInput struct {
	Code          string
	CommuneCode   string
	ProvinceCode  string
	ReceivedAt    time.Time
	DueAt         time.Time
	AppointmentAt time.Time
	Limits        Limits
	Timing        Timing
	// LateRegistrations known at receipt (a death registered late), so the
	// workflow's versions carry them.
	LateRegistrations []dossier.LateRegistration
}

// BirthInput starts a birth-group dossier.
type BirthInput struct {
	Dossier DossierInput
}

// BirthResult is the dossier's final state.
type BirthResult struct {
	Final dossier.Snapshot
}

// DeathInput starts a death-group dossier.
type DeathInput struct {
	Dossier DossierInput
	// FuneralAllowance is true for the 3- and 4-procedure bundles.
	FuneralAllowance bool
	// SurvivorBenefit is true for the 4-procedure bundle.
	SurvivorBenefit bool
}

// DeathResult is the dossier's final state.
type DeathResult struct {
	Final dossier.Snapshot
}

// Limits are legal time limits in working days. Where docs/domain.md ("Birth
// group", "Death group") marks a limit as an assumption it is still data here,
// set per dossier at receipt.
type Limits struct {
	// Steps maps each step to its limit in working days (0: same working day).
	Steps map[dossier.StepKind]int
	// SupplementDays is how long the applicant has to supply a supplement.
	SupplementDays int
	// DrillStepDeadline, when set, makes every step due this long after it is
	// sent instead of its legal limit: for lateness drills and tests on a
	// real stack (`dev --drill-step-deadline`), never in production.
	DrillStepDeadline time.Duration `json:",omitempty"`
}

// DefaultLimits are the limits of Decree 63/2024 and the assumptions recorded in
// docs/domain.md ("Birth group", "Death group", "Supplements").
func DefaultLimits() Limits {
	return Limits{
		Steps: map[dossier.StepKind]int{
			dossier.StepBirthRegistration:     0,
			dossier.StepIDNumber:              0,
			dossier.StepResidenceRegistration: 2,
			dossier.StepChildCard:             2,
			dossier.StepDeathRegistration:     0,
			dossier.StepResidenceCancellation: 2, // assumption
			dossier.StepFuneralAllowance:      5, // assumption
			dossier.StepSurvivorBenefit:       5, // assumption
		},
		SupplementDays: 7,
	}
}

// Timing shapes retries and reconcile polls. Defaults suit production; tests
// shorten them.
type Timing struct {
	// RetryInitial and RetryMax bound the backoff between failed sends.
	RetryInitial time.Duration
	RetryMax     time.Duration
	// HeldMax bounds the wait of a step whose backoff has reached RetryMax:
	// its agency has failed it for minutes, so the resume sweep wakes it
	// when the agency answers again, and the timer is only the safety net.
	// Never less than RetryMax.
	HeldMax time.Duration
	// PollInitial and PollMax bound the backoff of the reconcile poll that
	// catches a decision whose push was lost.
	PollInitial time.Duration
	PollMax     time.Duration
	// CallTimeout bounds one call to an agency.
	CallTimeout time.Duration
}

// DefaultTiming is used where a Timing field is zero.
func DefaultTiming() Timing {
	return Timing{
		RetryInitial: time.Second,
		RetryMax:     5 * time.Minute,
		HeldMax:      30 * time.Minute,
		PollInitial:  10 * time.Second,
		PollMax:      10 * time.Minute,
		CallTimeout:  15 * time.Second,
	}
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	if t.RetryInitial <= 0 {
		t.RetryInitial = d.RetryInitial
	}
	if t.RetryMax <= 0 {
		t.RetryMax = d.RetryMax
	}
	if t.HeldMax <= 0 {
		t.HeldMax = d.HeldMax
	}
	t.HeldMax = max(t.HeldMax, t.RetryMax)
	if t.PollInitial <= 0 {
		t.PollInitial = d.PollInitial
	}
	if t.PollMax <= 0 {
		t.PollMax = d.PollMax
	}
	if t.CallTimeout <= 0 {
		t.CallTimeout = d.CallTimeout
	}
	return t
}

// SupplementInput is a clerk's supplement for one step.
type SupplementInput struct {
	Step      dossier.StepKind
	RequestID string
	Fields    map[string]string
	Note      string
	Actor     string
}

// CancelInput cancels a dossier.
type CancelInput struct {
	Reason string
	Actor  string
}

// AgencyBackInput names the agency that answers again (SignalAgencyBack).
type AgencyBackInput struct {
	Agency string
}

// RetryInput asks for a step's next attempt now.
type RetryInput struct {
	Step   dossier.StepKind
	Reason string
	Actor  string
}

// EscalateInput records an escalation.
type EscalateInput struct {
	Step  dossier.StepKind
	Note  string
	Actor string
}

// UpdateResult is what every update returns: the dossier as it now stands.
type UpdateResult struct {
	Snapshot dossier.Snapshot
}
