package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
)

// flakyPortal keeps what the real portal keeps, the newest version of each
// dossier, fails while down, and notes any two publications of one dossier
// that overlap.
type flakyPortal struct {
	agencyv1.PortalServiceClient
	mu       sync.Mutex
	down     bool
	calls    map[string][]int64
	inFlight map[string]bool
	overlaps int
	delay    time.Duration
}

func newFlakyPortal() *flakyPortal {
	return &flakyPortal{calls: map[string][]int64{}, inFlight: map[string]bool{}}
}

func (p *flakyPortal) PublishStatus(_ context.Context, in *agencyv1.PublishStatusRequest, _ ...grpc.CallOption) (*agencyv1.PublishStatusResponse, error) {
	code, v := in.GetStatus().GetDossierCode(), in.GetStatus().GetVersion()
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "portal is down")
	}
	if p.inFlight[code] {
		p.overlaps++
	}
	p.inFlight[code] = true
	p.mu.Unlock()
	time.Sleep(p.delay)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight[code] = false
	p.calls[code] = append(p.calls[code], v)
	return &agencyv1.PublishStatusResponse{Applied: true, StoredVersion: v}, nil
}

func (p *flakyPortal) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func (p *flakyPortal) published(code string) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.calls[code]...)
}

// versions writes versions from..to of a dossier to the read model, as its
// workflow's sync does.
func versions(t *testing.T, st *store.Store, created dossier.Snapshot, from, to int64) {
	t.Helper()
	var snaps []dossier.Snapshot
	for v := from; v <= to; v++ {
		s := created
		s.Version, s.At = v, created.ReceivedAt.Add(time.Duration(v)*time.Second)
		decided := s.At
		s.DecidedAt = &decided
		s.Status = dossier.StatusInProgress
		snaps = append(snaps, s)
	}
	_, err := st.ApplySnapshots(context.Background(), snaps, nil)
	require.NoError(t, err)
}

func feedStore(t *testing.T, n int) (*store.Store, []dossier.Snapshot) {
	t.Helper()
	ctx := context.Background()
	pool := storetest.Pool(t)
	st := store.New(pool)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var out []dossier.Snapshot
	for i := range n {
		created, err := st.CreateDossier(ctx, store.NewDossier{
			RequestID: "feed-" + string(rune('a'+i)), RequestHash: []byte{1}, Group: dossier.GroupDeath, CommuneCode: "00004", ProvinceCode: "001",
			ReceivedAt: at, DueAt: at, AppointmentAt: at, PhoneHash: "phone-hash", Form: []byte("f"), CreatedBy: "clerk:1",
			Steps: []dossier.StepKind{dossier.StepDeathRegistration},
		})
		require.NoError(t, err)
		out = append(out, created.Snapshot)
	}
	return st, out
}

func TestPortalFeedPublishesTheNewestVersionOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, ds := feedStore(t, 1)
	d := ds[0]
	portal := newFlakyPortal()
	feed := &activities.PortalFeed{Store: st, Portal: portal}

	versions(t, st, d, 1, 5)
	n, err := feed.PublishOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []int64{5}, portal.published(d.Code), "five versions behind is one call, with the newest")
	history, err := st.History(ctx, d.Code)
	require.NoError(t, err)
	require.Len(t, history, 5)
	for _, h := range history {
		require.NotNil(t, h.PortalSyncedAt, "version %d counts as at the portal", h.Version)
	}

	n, err = feed.PublishOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing new, nothing sent")

	t.Run("an outage delays the status and loses none", func(t *testing.T) {
		feed := &activities.PortalFeed{Store: st, Portal: portal, MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
		portal.setDown(true)
		versions(t, st, d, 6, 7)
		for range 3 {
			_, err := feed.PublishOnce(ctx)
			require.NoError(t, err)
			time.Sleep(120 * time.Millisecond)
		}
		require.Equal(t, []int64{5}, portal.published(d.Code))
		portal.setDown(false)
		require.Eventually(t, func() bool {
			_, err := feed.PublishOnce(ctx)
			require.NoError(t, err)
			return len(portal.published(d.Code)) == 2
		}, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, []int64{5, 7}, portal.published(d.Code))
	})
}

// Feeds in several workers share the read model: each dossier goes to one
// of them at a time, so the portal never sees two publications of a
// dossier at once, and each version is published by the time it is due.
func TestPortalFeedsShareTheReadModel(t *testing.T) {
	t.Parallel()
	st, ds := feedStore(t, 12)
	portal := newFlakyPortal()
	portal.delay = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		feed := &activities.PortalFeed{Store: st, Portal: portal, Batch: 4, Poll: time.Minute}
		wg.Go(func() {
			if err := feed.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()

	// The feeds wait a minute between looks, so only the read model's news
	// can bring the versions to the portal in time.
	for round := int64(1); round <= 3; round++ {
		for _, d := range ds {
			versions(t, st, d, round, round)
		}
		require.Eventually(t, func() bool {
			for _, d := range ds {
				got := portal.published(d.Code)
				if len(got) == 0 || got[len(got)-1] != round {
					return false
				}
			}
			return true
		}, 15*time.Second, 10*time.Millisecond, "round %d reached the portal", round)
	}
	portal.mu.Lock()
	defer portal.mu.Unlock()
	require.Zero(t, portal.overlaps, "no dossier was published by two feeds at once")
	for _, d := range ds {
		got := portal.calls[d.Code]
		for i := 1; i < len(got); i++ {
			require.Greater(t, got[i], got[i-1], "%s reached the portal in order: %v", d.Code, got)
		}
	}
}
