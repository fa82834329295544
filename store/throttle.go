package store

import (
	"context"
	"errors"
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
	var until *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT max(blocked_until) FROM engine.lookup_throttle
		WHERE key = ANY($1) AND blocked_until > $2`, names, now).Scan(&until); err != nil {
		return ThrottleVerdict{}, translate(err, "reading the look-up throttle")
	}
	if until != nil {
		return ThrottleVerdict{Refused: true, Until: *until}, nil
	}
	var v ThrottleVerdict
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, k := range keys {
			key, p := k.Key, k.Policy
			var n int
			var blocked time.Time
			// A refusing key is locked and left as it is. A new key refuses
			// nobody, whatever the clock of a concurrent attempt says.
			if err := tx.QueryRow(ctx, `INSERT INTO engine.lookup_throttle AS t (key, failures, window_start, blocked_until, updated_at)
				VALUES ($1, 1, $2, 'epoch', $2)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN t.blocked_until > $2 THEN t.failures
						WHEN t.window_start < $3 THEN 1 ELSE t.failures + 1 END,
					window_start = CASE WHEN t.blocked_until <= $2 AND t.window_start < $3 THEN $2 ELSE t.window_start END,
					updated_at = CASE WHEN t.blocked_until > $2 THEN t.updated_at ELSE $2 END
				RETURNING failures, blocked_until`, key, now, now.Add(-p.Window)).Scan(&n, &blocked); err != nil {
				return err
			}
			if blocked.After(now) {
				v = ThrottleVerdict{Refused: true, Until: blocked}
				return errRefused
			}
			if d := p.Delay(n); d > 0 {
				until := now.Add(d)
				if _, err := tx.Exec(ctx, `UPDATE engine.lookup_throttle SET blocked_until = $2 WHERE key = $1`, key, until); err != nil {
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
	_, err := s.pool.Exec(ctx, `WITH cleared AS (DELETE FROM engine.lookup_throttle WHERE key = $1)
		UPDATE engine.lookup_throttle SET failures = greatest(failures - 1, 0) WHERE key = ANY($2)`, clear, refund)
	return translate(err, "clearing the look-up throttle")
}

// PruneThrottle drops rows whose window and refusal are over, then, beyond
// max, the oldest rows not refusing anyone, and only then refusing ones,
// and returns how many it dropped. A flood of made-up codes, even from many
// clients, pushes out the oldest counts before any refusal; it never stops
// new failures from being counted.
func (s *Store) PruneThrottle(ctx context.Context, now time.Time, window time.Duration, max int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM engine.lookup_throttle WHERE updated_at < $1 AND blocked_until < $2`, now.Add(-window), now)
	if err != nil {
		return 0, translate(err, "pruning the look-up throttle")
	}
	n := tag.RowsAffected()
	tag, err = s.pool.Exec(ctx, `DELETE FROM engine.lookup_throttle WHERE key IN (
		SELECT key FROM engine.lookup_throttle ORDER BY blocked_until > $2, updated_at
		LIMIT greatest((SELECT count(*) FROM engine.lookup_throttle) - $1, 0))`, max, now)
	if err != nil {
		return n, translate(err, "pruning the look-up throttle")
	}
	return n + tag.RowsAffected(), nil
}
