package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestToStatusTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		err  error
		want codes.Code
		msg  string
	}{
		{dossier.Errorf(dossier.KindNotFound, "dossier not found"), codes.NotFound, "dossier not found"},
		{dossier.Errorf(dossier.KindConflict, "used"), codes.AlreadyExists, "used"},
		{dossier.Errorf(dossier.KindFailedPrecondition, "dossier is already COMPLETED"), codes.FailedPrecondition, "dossier is already COMPLETED"},
		{dossier.Errorf(dossier.KindUnauthenticated, "no token"), codes.Unauthenticated, "no token"},
		{dossier.Errorf(dossier.KindPermissionDenied, "no"), codes.PermissionDenied, "no"},
		{fmt.Errorf("wrapped: %w", dossier.Errorf(dossier.KindUnavailable, "db down")), codes.Unavailable, "db down; try again with the same request"},
		{&dossier.Error{Kind: dossier.KindInternal, Message: "secret detail"}, codes.Internal, internalMessage},
		{errors.New("pgx: something private"), codes.Internal, internalMessage},
		{context.Canceled, codes.Canceled, "the request was cancelled"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "the request took too long; try again with the same request"},
		{status.Error(codes.ResourceExhausted, "slow down"), codes.ResourceExhausted, "slow down"},
	}
	for _, tc := range cases {
		st, ok := status.FromError(toStatus(ctx, discard, "/m", tc.err))
		require.True(t, ok)
		require.Equal(t, tc.want, st.Code(), tc.err.Error())
		require.Equal(t, tc.msg, st.Message())
	}
}

func TestToStatusCarriesFieldViolations(t *testing.T) {
	t.Parallel()
	err := invalid(violation("form.child.full_name", "must not be empty"), violation("form.delivery", "is required"))
	st, _ := status.FromError(toStatus(context.Background(), discard, "/m", err))
	require.Equal(t, codes.InvalidArgument, st.Code())
	require.Len(t, st.Details(), 1)
	br, ok := st.Details()[0].(*errdetails.BadRequest)
	require.True(t, ok)
	require.Len(t, br.GetFieldViolations(), 2)
	require.Equal(t, "form.child.full_name", br.GetFieldViolations()[0].GetField())
	vi := br.GetFieldViolations()[1].GetLocalizedMessage()
	require.Equal(t, "vi-VN", vi.GetLocale())
	require.Equal(t, "bắt buộc", vi.GetMessage())
}

func TestVietnameseMessages(t *testing.T) {
	t.Parallel()
	require.Equal(t, "tối đa 100 ký tự", violation("f", "must be at most %d characters", 100).Vietnamese)
	_, idErr := civil.ParseIDNumber("12ab")
	require.Equal(t, "số định danh cá nhân phải gồm đúng 12 chữ số", violation("f", "%s", idErr).Vietnamese)
	_, phoneErr := civil.NormalizePhone("12")
	require.Contains(t, violation("form.requester.phone", "%s", phoneErr).Vietnamese, "số điện thoại di động")
	require.Empty(t, violation("f", "a rule nobody translated").Vietnamese)
}

func TestRecoveryTurnsPanicsIntoInternal(t *testing.T) {
	t.Parallel()
	chain := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return recoveryInterceptor(discard)(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return errorInterceptor(discard)(ctx, req, info, h)
		})
	}
	_, err := chain(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x/Y"}, func(context.Context, any) (any, error) {
		panic("handler bug")
	})
	st, _ := status.FromError(err)
	require.Equal(t, codes.Internal, st.Code())
	require.Equal(t, internalMessage, st.Message())
}

func TestElapsedCountsWorkingDays(t *testing.T) {
	t.Parallel()
	s := &Server{cal: calendar.Default()}
	ict := time.FixedZone("ICT", 7*3600)
	// Monday 9 March 2026, 10:00, to Thursday 18:00: three working days.
	require.Equal(t, "3 working days", s.elapsed(time.Date(2026, 3, 9, 10, 0, 0, 0, ict), time.Date(2026, 3, 12, 18, 0, 0, 0, ict)))
	require.Equal(t, "1 working day", s.elapsed(time.Date(2026, 3, 9, 10, 0, 0, 0, ict), time.Date(2026, 3, 10, 17, 30, 0, 0, ict)))
	require.Equal(t, "2h15m", s.elapsed(time.Date(2026, 3, 9, 10, 0, 0, 0, ict), time.Date(2026, 3, 9, 12, 15, 0, 0, ict)))
	require.Equal(t, "less than a minute", s.elapsed(time.Date(2026, 3, 9, 10, 0, 0, 0, ict), time.Date(2026, 3, 9, 10, 0, 20, 0, ict)))
}
