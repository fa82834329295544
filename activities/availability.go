package activities

import (
	"errors"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"
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

// Observe records the outcome of one call to agency: err as the activity
// returns it. A refusal is an answer: the agency is up and said no.
func (v *Availability) Observe(agency string, err error) {
	if v == nil {
		return
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.init()
	since, failing := v.failingSince[agency]
	if transient(err) {
		if !failing {
			v.failingSince[agency] = now()
		}
		return
	}
	delete(v.failingSince, agency)
	downAfter := v.DownAfter
	if downAfter <= 0 {
		downAfter = 30 * time.Second
	}
	if failing && now().Sub(since) >= downAfter {
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
