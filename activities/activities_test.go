package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
)

// fakePortal records what it is sent.
type fakePortal struct {
	agencyv1.PortalServiceClient
	mu       sync.Mutex
	versions []int64
	hashes   []string
}

func (f *fakePortal) PublishStatus(_ context.Context, in *agencyv1.PublishStatusRequest, _ ...grpc.CallOption) (*agencyv1.PublishStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions = append(f.versions, in.GetStatus().GetVersion())
	f.hashes = append(f.hashes, in.GetPhoneHash())
	return &agencyv1.PublishStatusResponse{Applied: true, StoredVersion: in.GetStatus().GetVersion()}, nil
}

func TestPublishPortalDeliversInOrderAndHeartbeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := store.Migrate(ctx, pool)
	require.NoError(t, err)
	st := store.New(pool)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	created, err := st.CreateDossier(ctx, store.NewDossier{
		RequestID: "r1", RequestHash: []byte{1}, Group: dossier.GroupDeath, CommuneCode: "00004", ProvinceCode: "001",
		ReceivedAt: at, DueAt: at, AppointmentAt: at, PhoneHash: "phone-hash", Form: []byte("f"), CreatedBy: "clerk:1",
		Steps: []dossier.StepKind{dossier.StepDeathRegistration},
	})
	require.NoError(t, err)
	var snaps []dossier.Snapshot
	for v := int64(1); v <= 3; v++ {
		s := created.Snapshot
		s.Version, s.At = v, at.Add(time.Duration(v)*time.Second)
		snaps = append(snaps, s)
	}
	_, err = st.ApplySnapshots(ctx, snaps, nil)
	require.NoError(t, err)

	portal := &fakePortal{}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	var beats int
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats++ })
	env.RegisterActivity(&activities.Activities{Store: st, Agencies: activities.Agencies{Portal: portal}})
	var a *activities.Activities
	_, err = env.ExecuteActivity(a.PublishPortal, activities.PortalInput{Snapshots: snaps})
	require.NoError(t, err)

	require.Equal(t, []int64{1, 2, 3}, portal.versions, "every version, oldest first")
	require.Equal(t, []string{"phone-hash", "phone-hash", "phone-hash"}, portal.hashes, "the stored hash, never a number")
	// The SDK throttles heartbeats to one per interval, so a quick batch shows one.
	require.Positive(t, beats, "the batch heartbeats")
	history, err := st.History(ctx, created.Snapshot.Code)
	require.NoError(t, err)
	for _, h := range history {
		require.NotNil(t, h.PortalSyncedAt, "version %d marked as at the portal", h.Version)
	}
}
