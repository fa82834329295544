package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Why an update's validator refuses it, as the type of the ApplicationError
// it returns. The API maps the type to a status and never reads the message,
// so rewording a message cannot change an HTTP status.
const (
	// RefusedInput blames the request: InvalidArgument, naming the field.
	RefusedInput = "UpdateRefusedInput"
	// RefusedState blames the dossier's state: FailedPrecondition.
	RefusedState = "UpdateRefusedState"
)

// Refusal is the detail of a RefusedInput error: the request field at fault.
type Refusal struct {
	Field string
}

// RefuseInput refuses an update for a bad field of its request.
func RefuseInput(field, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), RefusedInput, nil, Refusal{Field: field})
}

// RefuseState refuses an update that the dossier's state does not allow.
func RefuseState(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), RefusedState, nil)
}
