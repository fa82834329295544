package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// ThrottlePolicy says how failures on one key grow into refusals: Free
// failures within Window cost nothing, then each further one refuses the
// key for Base, doubled per failure, up to Max.
type ThrottlePolicy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
}

// Delay is how long the key is refused after its n-th failure.
func (p ThrottlePolicy) Delay(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	d := p.Base << min(n-p.Free-1, 30)
	if d <= 0 || d > p.Max {
		return p.Max
	}
	return d
}

// ThrottleKey is one key an attempt counts against, with its policy.
type ThrottleKey struct {
	Key    string
	Policy ThrottlePolicy
}

// ThrottleVerdict is what ThrottleAttempt decided.
type ThrottleVerdict struct {
	// Refused: a key was refusing already, so the attempt may not be
	// judged; it counted nothing and left no row.
	Refused bool
	// Until is when the caller may try again: while refused, or once this
	// attempt, if it turns out wrong, has used the last free try. Zero when
	// nothing refuses.
	Until time.Time
}

// ThrottleAttempt counts an attempt against every key before it is judged,
// in one transaction with the check, so concurrent attempts (on any
// replica) are counted one after another and a burst gets no more tries
// than a sequence. Keys are locked in order, so attempts never deadlock. A
// key refusing at now refuses the attempt, which then counts nothing. An
// attempt that turns out right is handed back with ThrottleSucceeded.
func (s *Store) ThrottleAttempt(ctx context.Context, keys []ThrottleKey, now time.Time) (ThrottleVerdict, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b ThrottleKey) int { return strings.Compare(a.Key, b.Key) })
	// A refused client is told so by one read: a flood of refused attempts
	// costs no writes. The transaction below checks again, atomically.
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Key
	}
	until, err := s.q.ThrottleRefusing(ctx, enginedb.ThrottleRefusingParams{Keys: names, Now: now})
	if err == nil {
		return ThrottleVerdict{Refused: true, Until: until}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return ThrottleVerdict{}, translate(err, "reading the look-up throttle")
	}
	var v ThrottleVerdict
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := enginedb.New(tx)
		for _, k := range keys {
			key, p := k.Key, k.Policy
			counted, err := q.ThrottleCount(ctx, enginedb.ThrottleCountParams{Key: key, Now: now, WindowStart: now.Add(-p.Window)})
			if err != nil {
				return err
			}
			n, blocked := int(counted.Failures), counted.BlockedUntil
			if blocked.After(now) {
				v = ThrottleVerdict{Refused: true, Until: blocked}
				return errRefused
			}
			if d := p.Delay(n); d > 0 {
				until := now.Add(d)
				if err := q.ThrottleBlock(ctx, enginedb.ThrottleBlockParams{Key: key, BlockedUntil: until}); err != nil {
					return err
				}
				if until.After(v.Until) {
					v.Until = until
				}
			}
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return v, nil
	}
	return v, translate(err, "counting a look-up")
}

// errRefused rolls back a refused attempt's counts.
var errRefused = errors.New("refused")

// ThrottleSucceeded hands back an attempt that turned out right: clear's
// count is forgotten (its row removed) and each of refund's counts one less.
func (s *Store) ThrottleSucceeded(ctx context.Context, clear string, refund []string) error {
	err := s.q.ThrottleSucceeded(ctx, enginedb.ThrottleSucceededParams{Clear: clear, Refund: refund})
	return translate(err, "clearing the look-up throttle")
}

// PruneThrottle drops rows whose window and refusal are over, then, beyond
// max, the oldest rows not refusing anyone, and only then refusing ones,
// and returns how many it dropped. A flood of made-up codes, even from many
// clients, pushes out the oldest counts before any refusal; it never stops
// new failures from being counted.
func (s *Store) PruneThrottle(ctx context.Context, now time.Time, window time.Duration, max int) (int64, error) {
	n, err := s.q.PruneThrottleExpired(ctx, enginedb.PruneThrottleExpiredParams{IdleBefore: now.Add(-window), Now: now})
	if err != nil {
		return 0, translate(err, "pruning the look-up throttle")
	}
	oldest, err := s.q.PruneThrottleOldest(ctx, enginedb.PruneThrottleOldestParams{Keep: int64(max), Now: now})
	if err != nil {
		return n, translate(err, "pruning the look-up throttle")
	}
	return n + oldest, nil
}
