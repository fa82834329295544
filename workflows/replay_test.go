package workflows_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/lienthong/lienthong/payloadcodec"
	"github.com/lienthong/lienthong/workflows"
)

// TestReplayRecordedHistories replays histories recorded from real runs (see
// cmd/lienthong e2e tests, -record-histories). A change to the workflows that
// would break dossiers already running fails here.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata/histories")
	fixture, err := payloadcodec.New(payloadcodec.ReplayFixtureKey)
	require.NoError(t, err)
	// The histories were sealed with the fixture key. A worker whose newest
	// key is another one, the fixture key kept as an old key, is what a
	// running dossier meets after a key rotation.
	rotated, err := payloadcodec.New(bytes.Repeat([]byte{0x5a}, 32), payloadcodec.ReplayFixtureKey)
	require.NoError(t, err)
	for name, codec := range map[string]*payloadcodec.Codec{"fixture key": fixture, "after a key rotation": rotated} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			replayAll(t, files, codec)
		})
	}
}

func replayAll(t *testing.T, files []string, codec *payloadcodec.Codec) {
	t.Helper()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.DataConverter()})
			require.NoError(t, err)
			workflows.Register(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), f))
		})
	}
}
