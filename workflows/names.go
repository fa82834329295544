// Package workflows holds the linked procedure groups as Temporal workflows:
// birth.go and death.go read top to bottom as the procedures they run, and
// the step machine both share lives beside them, split by concern (see the
// machine type in machine.go). Workflows carry no personal
// data: activities read the form from the engine's store when they call an
// agency. This package may import dossier, civil, calendar and activities
// (for the activity method values); it must not import store, api or agency.
package workflows

import (
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/lienthong/lienthong/dossier"
)

// Task queues. Each agency has its own, rate-limited, so one slow agency
// never starves the others; workflows run on their own queue.
const (
	TaskQueueDossiers  = "lienthong-dossiers"
	TaskQueueJustice   = "lienthong-justice"
	TaskQueuePolice    = "lienthong-police"
	TaskQueueInsurance = "lienthong-insurance"
	TaskQueuePortal    = "lienthong-portal"
)

// AgencyTaskQueue is the task queue of an agency's activities.
func AgencyTaskQueue(agency string) string {
	switch agency {
	case dossier.AgencyJustice:
		return TaskQueueJustice
	case dossier.AgencyPolice:
		return TaskQueuePolice
	case dossier.AgencyInsurance:
		return TaskQueueInsurance
	case dossier.AgencyPortal:
		return TaskQueuePortal
	}
	return TaskQueueDossiers
}

// Workflow types, signals, updates and queries.
const (
	WorkflowBirth = "Birth"
	WorkflowDeath = "Death"

	// SignalCaseUpdate carries an agency's push (a dossier.Case).
	SignalCaseUpdate = "case-update"
	// SignalAgencyBack says an agency that was down answers again
	// (AgencyBackInput): the dossier's steps waiting out a backoff on it
	// call it now instead of when their timers fire.
	SignalAgencyBack = "agency-back"

	// UpdateSupplement delivers a clerk's supplement (SupplementInput).
	UpdateSupplement = "supplement"
	// UpdateCancel cancels the dossier (CancelInput).
	UpdateCancel = "cancel"
	// UpdateRetryStep makes a step's next attempt or poll happen now (RetryInput).
	UpdateRetryStep = "retry-step"
	// UpdateEscalate records a supervisor's escalation (EscalateInput).
	UpdateEscalate = "escalate"

	// QueryState returns the current dossier.Snapshot.
	QueryState = "state"
)

// WorkflowID is the dossier's workflow id: one workflow per dossier code.
func WorkflowID(code string) string { return "dossier-" + code }

// Search attributes. They hold no personal data.
var (
	SAGroup    = temporal.NewSearchAttributeKeyKeyword("LienthongGroup")
	SACommune  = temporal.NewSearchAttributeKeyKeyword("LienthongCommune")
	SAProvince = temporal.NewSearchAttributeKeyKeyword("LienthongProvince")
	SAStep     = temporal.NewSearchAttributeKeyKeyword("LienthongStep")
	SAAgency   = temporal.NewSearchAttributeKeyKeyword("LienthongAgency")
	SAStatus   = temporal.NewSearchAttributeKeyKeyword("LienthongStatus")
	SAOverdue  = temporal.NewSearchAttributeKeyBool("LienthongOverdue")
)

// SearchAttributes is what a namespace must have registered before workflows run.
func SearchAttributes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		SAGroup.GetName():    enums.INDEXED_VALUE_TYPE_KEYWORD,
		SACommune.GetName():  enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAProvince.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAStep.GetName():     enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAAgency.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAStatus.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAOverdue.GetName():  enums.INDEXED_VALUE_TYPE_BOOL,
	}
}
