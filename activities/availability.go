package activities

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Availability watches each agency's answers to this worker's calls and says
// when an agency that was down answers again. The steps held by the outage
// sleep on backoffs that grow to minutes; told at once, they need not wait
// them out (stack's resume sweep signals them). An agency counts as down once
// it has failed every call for DownAfter: a few transient errors among
// successes are the retries' business, not a sweep's.
type Availability struct {
	// DownAfter is how long an agency must fail every call to count as down (30 s).
	DownAfter time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu sync.Mutex
	// failingSince holds, per agency, the first failure since its last answer.
	failingSince map[string]time.Time
	back         chan Return
}

// Return is an agency answering again after being down since Since.
type Return struct {
	Agency string
	Since  time.Time
}

// Returns delivers the agencies that answer again. It holds a few; when its
// reader is behind, a return that finds it full is dropped, as the sweep
// already under way wakes the same steps.
func (v *Availability) Returns() <-chan Return {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.init()
	return v.back
}

func (v *Availability) init() {
	if v.back == nil {
		v.back = make(chan Return, 8)
		v.failingSince = map[string]time.Time{}
	}
}

func (v *Availability) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Availability) downAfter() time.Duration {
	if v.DownAfter <= 0 {
		return 30 * time.Second
	}
	return v.DownAfter
}

// Observe records the outcome of one call to agency: err as the activity
// returns it. A refusal is an answer: the agency is up and said no.
func (v *Availability) Observe(agency string, err error) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.init()
	since, failing := v.failingSince[agency]
	if transient(err) {
		if !failing {
			v.failingSince[agency] = v.now()
		}
		return
	}
	delete(v.failingSince, agency)
	if failing && v.now().Sub(since) >= v.downAfter() {
		select {
		case v.back <- Return{Agency: agency, Since: since}:
		default:
		}
	}
}

// transient says err is an outage, a timeout or a failed login: the kinds the
// workflow retries.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type() != ErrRefused
	}
	return true
}

// Suspect counts agency as down from now on, unless a call to it is already
// failing: a worker that starts while steps wait out an outage on agency
// (the read model says so) never saw the outage begin, yet must sweep those
// steps once the agency answers.
func (v *Availability) Suspect(agency string) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.init()
	if _, failing := v.failingSince[agency]; !failing {
		v.failingSince[agency] = v.now().Add(-v.downAfter())
	}
}

// Down lists, sorted, the agencies that have failed every call for DownAfter.
func (v *Availability) Down() []string {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var down []string
	for agency, since := range v.failingSince {
		if v.now().Sub(since) >= v.downAfter() {
			down = append(down, agency)
		}
	}
	slices.Sort(down)
	return down
}

// probeKey names no case: the probe's answer is NotFound from an agency
// that is up.
const probeKey = "lienthong/availability-probe"

// Probe asks each agency that counts as down, every interval until ctx ends,
// for a case no dossier has, and records the outcome as a call's. Steps held
// by a long outage call again only when woken, so without the probe a quiet
// agency's return could go unseen until some new dossier called it.
func (v *Availability) Probe(ctx context.Context, desks map[string]agencyv1.CaseServiceClient, every, timeout time.Duration) {
	if v == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, agency := range v.Down() {
			desk, ok := desks[agency]
			if !ok {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			_, err := desk.GetCase(cctx, &agencyv1.GetCaseRequest{IdempotencyKey: probeKey})
			cancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				err = classify(err)
			}
			v.Observe(agency, err)
		}
	}
}
