package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
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
	st, ds := feedStore(t, 1)
	created := ds[0]
	var snaps []dossier.Snapshot
	for v := int64(1); v <= 3; v++ {
		s := created
		s.Version, s.At = v, created.ReceivedAt.Add(time.Duration(v)*time.Second)
		snaps = append(snaps, s)
	}
	_, err := st.ApplySnapshots(ctx, snaps, nil)
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
	history, err := st.History(ctx, created.Code)
	require.NoError(t, err)
	for _, h := range history {
		require.NotNil(t, h.PortalSyncedAt, "version %d marked as at the portal", h.Version)
	}
}

// sample finds one series in reg by name and labels: a counter's value, or
// a histogram's count and sum.
func sample(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (value float64, count uint64) {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			if h := m.GetHistogram(); h != nil {
				return h.GetSampleSum(), h.GetSampleCount()
			}
			return m.GetCounter().GetValue(), 0
		}
	}
	return 0, 0
}

func TestMetricsOfSyncAndCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)
	// Monday 2 March 2026, 09:00 in Hà Nội; Justice decides at 16:00 the next day.
	hanoi := time.FixedZone("ICT", 7*3600)
	sent := time.Date(2026, 3, 2, 9, 0, 0, 0, hanoi)
	decided := time.Date(2026, 3, 3, 16, 0, 0, 0, hanoi)
	created, err := st.CreateDossier(ctx, store.NewDossier{
		RequestID: "r1", RequestHash: []byte{1}, Group: dossier.GroupDeath, CommuneCode: "00004", ProvinceCode: "001",
		ReceivedAt: sent, DueAt: sent, AppointmentAt: sent, PhoneHash: "phone-hash", Form: []byte("f"), CreatedBy: "clerk:1",
		Steps: []dossier.StepKind{dossier.StepDeathRegistration},
	})
	require.NoError(t, err)
	version := func(v int64, status dossier.StepStatus, decidedAt *time.Time) dossier.Snapshot {
		s := created.Snapshot
		s.Version, s.At, s.ChangedStep, s.DecidedAt = v, sent.Add(time.Duration(v)*time.Second), dossier.StepDeathRegistration, decidedAt
		s.Steps = []dossier.Step{{Kind: dossier.StepDeathRegistration, Agency: dossier.AgencyJustice, Status: status,
			StatusSince: s.At, UpdatedAt: s.At, StartedAt: &sent, DecidedAt: decidedAt}}
		return s
	}
	snaps := []dossier.Snapshot{version(1, dossier.StepAwaitingAgency, nil), version(2, dossier.StepApproved, &decided)}

	reg := prometheus.NewRegistry()
	acts := &activities.Activities{Store: st, Agencies: activities.Agencies{Portal: &fakePortal{}}, Metrics: activities.NewMetrics(reg)}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	var a *activities.Activities

	t.Run("a decision's working time is observed once, however often the sync is retried", func(t *testing.T) {
		for range 2 {
			_, err := env.ExecuteActivity(a.SyncReadModel, activities.SyncInput{Snapshots: snaps})
			require.NoError(t, err)
		}
		sum, count := sample(t, reg, "lienthong_step_working_seconds", map[string]string{"agency": "justice", "step": string(dossier.StepDeathRegistration)})
		require.EqualValues(t, 1, count)
		// 09:00-17:00 on Monday and 08:00-16:00 on Tuesday: 16 hours, not 31.
		require.InDelta(t, (16 * time.Hour).Seconds(), sum, 0.001)
		_, lags := sample(t, reg, "lienthong_status_sync_lag_seconds", map[string]string{"target": "read_model"})
		require.Positive(t, lags)
	})

	t.Run("portal calls count as ok outcomes and feed the portal lag", func(t *testing.T) {
		_, err := env.ExecuteActivity(a.PublishPortal, activities.PortalInput{Snapshots: snaps})
		require.NoError(t, err)
		ok, _ := sample(t, reg, "lienthong_agency_calls_total", map[string]string{"agency": "portal", "outcome": activities.OutcomeOK})
		require.EqualValues(t, 2, ok)
		_, lags := sample(t, reg, "lienthong_status_sync_lag_seconds", map[string]string{"target": "portal"})
		require.EqualValues(t, 1, lags, "only the decided version has a decision to lag behind")
	})
}
