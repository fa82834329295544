package agency

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/dossier"
)

// toStatus turns a handler's error into a gRPC status: domain kinds by the
// table, bad input with one field violation per field, anything unexpected
// as Internal without its detail.
func toStatus(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	if _, ok := status.FromError(err); ok {
		return err, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err(), false
	}
	var de *dossier.Error
	if !errors.As(err, &de) {
		return status.Error(codes.Internal, "internal error"), true
	}
	code := de.Kind.GRPCCode()
	st := status.New(code, de.Message)
	if len(de.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range de.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		if withDetails, err := st.WithDetails(br); err == nil {
			st = withDetails
		}
	}
	return st.Err(), code == codes.Internal || code == codes.Unavailable
}

// translateErrors is the innermost interceptor: handlers return domain
// errors, callers see gRPC statuses.
func translateErrors(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err == nil {
		return resp, nil
	}
	st, unexpected := toStatus(err)
	if unexpected {
		// Database errors name constraints, never values, so err is safe to log.
		loggerFrom(ctx).Error("call failed", "method", info.FullMethod, "err", err)
	}
	return nil, st
}

func notFound(format string, args ...any) error {
	return dossier.Errorf(dossier.KindNotFound, format, args...)
}

func conflict(format string, args ...any) error {
	return dossier.Errorf(dossier.KindConflict, format, args...)
}

func failedPrecondition(format string, args ...any) error {
	return dossier.Errorf(dossier.KindFailedPrecondition, format, args...)
}

func unavailable(format string, args ...any) error {
	return dossier.Errorf(dossier.KindUnavailable, format, args...)
}

// dbError translates a database error at the edge of a query: no rows is
// NotFound, constraint violations are conflicts or bad input, and anything
// else is Unavailable so that callers retry.
func dbError(err error, doing string) error {
	if err == nil {
		return nil
	}
	var de *dossier.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &dossier.Error{Kind: dossier.KindNotFound, Message: doing + ": not found", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &dossier.Error{Kind: dossier.KindConflict, Message: doing + ": already exists", Err: err}
		case "23503", "23514", "22P02", "22007", "22008":
			return &dossier.Error{Kind: dossier.KindInvalid, Message: doing + ": " + pgErr.Message, Err: err}
		}
	}
	return &dossier.Error{Kind: dossier.KindUnavailable, Message: doing, Err: err}
}
