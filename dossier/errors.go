package dossier

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
)

// Kind classifies an error for every edge: the API maps kinds to gRPC codes
// in one table, and workflows decide retry or reject by kind.
type Kind string

const (
	KindInvalid            Kind = "invalid"
	KindNotFound           Kind = "not_found"
	KindConflict           Kind = "conflict"
	KindFailedPrecondition Kind = "failed_precondition"
	KindUnauthenticated    Kind = "unauthenticated"
	KindPermissionDenied   Kind = "permission_denied"
	KindUnavailable        Kind = "unavailable"
	KindInternal           Kind = "internal"
)

// grpcCodes is the one table from error kinds to gRPC codes; the REST
// gateway derives HTTP statuses from the codes. A conflict is AlreadyExists,
// not Aborted: the conflicts lienthong reports (a request id or an
// idempotency key reused for another body) must not be retried, while
// Aborted invites a retry. Both give HTTP 409.
var grpcCodes = map[Kind]codes.Code{
	KindInvalid:            codes.InvalidArgument,
	KindNotFound:           codes.NotFound,
	KindConflict:           codes.AlreadyExists,
	KindFailedPrecondition: codes.FailedPrecondition,
	KindUnauthenticated:    codes.Unauthenticated,
	KindPermissionDenied:   codes.PermissionDenied,
	KindUnavailable:        codes.Unavailable,
	KindInternal:           codes.Internal,
}

// GRPCCode is the gRPC code for errors of kind k; unknown kinds are Internal.
func (k Kind) GRPCCode() codes.Code {
	if c, ok := grpcCodes[k]; ok {
		return c
	}
	return codes.Internal
}

// FieldViolation names one bad field of a request.
type FieldViolation struct {
	Field       string
	Description string
	// Vietnamese is the same message for the people who read the console;
	// empty when there is none.
	Vietnamese string
}

// Error is a domain error with a kind and, for bad input, one violation per field.
type Error struct {
	Kind       Kind
	Message    string
	Violations []FieldViolation
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes a domain error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid is bad input with one violation per bad field.
func Invalid(violations []FieldViolation) *Error {
	msg := "invalid request"
	if len(violations) == 1 {
		msg = violations[0].Field + ": " + violations[0].Description
	} else if len(violations) > 1 {
		msg = fmt.Sprintf("invalid request: %d fields are wrong, first %s: %s", len(violations), violations[0].Field, violations[0].Description)
	}
	return &Error{Kind: KindInvalid, Message: msg, Violations: violations}
}

// KindOf returns the kind of err, KindInternal when it carries none.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return KindInternal
}

// Sentinel errors for the store's edge.
var (
	ErrNotFound = Errorf(KindNotFound, "dossier not found")
)
