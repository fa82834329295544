package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/store"
)

var both = notify.Contact{Phone: "+84912345678", Email: "nguoinop@example.vn"}

// deathRun is a death dossier's versions as a workflow makes them: received,
// sent, a supplement asked and answered, both procedures approved, the last
// with a later appointment, completed.
func deathRun(created dossier.Snapshot) []dossier.Snapshot {
	at := created.ReceivedAt
	var out []dossier.Snapshot
	cur := created
	commit := func(change func(*dossier.Snapshot)) {
		cur.Steps = append([]dossier.Step(nil), cur.Steps...)
		cur.Version++
		cur.At = at.Add(time.Duration(cur.Version) * time.Minute)
		change(&cur)
		if !cur.Status.Terminal() {
			cur.Status = cur.DerivedStatus()
		}
		out = append(out, cur)
	}
	set := func(k dossier.StepKind, st dossier.StepStatus) func(*dossier.Snapshot) {
		return func(s *dossier.Snapshot) {
			p := s.Step(k)
			p.Status, p.StatusSince, p.UpdatedAt = st, s.At, s.At
			if st == dossier.StepNeedsSupplement {
				p.Missing = []string{"death_notice"}
			} else {
				p.Missing = nil
			}
			s.ChangedStep = k
		}
	}
	commit(func(*dossier.Snapshot) {})
	commit(set(dossier.StepDeathRegistration, dossier.StepSending))
	commit(set(dossier.StepDeathRegistration, dossier.StepNeedsSupplement))
	commit(set(dossier.StepDeathRegistration, dossier.StepAwaitingAgency))
	commit(set(dossier.StepDeathRegistration, dossier.StepApproved))
	commit(func(s *dossier.Snapshot) {
		set(dossier.StepResidenceCancellation, dossier.StepApproved)(s)
		s.AppointmentAt = s.AppointmentAt.Add(48 * time.Hour)
	})
	commit(func(s *dossier.Snapshot) { s.Status = dossier.StatusCompleted })
	return out
}

type told struct {
	Kind    notify.Kind
	Step    dossier.StepKind
	Channel notify.Channel
}

func toldOf(ms []notify.Message) []told {
	out := []told{}
	for _, m := range ms {
		out = append(out, told{m.Kind, m.Step, m.Channel})
	}
	return out
}

// wantRun is what deathRun tells an applicant reachable on chs.
func wantRun(chs ...notify.Channel) []told {
	out := []told{}
	for _, n := range []told{
		{notify.KindReceipt, "", ""},
		{notify.KindSupplement, dossier.StepDeathRegistration, ""},
		{notify.KindStepResult, dossier.StepDeathRegistration, ""},
		{notify.KindStepResult, dossier.StepResidenceCancellation, ""},
		{notify.KindAppointment, "", ""},
		{notify.KindEnd, "", ""},
	} {
		for _, ch := range chs {
			n.Channel = ch
			out = append(out, n)
		}
	}
	return out
}

func createWith(t *testing.T, s *store.Store, requestID string, c notify.Contact) dossier.Snapshot {
	t.Helper()
	nd := submission(requestID, 1)
	nd.Contact = c
	created, err := s.CreateDossier(context.Background(), nd)
	require.NoError(t, err)
	return created.Snapshot
}

func TestNotificationsAreWrittenWithTheirVersions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	created := createWith(t, s, "r1", both)
	run := deathRun(created)

	// The workflow writes in batches of whatever was queued.
	for _, batch := range [][]dossier.Snapshot{run[:1], run[1:4], run[4:5], run[5:]} {
		_, err := s.ApplySnapshots(ctx, batch, nil)
		require.NoError(t, err)
	}
	got, err := s.Notifications(ctx, created.Code)
	require.NoError(t, err)
	require.Equal(t, wantRun(notify.ChannelSMS, notify.ChannelEmail), toldOf(got), "one per notice and channel, in order")
	for i, m := range got {
		require.Equal(t, notify.StatePending, m.State)
		if i > 0 {
			require.Greater(t, m.ID, got[i-1].ID)
		}
		switch m.Channel {
		case notify.ChannelSMS:
			require.Equal(t, both.Phone, m.To)
			require.Empty(t, m.Subject)
		case notify.ChannelEmail:
			require.Equal(t, both.Email, m.To)
			require.NotEmpty(t, m.Subject)
		}
		require.Contains(t, m.Body, created.Code)
	}
	require.Equal(t, int64(3), got[2].Version, "the supplement was asked at version 3")

	t.Run("replayed versions add nothing", func(t *testing.T) {
		for _, batch := range [][]dossier.Snapshot{run, run[2:5], run[len(run)-1:]} {
			res, err := s.ApplySnapshots(ctx, batch, nil)
			require.NoError(t, err)
			require.Empty(t, res.Versions)
		}
		again, err := s.Notifications(ctx, created.Code)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})

	t.Run("the applicant who opted out of SMS gets e-mail only, one without e-mail SMS only", func(t *testing.T) {
		for i, c := range []struct {
			contact notify.Contact
			want    []told
		}{
			{notify.Contact{Email: both.Email}, wantRun(notify.ChannelEmail)},
			{notify.Contact{Phone: both.Phone}, wantRun(notify.ChannelSMS)},
			{notify.Contact{}, wantRun()},
		} {
			d := createWith(t, s, fmt.Sprintf("contact-%d", i), c.contact)
			_, err := s.ApplySnapshots(ctx, deathRun(d), nil)
			require.NoError(t, err)
			ms, err := s.Notifications(ctx, d.Code)
			require.NoError(t, err)
			require.Equal(t, c.want, toldOf(ms))
		}
	})
}

// Two syncs of one dossier at once (a retried local activity while the
// first attempt still runs) must tell the receipt once: the second derives
// from what the first wrote, not from what it read before.
func TestConcurrentSyncsTellOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	for i := range 12 {
		d := createWith(t, s, fmt.Sprintf("race-%d", i), both)
		run := deathRun(d)
		var wg sync.WaitGroup
		for _, batch := range [][]dossier.Snapshot{run[:3], run[:5], run} {
			wg.Go(func() {
				if _, err := s.ApplySnapshots(ctx, batch, nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		ms, err := s.Notifications(ctx, d.Code)
		require.NoError(t, err)
		require.Equal(t, wantRun(notify.ChannelSMS, notify.ChannelEmail), toldOf(ms), "dossier %d", i)
	}
}

func sent(at time.Time) notify.Outcome { return notify.Outcome{At: at} }

func TestDispatchRecordsOutcomes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	d := createWith(t, s, "r1", both)
	_, err := s.ApplySnapshots(ctx, deathRun(d), nil)
	require.NoError(t, err)
	list := func() []notify.Message {
		ms, err := s.Notifications(ctx, d.Code)
		require.NoError(t, err)
		return ms
	}
	claim := func(send notify.Sender) []notify.Message {
		var got []notify.Message
		var mu sync.Mutex
		_, err := s.DispatchNotifications(ctx, 10, func(ctx context.Context, m notify.Message) notify.Outcome {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
			return send(ctx, m)
		})
		require.NoError(t, err)
		return got
	}

	first := claim(func(context.Context, notify.Message) notify.Outcome {
		return notify.Outcome{Err: errors.New("gateway busy"), RetryAt: time.Now().Add(time.Hour)}
	})
	require.Len(t, first, 1, "only the head of the dossier's line")
	require.Equal(t, told{notify.KindReceipt, "", notify.ChannelSMS}, toldOf(first)[0])
	require.Equal(t, both.Phone, first[0].To)
	require.Empty(t, claim(func(context.Context, notify.Message) notify.Outcome { return sent(time.Now()) }),
		"a message waiting for its retry holds its dossier's line")
	ms := list()
	require.Equal(t, 1, ms[0].Attempts)
	require.Equal(t, "gateway busy", ms[0].LastError)
	require.Equal(t, notify.StatePending, ms[0].State)

	_, err = s.Pool().Exec(ctx, `UPDATE engine.notifications SET next_attempt_at = now() WHERE id = $1`, ms[0].ID)
	require.NoError(t, err)
	at := time.Now().Truncate(time.Millisecond)
	require.Len(t, claim(func(context.Context, notify.Message) notify.Outcome { return sent(at) }), 1)
	ms = list()
	require.Equal(t, notify.StateSent, ms[0].State)
	require.Equal(t, 2, ms[0].Attempts)
	require.WithinDuration(t, at, *ms[0].SentAt, time.Millisecond)

	t.Run("a permanent refusal lets the next message go", func(t *testing.T) {
		got := claim(func(context.Context, notify.Message) notify.Outcome {
			return notify.Outcome{Err: errors.New("550 mailbox unavailable"), Permanent: true}
		})
		require.Len(t, got, 1)
		require.Equal(t, notify.ChannelEmail, got[0].Channel)
		require.Equal(t, both.Email, got[0].To)
		got = claim(func(context.Context, notify.Message) notify.Outcome { return sent(time.Now()) })
		require.Len(t, got, 1)
		require.Equal(t, notify.KindSupplement, got[0].Kind)
		ms := list()
		require.Equal(t, notify.StateFailed, ms[1].State)
		require.Equal(t, "550 mailbox unavailable", ms[1].LastError)
	})

	t.Run("a dispatcher stopped mid-send records nothing", func(t *testing.T) {
		before := list()
		cctx, cancel := context.WithCancel(ctx)
		_, err := s.DispatchNotifications(cctx, 10, func(context.Context, notify.Message) notify.Outcome {
			cancel() // the gateway took it, then the dispatcher died
			return sent(time.Now())
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, before, list())
		got := claim(func(context.Context, notify.Message) notify.Outcome { return sent(time.Now()) })
		require.Len(t, got, 1)
		require.Equal(t, before[3].ID, got[0].ID, "the same message is claimed again, to be sent under the same id")
	})

	t.Run("the backlog is what is still pending", func(t *testing.T) {
		n, oldest, err := s.NotificationBacklog(ctx)
		require.NoError(t, err)
		require.Equal(t, len(list())-4, n)
		require.Positive(t, oldest)
	})
}

// Several dispatchers at once: every message goes out exactly once, each
// dossier's in order and never two of one dossier at the same time, while
// sends are slow and some fail.
func TestDispatchersShareTheOutbox(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	const dossiers = 8
	var total int
	for i := range dossiers {
		d := createWith(t, s, fmt.Sprintf("r%d", i), both)
		_, err := s.ApplySnapshots(ctx, deathRun(d), nil)
		require.NoError(t, err)
		ms, err := s.Notifications(ctx, d.Code)
		require.NoError(t, err)
		total += len(ms)
	}

	var mu sync.Mutex
	inFlight := map[string]int64{}
	order := map[string][]int64{}
	delivered := map[int64]int{}
	var problems []string
	send := func(_ context.Context, m notify.Message) notify.Outcome {
		mu.Lock()
		if other, busy := inFlight[m.Code]; busy {
			problems = append(problems, fmt.Sprintf("%s: message %d sent while %d was in flight", m.Code, m.ID, other))
		}
		inFlight[m.Code] = m.ID
		mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		fail := rand.IntN(4) == 0
		mu.Lock()
		delete(inFlight, m.Code)
		if !fail {
			delivered[m.ID]++
			order[m.Code] = append(order[m.Code], m.ID)
		}
		mu.Unlock()
		if fail {
			return notify.Outcome{Err: errors.New("transient"), RetryAt: time.Now()}
		}
		return sent(time.Now())
	}

	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second)
	for range 3 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				done := len(delivered) == total
				mu.Unlock()
				if done {
					return
				}
				if _, err := s.DispatchNotifications(ctx, 3, send); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, problems)
	require.Len(t, delivered, total, "every message delivered")
	for id, n := range delivered {
		require.Equal(t, 1, n, "message %d delivered %d times", id, n)
	}
	for code, ids := range order {
		require.IsIncreasing(t, ids, "dossier %s", code)
	}
	n, _, err := s.NotificationBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Contacts are kept only while the applicant may still be told something:
// a dossier that ended long enough ago, with nothing left to send, loses
// them; one that ended recently, or still has a message waiting, keeps them.
func TestPurgeContacts(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	old := createWith(t, s, "old", both)
	waiting := createWith(t, s, "waiting", both)
	recent := createWith(t, s, "recent", both)
	for _, d := range []dossier.Snapshot{old, waiting, recent} {
		_, err := s.ApplySnapshots(ctx, deathRun(d), nil)
		require.NoError(t, err)
	}
	_, err := s.Pool().Exec(ctx, `UPDATE engine.dossiers SET completed_at = now() - interval '40 days' WHERE code = ANY($1)`,
		[]string{old.Code, waiting.Code})
	require.NoError(t, err)
	_, err = s.Pool().Exec(ctx, `UPDATE engine.dossiers SET completed_at = now() WHERE code = $1`, recent.Code)
	require.NoError(t, err)
	_, err = s.Pool().Exec(ctx, `UPDATE engine.notifications SET state = 'sent', sent_at = now() WHERE code <> $1`, waiting.Code)
	require.NoError(t, err)

	n, err := s.PurgeContacts(ctx, time.Now().Add(-30*24*time.Hour), 100)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	left := map[string]bool{}
	rows, err := s.Pool().Query(ctx, `SELECT code FROM engine.notification_contacts`)
	require.NoError(t, err)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for _, c := range codes {
		left[c] = true
	}
	require.False(t, left[old.Code], "ended 40 days ago, all told: forgotten")
	told, err := s.Notifications(ctx, old.Code)
	require.NoError(t, err)
	require.NotEmpty(t, told, "what was sent stays listed")
	require.Empty(t, told[0].To, "without the address")
	require.True(t, left[waiting.Code], "a message still waits: kept")
	require.True(t, left[recent.Code], "ended today: kept")
}
