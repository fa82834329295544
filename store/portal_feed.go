package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// PortalFeedChannel is the PostgreSQL notification channel ApplySnapshots
// signals when the portal has something new to show.
const PortalFeedChannel = "lienthong_portal_feed"

// queuePortalFeed raises the version the portal should show, and wakes the
// feed when the transaction commits (PostgreSQL folds a transaction's equal
// notifications into one).
func queuePortalFeed(ctx context.Context, q *enginedb.Queries, snap dossier.Snapshot) error {
	if err := q.RaisePortalFeed(ctx, enginedb.RaisePortalFeedParams{Code: snap.Code, Wanted: snap.Version}); err != nil {
		return err
	}
	return q.Notify(ctx, PortalFeedChannel)
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
	rows, err := s.q.ClaimPortalFeed(ctx, enginedb.ClaimPortalFeedParams{Lim: int32(limit), LeaseSeconds: lease.Seconds()})
	if err != nil {
		return nil, translate(err, "claiming the portal feed")
	}
	due := make([]PortalDue, 0, len(rows))
	for _, r := range rows {
		due = append(due, PortalDue{Code: r.Code, Attempts: int(r.Attempts)})
	}
	return due, nil
}

// PortalPublished records that the portal holds version of code, releases
// the lease, and marks every version up to it synced to the portal. It
// returns when each newly synced version was decided, for the lag.
func (s *Store) PortalPublished(ctx context.Context, code string, version int64, at time.Time) ([]time.Time, error) {
	var decided []time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := enginedb.New(tx)
		if err := q.PortalPublished(ctx, enginedb.PortalPublishedParams{Code: code, Version: version}); err != nil {
			return err
		}
		all, err := q.PortalSynced(ctx, enginedb.PortalSyncedParams{Code: code, Version: version, At: &at})
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
	err := s.q.PortalFailed(ctx, enginedb.PortalFailedParams{Code: code, LastError: cause.Error(), NextAttemptAt: retryAt})
	return translate(err, "recording a portal failure")
}

// PortalBacklog is how many dossiers the portal is behind on, and since
// when the oldest has been due.
func (s *Store) PortalBacklog(ctx context.Context) (int, time.Duration, error) {
	b, err := s.q.PortalBacklog(ctx)
	oldest := nullTime(b.Oldest)
	if err != nil || oldest == nil {
		return int(b.Count), 0, translate(err, "reading the portal backlog")
	}
	return int(b.Count), max(time.Since(*oldest), 0), nil
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
