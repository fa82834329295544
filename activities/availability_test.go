package activities_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/activities"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestAvailabilityTellsAReturn(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	v := &activities.Availability{DownAfter: 30 * time.Second, Now: func() time.Time { return now }}
	down := temporal.NewApplicationError("UNAVAILABLE: down", activities.ErrUnavailable)
	login := temporal.NewApplicationError("UNAUTHENTICATED: login", activities.ErrUnauthenticated)
	refused := temporal.NewNonRetryableApplicationError("INVALID_ARGUMENT: no", activities.ErrRefused, nil)
	returned := func() []activities.Return {
		var out []activities.Return
		for {
			select {
			case r := <-v.Returns():
				out = append(out, r)
			default:
				return out
			}
		}
	}

	// A transient error among answers is no outage.
	v.Observe("police", down)
	now = now.Add(10 * time.Second)
	v.Observe("police", nil)
	require.Empty(t, returned())

	// Failing every call for a minute is; the first answer after it is a return.
	began := now
	v.Observe("police", down)
	now = now.Add(time.Minute)
	v.Observe("police", login)
	v.Observe("insurance", errors.New("connection refused"))
	v.Observe("police", nil)
	require.Equal(t, []activities.Return{{Agency: "police", Since: began}}, returned())
	// Told once: the next answers are plain answers.
	v.Observe("police", nil)
	require.Empty(t, returned())

	// A refusal is an answer too; insurance had failed for less than DownAfter.
	now = now.Add(20 * time.Second)
	v.Observe("insurance", refused)
	require.Empty(t, returned())

	// A nil Availability hears nothing and does not panic.
	var none *activities.Availability
	none.Observe("police", down)
}

// A worker that starts while steps wait out an outage counts their agency as
// down at once, so the agency's first answer is a return.
func TestSuspectCountsAnAgencyDown(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	v := &activities.Availability{DownAfter: 30 * time.Second, Now: func() time.Time { return now }}
	require.Empty(t, v.Down())
	v.Suspect("police")
	require.Equal(t, []string{"police"}, v.Down())
	v.Observe("police", nil)
	r := <-v.Returns()
	require.Equal(t, "police", r.Agency)
	require.Empty(t, v.Down())

	// An agency already failing keeps the time its failures began: it is
	// down only once they have lasted DownAfter.
	v.Observe("insurance", errors.New("connection refused"))
	v.Suspect("insurance")
	require.Empty(t, v.Down())
	now = now.Add(time.Minute)
	require.Equal(t, []string{"insurance"}, v.Down())
}

// desk answers GetCase as its agency would: NotFound when up, Unavailable when down.
type desk struct {
	agencyv1.CaseServiceClient
	up    atomic.Bool
	calls atomic.Int32
}

func (d *desk) GetCase(context.Context, *agencyv1.GetCaseRequest, ...grpc.CallOption) (*agencyv1.GetCaseResponse, error) {
	d.calls.Add(1)
	if d.up.Load() {
		return nil, status.Error(codes.NotFound, "no such case")
	}
	return nil, status.Error(codes.Unavailable, "down")
}

// The probe asks only the agencies that count as down, and its NotFound from
// an agency that is up again tells the return.
func TestProbeSeesAQuietAgencyReturn(t *testing.T) {
	t.Parallel()
	v := &activities.Availability{DownAfter: time.Millisecond}
	police, insurance := &desk{}, &desk{}
	insurance.up.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.Probe(ctx, map[string]agencyv1.CaseServiceClient{"police": police, "insurance": insurance}, 5*time.Millisecond, time.Second)
	}()
	defer func() { cancel(); <-done }()

	v.Suspect("police")
	require.Eventually(t, func() bool { return police.calls.Load() >= 2 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"police"}, v.Down(), "an unavailable answer is no return")
	select {
	case r := <-v.Returns():
		t.Fatalf("return %v while police is down", r)
	default:
	}

	police.up.Store(true)
	select {
	case r := <-v.Returns():
		require.Equal(t, "police", r.Agency)
	case <-time.After(5 * time.Second):
		t.Fatal("the probe did not see police return")
	}
	require.Empty(t, v.Down())
	require.Zero(t, insurance.calls.Load(), "an agency that is up is not probed")
}
