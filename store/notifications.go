package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// The notifications outbox. ApplySnapshots writes a dossier's messages in the
// transaction that writes the versions causing them, so a version is in the
// read model if and only if its messages are in the outbox; the dispatcher
// (notify.Dispatcher) sends them through DispatchNotifications.

// teller derives one dossier's notifications as ApplySnapshots writes its
// versions, from the version the read model held before each.
type teller struct {
	prev     dossier.Snapshot
	channels []notify.Channel
}

// newTeller locks the dossier, reads where its applicant is told and, if
// anywhere, reads the version the read model holds. A dossier
// without channels gets a teller that tells nothing.
func (s *Store) newTeller(ctx context.Context, q *enginedb.Queries, code string) (*teller, error) {
	// Concurrent writes of one dossier take turns here, so each derives from
	// the version the other left. The snapshot's update would take the same
	// row lock a moment later, so taking it first costs nothing.
	c, err := q.LockDossierContact(ctx, code)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	t := &teller{channels: notify.Contact{Phone: c.Phone, Email: c.Email}.Channels()}
	if len(t.channels) == 0 {
		return t, nil
	}
	t.prev, err = getSnapshot(ctx, q, code)
	return t, err
}

// tell queues the notifications of the move to snap, one per channel, and
// makes snap the version the next one is compared with.
func (t *teller) tell(ctx context.Context, q *enginedb.Queries, snap dossier.Snapshot, s *Store, now time.Time) error {
	if len(t.channels) == 0 {
		return nil
	}
	for _, n := range notify.Derive(t.prev, snap, s.cal) {
		for _, ch := range t.channels {
			subject, body := n.Text(ch)
			if err := q.InsertNotification(ctx, enginedb.InsertNotificationParams{
				Code: snap.Code, Version: snap.Version, Kind: string(n.Kind), Step: string(n.Step), Channel: string(ch),
				Subject: subject, Body: body, CreatedAt: now,
			}); err != nil {
				return err
			}
		}
	}
	t.prev = snap
	return nil
}

// message is a row of the outbox as Notifications and ClaimNotifications
// read it, with its recipient.
func message(r enginedb.NotificationsRow) notify.Message {
	return notify.Message{
		ID: r.ID,
		Key: notify.Key{Code: r.Code, Version: r.Version, Kind: notify.Kind(r.Kind), Step: dossier.StepKind(r.Step),
			Channel: notify.Channel(r.Channel)},
		Subject: r.Subject, Body: r.Body, State: notify.State(r.State),
		Attempts: int(r.Attempts), LastError: r.LastError, CreatedAt: r.CreatedAt, SentAt: r.SentAt, To: r.Recipient,
	}
}

// Notifications lists what a dossier's applicant was told or is about to
// be, in the order it is sent, each with its recipient.
func (s *Store) Notifications(ctx context.Context, code string) ([]notify.Message, error) {
	rows, err := s.q.Notifications(ctx, code)
	if err != nil {
		return nil, translate(err, "reading notifications")
	}
	ms := make([]notify.Message, 0, len(rows))
	for _, r := range rows {
		ms = append(ms, message(r))
	}
	return ms, nil
}

// DispatchNotifications implements notify.Outbox. The claim takes only the
// head of each dossier's line (no earlier row of the dossier is pending), so
// however many dispatchers run, a dossier's messages go out one at a time,
// in order; SKIP LOCKED lets each dispatcher pass over the heads another
// holds.
func (s *Store) DispatchNotifications(ctx context.Context, limit int, send notify.Sender) (int, error) {
	claimed, err := s.dispatch(ctx, limit, send)
	return claimed, translate(err, "dispatching notifications")
}

func (s *Store) dispatch(ctx context.Context, limit int, send notify.Sender) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	// Rolled back even when ctx is done, so a stopped dispatcher's claims
	// are released at once rather than when the server notices the
	// connection is gone. After a commit this does nothing.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	q := enginedb.New(tx)
	rows, err := q.ClaimNotifications(ctx, int32(limit))
	if err != nil {
		return 0, err
	}
	ms := make([]notify.Message, 0, len(rows))
	for _, r := range rows {
		ms = append(ms, message(enginedb.NotificationsRow(r)))
	}
	outcomes := make([]notify.Outcome, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { outcomes[i] = send(ctx, m) })
	}
	wg.Wait()
	// A dispatcher stopped mid-send records nothing: its rows stay pending
	// and go out again under the same message ids, which the channels
	// recognise.
	if err := ctx.Err(); err != nil {
		return len(ms), err
	}
	for i, m := range ms {
		if err := recordOutcome(ctx, q, m.ID, outcomes[i]); err != nil {
			return len(ms), err
		}
	}
	return len(ms), tx.Commit(ctx)
}

func recordOutcome(ctx context.Context, q *enginedb.Queries, id int64, o notify.Outcome) error {
	switch {
	case o.Err == nil:
		return q.NotificationSent(ctx, enginedb.NotificationSentParams{ID: id, SentAt: &o.At})
	case o.Permanent:
		return q.NotificationFailed(ctx, enginedb.NotificationFailedParams{ID: id, LastError: o.Err.Error()})
	default:
		return q.NotificationRetry(ctx, enginedb.NotificationRetryParams{ID: id, LastError: o.Err.Error(), NextAttemptAt: o.RetryAt})
	}
}

// NotificationBacklog implements notify.Outbox.
func (s *Store) NotificationBacklog(ctx context.Context) (int, time.Duration, error) {
	b, err := s.q.NotificationBacklog(ctx)
	oldest := nullTime(b.Oldest)
	if err != nil || oldest == nil {
		return int(b.Count), 0, translate(err, "reading the notification backlog")
	}
	return int(b.Count), time.Since(*oldest), nil
}

// PurgeContacts forgets the phone and e-mail of dossiers that ended before
// endedBefore and have nothing left to send: they were copied only to tell
// the applicant, and the applicant has been told. It returns how many it
// forgot, at most limit per call.
func (s *Store) PurgeContacts(ctx context.Context, endedBefore time.Time, limit int) (int64, error) {
	n, err := s.q.PurgeContacts(ctx, enginedb.PurgeContactsParams{CompletedAt: &endedBefore, Limit: int32(limit)})
	if err != nil {
		return 0, translate(err, "purging notification contacts")
	}
	return n, nil
}
