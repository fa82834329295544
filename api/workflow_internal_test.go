package api

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/workflows"
)

// An update's refusal is mapped by its type, never by its words: rewording
// a validator's message cannot change the status a caller gets.
func TestUpdateRefusalsMapByType(t *testing.T) {
	t.Parallel()
	s := &Server{}
	snap := dossier.Snapshot{Code: "00004-261202-0001"}

	in := s.updateError(context.Background(), snap, workflows.RefuseInput("reason", "any words at all: even with a colon"))
	require.Equal(t, dossier.KindInvalid, dossier.KindOf(in))
	var de *dossier.Error
	require.True(t, errors.As(in, &de))
	require.Len(t, de.Violations, 1)
	require.Equal(t, "reason", de.Violations[0].Field)

	state := s.updateError(context.Background(), snap, workflows.RefuseState("reason: words that once looked like a field"))
	require.Equal(t, dossier.KindFailedPrecondition, dossier.KindOf(state), "a state refusal stays one whatever its message starts with")

	other := s.updateError(context.Background(), snap, errors.New("step: not a refusal"))
	require.Equal(t, dossier.KindInternal, dossier.KindOf(other))
}
