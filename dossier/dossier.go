// Package dossier is lienthong's domain model: linked dossiers, their steps,
// the versioned snapshots the workflows publish, trace events, and the error
// kinds every edge translates to. It holds plain data and rules about that
// data only, and names the gRPC code of each error kind; it must not import
// Temporal, pgx, or any lienthong package other than the generated contracts
// it converts to.
package dossier

import (
	"fmt"
	"strings"
	"time"
)

// Group is a linked procedure group.
type Group string

const (
	GroupBirth Group = "birth"
	GroupDeath Group = "death"
)

// Status is a dossier's overall status.
type Status string

const (
	StatusReceived           Status = "RECEIVED"
	StatusInProgress         Status = "IN_PROGRESS"
	StatusNeedsSupplement    Status = "NEEDS_SUPPLEMENT"
	StatusCompleted          Status = "COMPLETED"
	StatusPartiallyCompleted Status = "PARTIALLY_COMPLETED"
	StatusRejected           Status = "REJECTED"
	StatusCancelled          Status = "CANCELLED"
)

// Terminal says the dossier will not change again.
func (s Status) Terminal() bool {
	switch s {
	case StatusCompleted, StatusPartiallyCompleted, StatusRejected, StatusCancelled:
		return true
	}
	return false
}

// StepKind is one procedure of a group.
type StepKind string

const (
	StepBirthRegistration     StepKind = "birth_registration"
	StepIDNumber              StepKind = "id_number"
	StepResidenceRegistration StepKind = "residence_registration"
	StepChildCard             StepKind = "child_card"
	StepDeathRegistration     StepKind = "death_registration"
	StepResidenceCancellation StepKind = "residence_cancellation"
	StepFuneralAllowance      StepKind = "funeral_allowance"
	StepSurvivorBenefit       StepKind = "survivor_benefit"
)

// Agencies by name, as they appear in task queues, cases and tokens.
const (
	AgencyJustice   = "justice"
	AgencyPolice    = "police"
	AgencyInsurance = "insurance"
	AgencyPortal    = "portal"
)

// Agency is the agency that performs the step.
func (k StepKind) Agency() string {
	switch k {
	case StepBirthRegistration, StepDeathRegistration:
		return AgencyJustice
	case StepIDNumber, StepResidenceRegistration, StepResidenceCancellation:
		return AgencyPolice
	case StepChildCard, StepFuneralAllowance, StepSurvivorBenefit:
		return AgencyInsurance
	}
	return ""
}

// Valid says k is a known step.
func (k StepKind) Valid() bool { return k.Agency() != "" }

// Title is a human name for diagnoses, e.g. "Police residence registration".
func (k StepKind) Title() string {
	switch k {
	case StepBirthRegistration:
		return "Justice birth registration"
	case StepIDNumber:
		return "Police ID number"
	case StepResidenceRegistration:
		return "Police residence registration"
	case StepChildCard:
		return "Insurance child card"
	case StepDeathRegistration:
		return "Justice death registration"
	case StepResidenceCancellation:
		return "Police residence cancellation"
	case StepFuneralAllowance:
		return "Insurance funeral allowance"
	case StepSurvivorBenefit:
		return "Insurance survivor benefit"
	}
	return string(k)
}

// StepStatus is where one procedure stands.
type StepStatus string

const (
	StepPending         StepStatus = "PENDING"
	StepSending         StepStatus = "SENDING"
	StepAwaitingAgency  StepStatus = "AWAITING_AGENCY"
	StepNeedsSupplement StepStatus = "NEEDS_SUPPLEMENT"
	StepWaitingIDNumber StepStatus = "WAITING_ID_NUMBER" //nolint:gosec // G101: a status name, not a credential
	StepApproved        StepStatus = "APPROVED"
	StepRejected        StepStatus = "REJECTED"
	StepSkipped         StepStatus = "SKIPPED"
	StepCancelled       StepStatus = "CANCELLED"
)

// Terminal says the step will not change again.
func (s StepStatus) Terminal() bool {
	switch s {
	case StepApproved, StepRejected, StepSkipped, StepCancelled:
		return true
	}
	return false
}

// Step is one procedure of a dossier.
type Step struct {
	Kind        StepKind   `json:"kind"`
	Agency      string     `json:"agency"`
	Status      StepStatus `json:"status"`
	StatusSince time.Time  `json:"status_since"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Overdue     bool       `json:"overdue,omitempty"`
	Attempts    int        `json:"attempts,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	// LastErrorCode is what the last failed call ended with: a gRPC code's
	// name (UNAVAILABLE, UNAUTHENTICATED, DEADLINE_EXCEEDED, ...) or TIMEOUT.
	LastErrorCode    string            `json:"last_error_code,omitempty"`
	Reason           string            `json:"reason,omitempty"`
	Missing          []string          `json:"missing,omitempty"`
	CaseID           string            `json:"case_id,omitempty"`
	Result           map[string]string `json:"result,omitempty"`
	NewAppointmentAt *time.Time        `json:"new_appointment_at,omitempty"`
	UpdatedAt        time.Time         `json:"updated_at"`
	// Apology is set once the step was late and its agency was asked to
	// apologise (docs/domain.md, "Lateness").
	Apology *Apology `json:"apology,omitempty"`
}

// Apology is a late agency's apology and new appointment date for a step.
type Apology struct {
	RequestedAt time.Time `json:"requested_at"`
	MissedDueAt time.Time `json:"missed_due_at"`
	// IssuedAt is nil while the apology is owed.
	IssuedAt         *time.Time `json:"issued_at,omitempty"`
	Number           string     `json:"number,omitempty"`
	Reason           string     `json:"reason,omitempty"`
	NewAppointmentAt *time.Time `json:"new_appointment_at,omitempty"`
	IssuedBy         string     `json:"issued_by,omitempty"`
}

// Issued says the agency has issued the apology.
func (a *Apology) Issued() bool { return a != nil && a.IssuedAt != nil }

// Snapshot is a dossier's state at one version, as the workflow publishes it
// to the read model and the portal.
type Snapshot struct {
	Code          string     `json:"code"`
	Group         Group      `json:"group"`
	Status        Status     `json:"status"`
	Version       int64      `json:"version"`
	CommuneCode   string     `json:"commune_code"`
	ProvinceCode  string     `json:"province_code"`
	ReceivedAt    time.Time  `json:"received_at"`
	DueAt         time.Time  `json:"due_at"`
	AppointmentAt time.Time  `json:"appointment_at"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	OutcomeReason string     `json:"outcome_reason,omitempty"`
	Overdue       bool       `json:"overdue,omitempty"`
	CurrentStep   StepKind   `json:"current_step,omitempty"`
	CurrentAgency string     `json:"current_agency,omitempty"`
	Steps         []Step     `json:"steps"`
	// LateRegistrations flag registrations made after their legal limit.
	LateRegistrations []LateRegistration `json:"late_registrations,omitempty"`
	// At is when this version was made.
	At time.Time `json:"at"`
	// ChangedStep is the step whose change made this version, if any.
	ChangedStep StepKind `json:"changed_step,omitempty"`
	// DecidedAt is when the agency decided, for versions an agency's decision made;
	// the read model records the lag from it.
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// LateRegistration flags a registration made after its legal time limit. It is
// accepted, not refused: the flag is for the clerk, the supervisor and the record.
type LateRegistration struct {
	// Step is the registration that was late.
	Step StepKind `json:"step"`
	// Days is how many days after CountedFrom the registration was made.
	Days      int `json:"days"`
	LimitDays int `json:"limit_days"`
	// CountedFrom names what the limit counts from, one of the LateFrom* values.
	CountedFrom string `json:"counted_from"`
}

// What a registration limit counts from.
const (
	LateFromDeath             = "death"
	LateFromBirthRegistration = "birth_registration"
)

// DerivedStatus is the status an unfinished dossier has by its steps:
// waiting for a supplement if any step is, in progress once any step has
// started, received before that. A finished dossier keeps its status.
func (s *Snapshot) DerivedStatus() Status {
	if s.Status.Terminal() {
		return s.Status
	}
	started := false
	for _, st := range s.Steps {
		if st.Status == StepNeedsSupplement {
			return StatusNeedsSupplement
		}
		if st.Status != StepPending {
			started = true
		}
	}
	if started {
		return StatusInProgress
	}
	return StatusReceived
}

// Current is the first step under way and its agency, or "" when none is.
func (s *Snapshot) Current() (StepKind, string) {
	for _, st := range s.Steps {
		if st.Status != StepPending && !st.Status.Terminal() {
			return st.Kind, st.Agency
		}
	}
	return "", ""
}

// Settle is how a dossier whose steps have all ended comes out: rejected
// when its first step (the registration) was not approved, completed when
// every step was, partially completed otherwise, with the reasons.
func (s *Snapshot) Settle(first StepKind) (Status, string) {
	describe := func(st *Step) string {
		return fmt.Sprintf("%s %s: %s", st.Kind, strings.ToLower(string(st.Status)), st.Reason)
	}
	if f := s.Step(first); f == nil || f.Status != StepApproved {
		if f == nil {
			return StatusRejected, string(first) + " missing"
		}
		return StatusRejected, describe(f)
	}
	var failed []string
	for i := range s.Steps {
		if s.Steps[i].Status != StepApproved {
			failed = append(failed, describe(&s.Steps[i]))
		}
	}
	if len(failed) == 0 {
		return StatusCompleted, ""
	}
	return StatusPartiallyCompleted, strings.Join(failed, "; ")
}

// Step returns the step of kind k, or nil.
func (s *Snapshot) Step(k StepKind) *Step {
	for i := range s.Steps {
		if s.Steps[i].Kind == k {
			return &s.Steps[i]
		}
	}
	return nil
}

// Event is one line of a dossier's trace.
type Event struct {
	// Key makes a workflow-made event idempotent across retried syncs.
	Key       string    `json:"key,omitempty"`
	Code      string    `json:"code"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Actor     string    `json:"actor"`
	Step      StepKind  `json:"step,omitempty"`
	Outcome   string    `json:"outcome,omitempty"`
	Error     string    `json:"error,omitempty"`
	LatencyMs int64     `json:"latency_ms,omitempty"`
	Attempt   int       `json:"attempt,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Event kinds in the trace.
const (
	EventSubmitted        = "submitted"
	EventSent             = "sent"
	EventAttemptFailed    = "attempt_failed"
	EventDecision         = "decision"
	EventSupplement       = "supplement"
	EventStatusSynced     = "status_synced"
	EventPortalSynced     = "portal_synced"
	EventViewed           = "viewed"
	EventRemedy           = "remedy"
	EventOverdue          = "overdue"
	EventEscalated        = "escalated"
	EventCancelled        = "cancelled"
	EventNewAppointment   = "new_appointment"
	EventApologyRequested = "apology_requested"
	EventApologyIssued    = "apology_issued"
	EventIDNumberLate     = "id_number_late"
	EventIDNumberAttached = "id_number_attached"
	EventLateRegistration = "late_registration"
	EventCompleted        = "completed"
)

// Case is the engine's view of an agency case, as pushed or polled.
type Case struct {
	CaseID           string            `json:"case_id"`
	Agency           string            `json:"agency"`
	Kind             string            `json:"kind"`
	DossierCode      string            `json:"dossier_code"`
	Step             StepKind          `json:"step"`
	Status           CaseStatus        `json:"status"`
	Version          int64             `json:"version"`
	Reason           string            `json:"reason,omitempty"`
	Missing          []string          `json:"missing,omitempty"`
	Result           map[string]string `json:"result,omitempty"`
	DecidedAt        *time.Time        `json:"decided_at,omitempty"`
	UpdatedAt        time.Time         `json:"updated_at"`
	NewAppointmentAt *time.Time        `json:"new_appointment_at,omitempty"`
	Apology          *Apology          `json:"apology,omitempty"`
}

// CaseStatus mirrors the agencies' case status.
type CaseStatus string

const (
	CaseReceived          CaseStatus = "RECEIVED"
	CaseInReview          CaseStatus = "IN_REVIEW"
	CaseNeedsSupplement   CaseStatus = "NEEDS_SUPPLEMENT"
	CaseApproved          CaseStatus = "APPROVED"
	CaseRejected          CaseStatus = "REJECTED"
	CaseWithdrawn         CaseStatus = "WITHDRAWN"
	CaseApprovedPendingID CaseStatus = "APPROVED_PENDING_ID"
)

// Decided says the agency has reached a verdict.
func (s CaseStatus) Decided() bool {
	switch s {
	case CaseApproved, CaseRejected, CaseWithdrawn, CaseApprovedPendingID:
		return true
	}
	return false
}
