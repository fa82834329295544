package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Every agency failure carries its code as a value, so nothing downstream
// reads it back out of the message.
func TestClassifyCarriesTheCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		kind string
		code string
	}{
		{status.Error(codes.Unavailable, "agency outage"), ErrUnavailable, "UNAVAILABLE"},
		{status.Error(codes.Unauthenticated, "unknown API key"), ErrUnauthenticated, "UNAUTHENTICATED"},
		{status.Error(codes.InvalidArgument, "bad date"), ErrRefused, "INVALID_ARGUMENT"},
		{status.Error(codes.ResourceExhausted, "slow down"), ErrUnavailable, "RESOURCE_EXHAUSTED"},
		{fmt.Errorf("dialing: %w", context.DeadlineExceeded), ErrUnavailable, "DEADLINE_EXCEEDED"},
		{fmt.Errorf("connection refused"), ErrUnavailable, "UNAVAILABLE"},
	} {
		got := classify(c.err)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, got, &appErr)
		require.Equal(t, c.kind, appErr.Type(), c.err.Error())
		require.Equal(t, c.code, FailureCode(got), c.err.Error())
	}
	require.Equal(t, FailureTimeout, FailureCode(temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil)))
	require.Empty(t, FailureCode(temporal.NewApplicationError("recorded before codes travelled", ErrUnavailable)))
}
