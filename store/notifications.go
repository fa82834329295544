package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
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
func (s *Store) newTeller(ctx context.Context, tx pgx.Tx, code string) (*teller, error) {
	// Concurrent writes of one dossier take turns here, so each derives from
	// the version the other left. The snapshot's update would take the same
	// row lock a moment later, so taking it first costs nothing.
	var c notify.Contact
	err := tx.QueryRow(ctx, `SELECT COALESCE(c.phone, ''), COALESCE(c.email, '')
		FROM engine.dossiers d LEFT JOIN engine.notification_contacts c ON c.code = d.code
		WHERE d.code = $1 FOR UPDATE OF d`, code).Scan(&c.Phone, &c.Email)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	t := &teller{channels: c.Channels()}
	if len(t.channels) == 0 {
		return t, nil
	}
	t.prev, err = getSnapshot(ctx, tx, code)
	return t, err
}

// tell queues the notifications of the move to snap, one per channel, and
// makes snap the version the next one is compared with.
func (t *teller) tell(b *pgx.Batch, snap dossier.Snapshot, s *Store, now time.Time) {
	if len(t.channels) == 0 {
		return
	}
	for _, n := range notify.Derive(t.prev, snap, s.cal) {
		for _, ch := range t.channels {
			subject, body := n.Text(ch)
			b.Queue(`INSERT INTO engine.notifications
				(code, version, kind, step, channel, subject, body, created_at, next_attempt_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
				ON CONFLICT (code, version, kind, step, channel) DO NOTHING`,
				snap.Code, snap.Version, string(n.Kind), string(n.Step), string(ch), subject, body, now)
		}
	}
	t.prev = snap
}

const messageColumns = `n.id, n.code, n.version, n.kind, n.step, n.channel, n.subject, n.body, n.state, n.attempts,
	n.last_error, n.created_at, n.sent_at, COALESCE(CASE n.channel WHEN 'sms' THEN c.phone ELSE c.email END, '')`

func scanMessage(row pgx.CollectableRow) (notify.Message, error) {
	var m notify.Message
	var kind, step, channel, state string
	err := row.Scan(&m.ID, &m.Code, &m.Version, &kind, &step, &channel, &m.Subject, &m.Body, &state, &m.Attempts,
		&m.LastError, &m.CreatedAt, &m.SentAt, &m.To)
	m.Kind, m.Step, m.Channel, m.State = notify.Kind(kind), dossier.StepKind(step), notify.Channel(channel), notify.State(state)
	return m, err
}

// Notifications lists what a dossier's applicant was told or is about to
// be, in the order it is sent, each with its recipient.
func (s *Store) Notifications(ctx context.Context, code string) ([]notify.Message, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+messageColumns+`
		FROM engine.notifications n LEFT JOIN engine.notification_contacts c ON c.code = n.code
		WHERE n.code = $1 ORDER BY n.id`, code)
	if err != nil {
		return nil, translate(err, "reading notifications")
	}
	ms, err := pgx.CollectRows(rows, scanMessage)
	return ms, translate(err, "reading notifications")
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
	rows, err := tx.Query(ctx, `SELECT `+messageColumns+`
		FROM engine.notifications n JOIN engine.notification_contacts c ON c.code = n.code
		WHERE n.state = 'pending' AND n.next_attempt_at <= now()
		  AND NOT EXISTS (SELECT 1 FROM engine.notifications e
		                  WHERE e.code = n.code AND e.state = 'pending' AND e.id < n.id)
		ORDER BY n.next_attempt_at, n.id
		LIMIT $1
		FOR UPDATE OF n SKIP LOCKED`, limit)
	if err != nil {
		return 0, err
	}
	ms, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return 0, err
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
		if err := recordOutcome(ctx, tx, m.ID, outcomes[i]); err != nil {
			return len(ms), err
		}
	}
	return len(ms), tx.Commit(ctx)
}

func recordOutcome(ctx context.Context, tx pgx.Tx, id int64, o notify.Outcome) error {
	var err error
	switch {
	case o.Err == nil:
		_, err = tx.Exec(ctx, `UPDATE engine.notifications SET state = 'sent', sent_at = $2, attempts = attempts + 1, last_error = ''
			WHERE id = $1`, id, o.At)
	case o.Permanent:
		_, err = tx.Exec(ctx, `UPDATE engine.notifications SET state = 'failed', attempts = attempts + 1, last_error = $2
			WHERE id = $1`, id, o.Err.Error())
	default:
		_, err = tx.Exec(ctx, `UPDATE engine.notifications SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
			WHERE id = $1`, id, o.Err.Error(), o.RetryAt)
	}
	return err
}

// NotificationBacklog implements notify.Outbox.
func (s *Store) NotificationBacklog(ctx context.Context) (int, time.Duration, error) {
	var n int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM engine.notifications WHERE state = 'pending'`).Scan(&n, &oldest)
	if err != nil || oldest == nil {
		return n, 0, translate(err, "reading the notification backlog")
	}
	return n, time.Since(*oldest), nil
}

// PurgeContacts forgets the phone and e-mail of dossiers that ended before
// endedBefore and have nothing left to send: they were copied only to tell
// the applicant, and the applicant has been told. It returns how many it
// forgot, at most limit per call.
func (s *Store) PurgeContacts(ctx context.Context, endedBefore time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM engine.notification_contacts WHERE code IN (
		SELECT c.code FROM engine.notification_contacts c JOIN engine.dossiers d ON d.code = c.code
		WHERE d.completed_at IS NOT NULL AND d.completed_at < $1
		  AND NOT EXISTS (SELECT 1 FROM engine.notifications n WHERE n.code = c.code AND n.state = 'pending')
		LIMIT $2)`, endedBefore, limit)
	if err != nil {
		return 0, translate(err, "purging notification contacts")
	}
	return tag.RowsAffected(), nil
}
