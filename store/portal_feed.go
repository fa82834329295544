package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
)

// PortalFeedChannel is the PostgreSQL notification channel ApplySnapshots
// signals when the portal has something new to show.
const PortalFeedChannel = "lienthong_portal_feed"

// queuePortalFeed raises the version the portal should show, and wakes the
// feed when the transaction commits (PostgreSQL folds a transaction's equal
// notifications into one).
func queuePortalFeed(b *pgx.Batch, snap dossier.Snapshot) {
	b.Queue(`INSERT INTO engine.portal_feed (code, wanted) VALUES ($1, $2)
		ON CONFLICT (code) DO UPDATE SET wanted = GREATEST(engine.portal_feed.wanted, EXCLUDED.wanted)`,
		snap.Code, snap.Version)
	b.Queue(`SELECT pg_notify($1, '')`, PortalFeedChannel)
}

// PortalDue is a dossier whose portal status is behind the read model.
type PortalDue struct {
	Code     string
	Attempts int
}

// ClaimPortalFeed leases up to limit dossiers whose portal status is behind
// and due, oldest due first, until now+lease. A leased dossier is no one
// else's until it is published, failed, or the lease passes.
func (s *Store) ClaimPortalFeed(ctx context.Context, limit int, lease time.Duration) ([]PortalDue, error) {
	rows, err := s.pool.Query(ctx, `UPDATE engine.portal_feed f SET leased_until = now() + make_interval(secs => $2)
		WHERE f.code IN (
			SELECT code FROM engine.portal_feed
			WHERE wanted > published AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
			ORDER BY next_attempt_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING f.code, f.attempts`, limit, lease.Seconds())
	if err != nil {
		return nil, translate(err, "claiming the portal feed")
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PortalDue, error) {
		var d PortalDue
		return d, r.Scan(&d.Code, &d.Attempts)
	})
	return due, translate(err, "claiming the portal feed")
}

// PortalPublished records that the portal holds version of code, releases
// the lease, and marks every version up to it synced to the portal. It
// returns when each newly synced version was decided, for the lag.
func (s *Store) PortalPublished(ctx context.Context, code string, version int64, at time.Time) ([]time.Time, error) {
	var decided []time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE engine.portal_feed SET published = GREATEST(published, $2), leased_until = NULL,
			attempts = 0, last_error = '', next_attempt_at = now() WHERE code = $1`, code, version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE engine.status_history SET portal_synced_at = $3
			WHERE code = $1 AND version <= $2 AND portal_synced_at IS NULL RETURNING decided_at`, code, version, at)
		if err != nil {
			return err
		}
		all, err := pgx.CollectRows(rows, pgx.RowTo[*time.Time])
		for _, t := range all {
			if t != nil { // versions no agency decided carry no lag
				decided = append(decided, *t)
			}
		}
		return err
	})
	return decided, translate(err, "recording a portal publication")
}

// PortalFailed releases code's lease after a failed publication and makes
// it due again at retryAt.
func (s *Store) PortalFailed(ctx context.Context, code string, cause error, retryAt time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE engine.portal_feed SET leased_until = NULL, attempts = attempts + 1,
		last_error = $2, next_attempt_at = $3 WHERE code = $1`, code, cause.Error(), retryAt)
	return translate(err, "recording a portal failure")
}

// PortalBacklog is how many dossiers the portal is behind on, and since
// when the oldest has been due.
func (s *Store) PortalBacklog(ctx context.Context) (int, time.Duration, error) {
	var n int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(next_attempt_at) FROM engine.portal_feed WHERE wanted > published`).Scan(&n, &oldest)
	if err != nil || oldest == nil {
		return n, 0, translate(err, "reading the portal backlog")
	}
	return n, max(time.Since(*oldest), 0), nil
}

// PortalNews is a connection of its own that waits for the portal feed's
// wake-ups.
type PortalNews struct{ conn *pgx.Conn }

// ListenPortalNews takes a connection out of the pool to wait for news of
// the feed on, until Close.
func (s *Store) ListenPortalNews(ctx context.Context) (*PortalNews, error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate(err, "listening for portal news")
	}
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+PortalFeedChannel); err != nil {
		_ = conn.Close(context.Background())
		return nil, translate(err, "listening for portal news")
	}
	return &PortalNews{conn: conn}, nil
}

// Wait returns when there is news, or after d. An error means the
// connection is gone: close it and listen again.
func (n *PortalNews) Wait(ctx context.Context, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := n.conn.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil && !n.conn.IsClosed() {
		return nil // no news in d
	}
	return err
}

// Close closes the connection.
func (n *PortalNews) Close() { _ = n.conn.Close(context.Background()) }
