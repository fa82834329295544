package activities

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/lienthong/lienthong/dossier"
)

// Application error types the workflows branch on.
const (
	// ErrRefused is an agency's refusal of the request itself (bad or
	// inconsistent data): not retryable, the step is rejected with the message.
	ErrRefused = "AgencyRefused"
	// ErrUnavailable is an outage, a timeout or an internal fault: retried.
	ErrUnavailable = "AgencyUnavailable"
	// ErrUnauthenticated is a failed login at the agency: retried, and
	// reported as such, because the national login fails in bursts.
	ErrUnauthenticated = "AgencyUnauthenticated"
)

// FailureTimeout is the failure code of an agency call that did not finish
// in its time (the activity's own timeout), beside the gRPC codes' names.
const FailureTimeout = "TIMEOUT"

// FailureCode is what an agency call failed with: the gRPC code's name the
// activity put in the error's detail (UNAVAILABLE, UNAUTHENTICATED, ...),
// FailureTimeout for a call that timed out, or "" when the error says
// neither (one recorded before the code travelled with it).
func FailureCode(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		var code string
		if appErr.HasDetails() && appErr.Details(&code) == nil {
			return code
		}
		return ""
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return FailureTimeout
	}
	return ""
}

// StepInput sends one step to its agency. The idempotency key comes from the
// dossier and the step, never the attempt, so a retried send finds the case
// the first attempt created.
type StepInput struct {
	Code           string
	Step           dossier.StepKind
	IdempotencyKey string
	// ChildIDNumber is the newborn's number when the population database has given it.
	ChildIDNumber string
	// RegistrationNumber is the birth or death record the step rests on.
	RegistrationNumber string
	CallTimeout        time.Duration
}

// StepResult is the agency's case as it stands after the send.
type StepResult struct {
	Case      dossier.Case
	LatencyMs int64
}

// CaseInput names a case for the reconcile poll.
type CaseInput struct {
	Agency         string
	CaseID         string
	IdempotencyKey string
	CallTimeout    time.Duration
}

// CaseResult is a case as the agency holds it.
type CaseResult struct {
	Case dossier.Case
}

// SupplementInput forwards a clerk's supplement to the agency.
type SupplementInput struct {
	Agency         string
	CaseID         string
	IdempotencyKey string
	Fields         map[string]string
	Note           string
	CallTimeout    time.Duration
}

// WithdrawInput withdraws a case the dossier no longer needs.
type WithdrawInput struct {
	Agency      string
	CaseID      string
	Reason      string
	CallTimeout time.Duration
}

// ApologyInput asks a late agency to apologise and set a new date.
type ApologyInput struct {
	Agency      string
	CaseID      string
	MissedDueAt time.Time
	CallTimeout time.Duration
}

// AttachIDInput adds a late ID number to a birth record.
type AttachIDInput struct {
	CaseID      string
	IDNumber    string
	CallTimeout time.Duration
}

// SyncInput carries snapshots, oldest first, and new trace events to the read model.
type SyncInput struct {
	Snapshots []dossier.Snapshot
	Events    []dossier.Event
}

// SyncResult says what the read model now holds.
type SyncResult struct {
	Version int64
	Applied bool
}

// PortalInput carries snapshots, oldest first, to the national portal.
type PortalInput struct {
	Snapshots []dossier.Snapshot
}

// PortalResult is the version the portal holds afterwards.
type PortalResult struct {
	StoredVersion int64
}
