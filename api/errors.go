package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/dossier"
)

// internalMessage is all a caller learns of a fault; the log has the rest.
const internalMessage = "internal error; it has been logged"

// toStatus turns any error a handler returns into a gRPC status. Domain
// errors take dossier.Kind.GRPCCode; bad input carries a google.rpc.BadRequest with
// one violation per field; everything unexpected becomes Internal with a
// generic message, and is logged.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	var de *dossier.Error
	if errors.As(err, &de) {
		code := de.Kind.GRPCCode()
		switch code {
		case codes.Internal:
			log.ErrorContext(ctx, "request failed", "method", method, "error", err)
			return status.Error(codes.Internal, internalMessage)
		case codes.Unavailable:
			log.WarnContext(ctx, "dependency unavailable", "method", method, "error", err)
			return status.Error(codes.Unavailable, de.Message+"; try again with the same request")
		}
		st := status.New(code, de.Message)
		if code == codes.InvalidArgument && len(de.Violations) > 0 {
			br := &errdetails.BadRequest{}
			for _, v := range de.Violations {
				fv := &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description}
				if v.Vietnamese != "" {
					fv.LocalizedMessage = &errdetails.LocalizedMessage{Locale: violationLocale, Message: v.Vietnamese}
				}
				br.FieldViolations = append(br.FieldViolations, fv)
			}
			if withDetails, derr := st.WithDetails(br); derr == nil {
				st = withDetails
			}
		}
		return st.Err()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request took too long; try again with the same request")
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown && st.Code() != codes.Internal {
		return err
	}
	log.ErrorContext(ctx, "request failed", "method", method, "error", err)
	return status.Error(codes.Internal, internalMessage)
}

// invalid is bad input with one violation per field.
func invalid(vs ...dossier.FieldViolation) error { return dossier.Invalid(vs) }

// violation is a shorthand for one field violation.
func violation(field, format string, args ...any) dossier.FieldViolation {
	return dossier.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...), Vietnamese: vietnameseFor(field, format, args...)}
}

// errorInterceptor maps every returned error through toStatus.
func errorInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, toStatus(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

// recoveryInterceptor turns a panic into Internal, so one bad request never
// takes the server down. The stack goes to the log, never to the caller.
func recoveryInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic while serving a request", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				resp, err = nil, status.Error(codes.Internal, internalMessage)
			}
		}()
		return handler(ctx, req)
	}
}
