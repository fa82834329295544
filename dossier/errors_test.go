package dossier_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/lienthong/lienthong/dossier"
)

func TestKindsHaveOneCodeEach(t *testing.T) {
	t.Parallel()
	for kind, want := range map[dossier.Kind]codes.Code{
		dossier.KindInvalid:            codes.InvalidArgument,
		dossier.KindNotFound:           codes.NotFound,
		dossier.KindConflict:           codes.AlreadyExists,
		dossier.KindFailedPrecondition: codes.FailedPrecondition,
		dossier.KindUnauthenticated:    codes.Unauthenticated,
		dossier.KindPermissionDenied:   codes.PermissionDenied,
		dossier.KindUnavailable:        codes.Unavailable,
		dossier.KindInternal:           codes.Internal,
		dossier.Kind("made-up"):        codes.Internal,
	} {
		require.Equal(t, want, kind.GRPCCode(), kind)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("registering birth: %w", dossier.Errorf(dossier.KindNotFound, "no such case"))
	require.Equal(t, dossier.KindNotFound, dossier.KindOf(err))
	require.Equal(t, dossier.KindInternal, dossier.KindOf(fmt.Errorf("plain")))
	inv := dossier.Invalid([]dossier.FieldViolation{{Field: "form.child.full_name", Description: "must not be empty"}})
	require.Equal(t, "form.child.full_name: must not be empty", inv.Error())
}
