package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

// ThrottledUntil is the latest time any of keys is refused until, or the
// zero time when none is refused at now.
func (s *Store) ThrottledUntil(ctx context.Context, keys []string, now time.Time) (time.Time, error) {
	var until *time.Time
	err := s.pool.QueryRow(ctx, `SELECT max(blocked_until) FROM engine.lookup_throttle
		WHERE key = ANY($1) AND blocked_until > $2`, keys, now).Scan(&until)
	if err != nil || until == nil {
		return time.Time{}, translate(err, "reading the look-up throttle")
	}
	return *until, nil
}

// ThrottleKey is one key a failure counts against, with its policy.
type ThrottleKey struct {
	Key    string
	Policy ThrottlePolicy
}

// ThrottleFailure records one failure on each key under its policy, in one
// transaction, and returns until when the caller is now refused. Keys are
// taken in order, so concurrent failures never deadlock.
func (s *Store) ThrottleFailure(ctx context.Context, keys []ThrottleKey, now time.Time) (time.Time, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b ThrottleKey) int { return strings.Compare(a.Key, b.Key) })
	var until time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, k := range keys {
			key, p := k.Key, k.Policy
			var n int
			if err := tx.QueryRow(ctx, `INSERT INTO engine.lookup_throttle AS t (key, failures, window_start, blocked_until, updated_at)
				VALUES ($1, 1, $2, $2, $2)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN t.window_start < $3 THEN 1 ELSE t.failures + 1 END,
					window_start = CASE WHEN t.window_start < $3 THEN $2 ELSE t.window_start END,
					updated_at = $2
				RETURNING failures`, key, now, now.Add(-p.Window)).Scan(&n); err != nil {
				return err
			}
			if d := p.Delay(n); d > 0 {
				blocked := now.Add(d)
				if _, err := tx.Exec(ctx, `UPDATE engine.lookup_throttle SET blocked_until = $2 WHERE key = $1`, key, blocked); err != nil {
					return err
				}
				if blocked.After(until) {
					until = blocked
				}
			}
		}
		return nil
	})
	return until, translate(err, "recording a failed look-up")
}

// ThrottleClear forgets key's failures: a right answer resets its count.
func (s *Store) ThrottleClear(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM engine.lookup_throttle WHERE key = $1`, key)
	return translate(err, "clearing the look-up throttle")
}

// PruneThrottle drops rows whose window and refusal are over, then the
// oldest rows beyond max, and returns how many it dropped. A flood of made-up
// codes can only push out the oldest rows; it never stops new failures
// from being counted.
func (s *Store) PruneThrottle(ctx context.Context, now time.Time, window time.Duration, max int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM engine.lookup_throttle WHERE updated_at < $1 AND blocked_until < $2`, now.Add(-window), now)
	if err != nil {
		return 0, translate(err, "pruning the look-up throttle")
	}
	n := tag.RowsAffected()
	tag, err = s.pool.Exec(ctx, `DELETE FROM engine.lookup_throttle WHERE key IN (
		SELECT key FROM engine.lookup_throttle ORDER BY updated_at
		LIMIT greatest((SELECT count(*) FROM engine.lookup_throttle) - $1, 0))`, max)
	if err != nil {
		return n, translate(err, "pruning the look-up throttle")
	}
	return n + tag.RowsAffected(), nil
}
