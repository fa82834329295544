package activities_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/lienthong/lienthong/activities"
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
