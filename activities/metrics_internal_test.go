package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestOutcomeClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, OutcomeOK},
		{status.Error(codes.InvalidArgument, "bad"), OutcomeRefused},
		{status.Error(codes.FailedPrecondition, "no such person"), OutcomeRefused},
		{status.Error(codes.Unauthenticated, "login"), OutcomeUnauthenticated},
		{status.Error(codes.Unavailable, "down"), OutcomeUnavailable},
		{status.Error(codes.Internal, "oops"), OutcomeUnavailable},
		{context.DeadlineExceeded, OutcomeUnavailable},
		{errors.New("connection reset"), OutcomeUnavailable},
	} {
		t.Run(tc.want+" "+status.Code(tc.err).String(), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, outcome(classifyOrNil(tc.err)))
		})
	}
}
