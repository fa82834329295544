package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
	"github.com/lienthong/lienthong/workflows"
)

const engineKey, adminKey = "engine-key", "admin-key"

// channels is a store with the SMS gateway and the mail sink, on one database.
type channels struct {
	pool    *pgxpool.Pool
	store   *store.Store
	sms     agencyv1.SmsGatewayServiceClient
	admin   agencyv1.AdminServiceClient
	mail    *notify.Mailer
	metrics *notify.Metrics
	reg     *prometheus.Registry
}

func startChannels(t *testing.T) *channels {
	t.Helper()
	pool := storetest.Pool(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	gw, err := agency.Start(t.Context(), agency.Options{Name: agency.SMSGateway, ListenAddr: "127.0.0.1:0", Pool: pool,
		APIKeys: map[string]string{engineKey: "engine", adminKey: agency.AdminClient}, Logger: log})
	require.NoError(t, err)
	t.Cleanup(gw.Stop)
	sink, err := agency.StartMailSink(t.Context(), agency.MailSinkOptions{ListenAddr: "127.0.0.1:0", Pool: pool, Logger: log})
	require.NoError(t, err)
	t.Cleanup(sink.Stop)
	dial := func(k string) *grpc.ClientConn {
		conn, err := grpc.NewClient(gw.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.Bearer(k)))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	reg := prometheus.NewRegistry()
	return &channels{
		pool: pool, store: store.New(pool),
		sms: agencyv1.NewSmsGatewayServiceClient(dial(engineKey)), admin: agencyv1.NewAdminServiceClient(dial(adminKey)),
		mail:    &notify.Mailer{Addr: sink.Addr(), From: "no-reply@lienthong.local"},
		metrics: notify.NewMetrics(reg), reg: reg,
	}
}

func (c *channels) dispatcher(t *testing.T) *notify.Dispatcher {
	return &notify.Dispatcher{Outbox: c.store, SMS: c.sms, Mail: c.mail, Metrics: c.metrics,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Poll:   20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

// submit stores a birth dossier for contact and writes three versions:
// received, birth registration approved, completed: three notices.
func (c *channels) submit(t *testing.T, requestID string, contact notify.Contact) string {
	t.Helper()
	b := birth(0)
	created, err := c.store.CreateDossier(t.Context(), store.NewDossier{
		RequestID: requestID, RequestHash: []byte(requestID), Group: b.Group, CommuneCode: b.CommuneCode, ProvinceCode: b.ProvinceCode,
		ReceivedAt: b.ReceivedAt, DueAt: b.DueAt, AppointmentAt: b.AppointmentAt, PhoneHash: "h", Form: []byte("form"),
		CreatedBy: "clerk:1", Steps: workflows.BirthSteps, Contact: contact,
	})
	require.NoError(t, err)
	v1 := created.Snapshot
	v1.Version = 1
	v2 := with(v1, 2, step(dossier.StepBirthRegistration, dossier.StepApproved))
	v3 := with(v2, 3, func(s *dossier.Snapshot) { s.Status = dossier.StatusCompleted })
	_, err = c.store.ApplySnapshots(t.Context(), []dossier.Snapshot{v1, v2, v3}, nil)
	require.NoError(t, err)
	return v1.Code
}

// delivered is what the channels hold: message id to how often it was submitted.
func (c *channels) delivered(t *testing.T) (sms, mail map[string]int) {
	t.Helper()
	read := func(q string) map[string]int {
		rows, err := c.pool.Query(t.Context(), q)
		require.NoError(t, err)
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			require.NoError(t, rows.Scan(&id, &n))
			out[id] = n
		}
		require.NoError(t, rows.Err())
		return out
	}
	return read(`SELECT message_id, submissions FROM sms.messages`), read(`SELECT message_id, submissions FROM mail.messages`)
}

// drain runs d until every message of the outbox is sent or failed.
func drain(t *testing.T, c *channels, d *notify.Dispatcher, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool {
		n, _, err := c.store.NotificationBacklog(t.Context())
		return err == nil && n == 0
	}, within, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func (c *channels) outbox(t *testing.T, code string) []notify.Message {
	t.Helper()
	ms, err := c.store.Notifications(t.Context(), code)
	require.NoError(t, err)
	return ms
}

// requireOnce checks every message of the dossiers reached its channel exactly once.
func requireOnce(t *testing.T, c *channels, codes ...string) {
	t.Helper()
	sms, mail := c.delivered(t)
	total := 0
	for _, code := range codes {
		for _, m := range c.outbox(t, code) {
			require.Equal(t, notify.StateSent, m.State, "%s", m.MessageID())
			require.NotNil(t, m.SentAt)
			if m.Channel == notify.ChannelSMS {
				require.Contains(t, sms, m.MessageID())
			} else {
				require.Contains(t, mail, m.MailMessageID("lienthong.local"))
			}
			total++
		}
	}
	require.Len(t, sms, total/2, "one SMS per notice")
	require.Len(t, mail, total/2, "one e-mail per notice")
}

func TestDispatcherDeliversEveryMessage(t *testing.T) {
	t.Parallel()
	c := startChannels(t)
	code := c.submit(t, "r1", notify.Contact{Phone: "+84912345678", Email: "nguoinop@example.vn"})
	drain(t, c, c.dispatcher(t), 10*time.Second)
	requireOnce(t, c, code)

	var text string
	var segments int
	require.NoError(t, c.pool.QueryRow(t.Context(), `SELECT body, segments FROM sms.messages ORDER BY id LIMIT 1`).Scan(&text, &segments))
	require.Equal(t, "Hồ sơ "+code+" (liên thông khai sinh) đã được tiếp nhận. Ngày hẹn trả kết quả: 05/03/2026.", text)
	require.Equal(t, 2, segments)
	var subject, body string
	var to []string
	require.NoError(t, c.pool.QueryRow(t.Context(), `SELECT subject, body, rcpt_to FROM mail.messages ORDER BY id LIMIT 1`).Scan(&subject, &body, &to))
	require.Equal(t, "Hồ sơ "+code+": đã tiếp nhận", subject, "the subject survives RFC 2047")
	require.Contains(t, body, "Ngày hẹn trả kết quả: 05/03/2026", "the body survives quoted-printable")
	require.Equal(t, []string{"nguoinop@example.vn"}, to)
	require.Equal(t, 3.0, c.sends(t, notify.ChannelSMS, notify.OutcomeSent))
}

// sends reads lienthong_notifications_total for a channel and outcome.
func (c *channels) sends(t *testing.T, ch notify.Channel, outcome string) float64 {
	t.Helper()
	mfs, err := c.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "lienthong_notifications_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["channel"] == string(ch) && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series for %s %s", ch, outcome)
	return 0
}

// The gateway is down for a while (1.5 s here, with retries every 20-200
// ms; an operator's outage lasts minutes and the backoff tops out at a
// minute): messages wait, e-mails of the same dossier wait behind them,
// and afterwards every one arrives once.
func TestGatewayOutageDelaysAndLosesNothing(t *testing.T) {
	t.Parallel()
	c := startChannels(t)
	now := time.Now()
	_, err := c.admin.SetFaults(t.Context(), &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{OutageFrom: timestamppb.New(now), OutageUntil: timestamppb.New(now.Add(1500 * time.Millisecond))}})
	require.NoError(t, err)
	var codes []string
	for _, r := range []string{"r1", "r2", "r3"} {
		codes = append(codes, c.submit(t, r, notify.Contact{Phone: "+84912345678", Email: "nguoinop@example.vn"}))
	}
	d := c.dispatcher(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(time.Second)
	sms, mail := c.delivered(t)
	require.Empty(t, sms, "the gateway is down")
	require.Empty(t, mail, "each dossier's e-mails wait behind its SMS")
	for _, code := range codes {
		require.Positive(t, c.outbox(t, code)[0].Attempts, "the receipt SMS is being retried")
	}
	require.Eventually(t, func() bool {
		n, _, err := c.store.NotificationBacklog(t.Context())
		return err == nil && n == 0
	}, 15*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	requireOnce(t, c, codes...)
	require.Positive(t, c.sends(t, notify.ChannelSMS, notify.OutcomeRetried))
}

// dying forwards to the real channels and then kills the dispatcher: the
// channel has accepted the message, the row is not yet marked sent.
type dying struct {
	sms  agencyv1.SmsGatewayServiceClient
	mail notify.MailSender
	kill context.CancelFunc
	mu   sync.Mutex
	n    int
}

func (d *dying) SendSms(ctx context.Context, in *agencyv1.SendSmsRequest, opts ...grpc.CallOption) (*agencyv1.SendSmsResponse, error) {
	resp, err := d.sms.SendSms(context.WithoutCancel(ctx), in, opts...)
	d.died()
	return resp, err
}

func (d *dying) Send(ctx context.Context, m notify.Message) error {
	err := d.mail.Send(context.WithoutCancel(ctx), m)
	d.died()
	return err
}

func (d *dying) died() {
	d.mu.Lock()
	d.n++
	d.mu.Unlock()
	d.kill()
}

func TestDispatcherKilledMidSendDeliversOnce(t *testing.T) {
	t.Parallel()
	c := startChannels(t)
	code := c.submit(t, "r1", notify.Contact{Phone: "+84912345678", Email: "nguoinop@example.vn"})

	// Kill a dispatcher after each send until every message has been
	// through a killed one: each is then sent again by the next.
	sent := func() int {
		n := 0
		for _, m := range c.outbox(t, code) {
			if m.State == notify.StateSent {
				n++
			}
		}
		return n
	}
	for i := range 6 {
		ctx, kill := context.WithCancel(t.Context())
		victim := &dying{sms: c.sms, mail: c.mail, kill: kill}
		d := c.dispatcher(t)
		d.SMS, d.Mail = victim, victim
		require.NoError(t, d.Run(ctx))
		require.Equal(t, 1, victim.n, "one send, then the dispatcher died")
		require.Equal(t, i, sent(), "the row the channel took was never marked sent")
		// The next dispatcher sends it again, and the channel recognises it.
		n, err := c.dispatcher(t).DispatchOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, i+1, sent())
	}
	requireOnce(t, c, code)
	sms, mail := c.delivered(t)
	for id, n := range sms {
		require.Equal(t, 2, n, "%s was submitted twice and delivered once", id)
	}
	for id, n := range mail {
		require.Equal(t, 2, n, "%s was submitted twice and delivered once", id)
	}
}

func TestRefusedMessageDoesNotHoldTheDossier(t *testing.T) {
	t.Parallel()
	c := startChannels(t)
	// A number the gateway refuses (the API validates phones; this one is
	// from before a rule change, say).
	code := c.submit(t, "r1", notify.Contact{Phone: "+8412", Email: "nguoinop@example.vn"})
	drain(t, c, c.dispatcher(t), 10*time.Second)
	ms := c.outbox(t, code)
	for _, m := range ms {
		if m.Channel == notify.ChannelSMS {
			require.Equal(t, notify.StateFailed, m.State)
			require.Contains(t, m.LastError, "InvalidArgument")
			require.Equal(t, 1, m.Attempts, "a refusal is not retried")
		} else {
			require.Equal(t, notify.StateSent, m.State)
		}
	}
	require.Equal(t, 3.0, c.sends(t, notify.ChannelSMS, notify.OutcomeFailed))
}

func TestErrorsAreLoggedWithoutTheirText(t *testing.T) {
	t.Parallel()
	c := startChannels(t)
	var logs strings.Builder
	d := c.dispatcher(t)
	d.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The gateway's refusal of a bad number quotes nothing, but a relay's
	// refusal may quote the address: the log must hold neither.
	d.Mail = refusing{}
	code := c.submit(t, "r1", notify.Contact{Phone: "+8412", Email: "nguoinop@example.vn"})
	drain(t, c, d, 10*time.Second)
	require.Contains(t, logs.String(), "gRPC InvalidArgument")
	require.Contains(t, logs.String(), "SMTP 550")
	require.Contains(t, logs.String(), "dossier_id="+code)
	require.NotContains(t, logs.String(), "nguoinop@example.vn")
	require.NotContains(t, logs.String(), "+8412")
	require.Contains(t, c.outbox(t, code)[1].LastError, "nguoinop@example.vn", "the row keeps the whole answer")
}

// refusing is a relay that refuses every recipient, naming it.
type refusing struct{}

func (refusing) Send(_ context.Context, m notify.Message) error {
	return notify.Permanent(fmt.Errorf("SMTP RCPT TO: %w", &textproto.Error{Code: 550, Msg: "5.1.1 <" + m.To + ">: Recipient address rejected"}))
}
