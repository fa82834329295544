package stack

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
)

// outbox is what the engine meant to tell about a dossier, in order.
func (s *stack) outbox(t *testing.T, code string) []notify.Message {
	t.Helper()
	ms, err := store.New(s.pool).Notifications(context.Background(), code)
	require.NoError(t, err)
	return ms
}

// waitTold waits until no message of these dossiers is waiting.
func (s *stack) waitTold(t *testing.T, within time.Duration, codes ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var pending int
		err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM engine.notifications WHERE code = ANY($1) AND state = 'pending'`, codes).Scan(&pending)
		return err == nil && pending == 0
	}, within, 100*time.Millisecond, "notifications of %v still waiting", codes)
}

// delivery is one message as a channel holds it.
type delivery struct {
	id, to, subject, body string
	at                    time.Time
	submissions           int
}

// delivered reads what the SMS gateway and the mail sink hold for a dossier, in the order they took it.
func (s *stack) delivered(t *testing.T, code string) (sms, email []delivery) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `SELECT message_id, phone, body, accepted_at, submissions FROM sms.messages
		WHERE message_id LIKE $1 || '/%' ORDER BY id`, code)
	require.NoError(t, err)
	for rows.Next() {
		var d delivery
		require.NoError(t, rows.Scan(&d.id, &d.to, &d.body, &d.at, &d.submissions))
		sms = append(sms, d)
	}
	require.NoError(t, rows.Err())
	rows, err = s.pool.Query(ctx, `SELECT message_id, rcpt_to[1], subject, body, received_at, submissions FROM mail.messages
		WHERE message_id LIKE '<' || $1 || '.%' ORDER BY id`, code)
	require.NoError(t, err)
	for rows.Next() {
		var d delivery
		require.NoError(t, rows.Scan(&d.id, &d.to, &d.subject, &d.body, &d.at, &d.submissions))
		email = append(email, d)
	}
	require.NoError(t, rows.Err())
	return sms, email
}

// told is what an applicant should have been sent: where, and besides the
// receipt, one result per decided procedure and the end, which other
// notices, once each; no text may hold one of ids.
type told struct {
	phone, address string
	also           []notify.Kind
	ids            []string
}

// checkTold checks the applicant of a finished dossier was told exactly
// what its versions said, each message once, in order, by SMS to phone
// (unless empty) and by e-mail to address (unless empty).
func (s *stack) checkTold(t *testing.T, code string, want told) {
	t.Helper()
	d, err := store.New(s.pool).Dossier(context.Background(), code)
	require.NoError(t, err)
	require.True(t, d.Status.Terminal(), "%s is %s", code, d.Status)
	s.waitTold(t, 30*time.Second, code)
	ms := s.outbox(t, code)

	// What the versions call for.
	var channels []notify.Channel
	phone, address := want.phone, want.address
	if phone != "" {
		channels = append(channels, notify.ChannelSMS)
	}
	if address != "" {
		channels = append(channels, notify.ChannelEmail)
	}
	decided := 0
	for _, st := range d.Steps {
		if st.Status == dossier.StepApproved || st.Status == dossier.StepRejected {
			decided++
		}
	}
	require.Len(t, ms, (1+decided+len(want.also)+1)*len(channels), "a receipt, one result per decided procedure, %v and the end, on each channel", want.also)
	require.Equal(t, notify.KindReceipt, ms[0].Kind)
	require.Equal(t, notify.KindEnd, ms[len(ms)-1].Kind)
	results := map[dossier.StepKind]int{}
	kinds := map[notify.Kind]int{}
	for i, m := range ms {
		require.Equal(t, notify.StateSent, m.State, "%s", m.MessageID())
		require.Equal(t, channels[i%len(channels)], m.Channel, "each notice on every channel in turn")
		if m.Channel == channels[0] {
			kinds[m.Kind]++
			if m.Kind == notify.KindStepResult {
				results[m.Step]++
			}
		}
	}
	require.Len(t, results, decided, "one result per procedure")
	for _, k := range want.also {
		require.Equal(t, 1, kinds[k], "one %s", k)
	}

	// What the channels hold: exactly those messages, once each, in the outbox's order.
	sms, email := s.delivered(t, code)
	var wantSMS, wantEmail []notify.Message
	for _, m := range ms {
		if m.Channel == notify.ChannelSMS {
			wantSMS = append(wantSMS, m)
		} else {
			wantEmail = append(wantEmail, m)
		}
	}
	require.Len(t, sms, len(wantSMS))
	require.Len(t, email, len(wantEmail))
	from, err := mail.ParseAddress(s.cfg.MailFrom)
	require.NoError(t, err)
	domain := from.Address[strings.Index(from.Address, "@")+1:]
	var last time.Time
	si, ei := 0, 0
	for _, m := range ms {
		var got delivery
		if m.Channel == notify.ChannelSMS {
			got = sms[si]
			si++
			require.Equal(t, m.MessageID(), got.id)
			require.Equal(t, phone, got.to)
			require.Equal(t, m.Body, got.body)
		} else {
			got = email[ei]
			ei++
			require.Equal(t, m.MailMessageID(domain), got.id)
			require.Equal(t, address, got.to)
			require.Equal(t, m.Subject, got.subject)
			require.Equal(t, m.Body, strings.TrimRight(strings.ReplaceAll(got.body, "\r\n", "\n"), "\n"))
		}
		require.Equal(t, 1, got.submissions, "%s reached its channel once", m.MessageID())
		require.False(t, got.at.Before(last), "%s went out before the message ahead of it", m.MessageID())
		last = got.at
		for _, text := range []string{got.subject, got.body} {
			for _, id := range want.ids {
				require.NotContains(t, text, id, "a message carries an ID number")
			}
		}
	}
}

// idNumbers are the ID numbers a birth dossier knows: the form's and the child's.
func idNumbers(req *enginev1.SubmitBirthRequest, d *enginev1.Dossier) []string {
	f := req.GetForm()
	ids := []string{f.GetFather().GetIdNumber(), f.GetMother().GetIdNumber(), f.GetRequester().GetIdNumber(), f.GetResidence().GetHouseholdHeadIdNumber()}
	for _, st := range d.GetSteps() {
		if n := st.GetResult()["id_number"]; n != "" {
			ids = append(ids, n)
		}
	}
	return slices.DeleteFunc(ids, func(id string) bool { return id == "" })
}

func e164(t *testing.T, phone string) string {
	t.Helper()
	p, err := civil.NormalizePhone(phone)
	require.NoError(t, err)
	return p
}

// TestNotifications runs a birth and two deaths through the dev stack and
// checks what their applicants were sent; then the SMS gateway goes down
// for a while (20 s here, with the retry backoff capped at 1 s so the test
// does not wait a minute after it) while more dossiers run, and afterwards
// every message has arrived exactly once.
func TestNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{}, func(c *config.Config) { c.NotifyMaxBackoff = time.Second })
	ctx := context.Background()
	now := time.Now()

	t.Run("a birth: SMS and e-mail, in order, once", func(t *testing.T) {
		req := s.forms.Birth(7, now, "notify-birth-1")
		sub, err := s.clerk.SubmitBirth(ctx, req)
		require.NoError(t, err)
		d := s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		s.checkTold(t, sub.GetCode(), told{phone: e164(t, req.GetForm().GetRequester().GetPhone()), address: req.GetForm().GetRequester().GetEmail(), ids: idNumbers(req, d)})
		sms, _ := s.delivered(t, sub.GetCode())
		enc, segments := notify.Segments(sms[0].body)
		t.Logf("receipt SMS: %q (%s, %d segments)", sms[0].body, enc, segments)
		require.LessOrEqual(t, segments, 2)

		// The clerk's dossier and the citizen's lookup list them.
		got, err := s.clerk.GetDossier(ctx, &enginev1.GetDossierRequest{Code: sub.GetCode(), Purpose: "end-to-end test"})
		require.NoError(t, err)
		require.Len(t, got.GetNotifications(), len(s.outbox(t, sub.GetCode())))
		require.Equal(t, enginev1.NotificationState_NOTIFICATION_STATE_SENT, got.GetNotifications()[0].GetState())
	})

	t.Run("a death: the declarant without e-mail gets SMS only, one who opted out e-mail only", func(t *testing.T) {
		plain := s.forms.Death(11, now, "notify-death-1", false)
		sub, err := s.clerk.SubmitDeath(ctx, plain)
		require.NoError(t, err)
		optedOut := s.forms.Death(12, now, "notify-death-2", true)
		optedOut.Form.Declarant.Email, optedOut.Form.Declarant.SmsOptOut = "nguoikhai@example.vn", true
		sub2, err := s.clerk.SubmitDeath(ctx, optedOut)
		require.NoError(t, err)
		ids := []string{plain.GetForm().GetDeceased().GetIdNumber(), plain.GetForm().GetDeclarant().GetIdNumber()}
		s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		s.checkTold(t, sub.GetCode(), told{phone: e164(t, plain.GetForm().GetDeclarant().GetPhone()), ids: ids})
		s.waitTerminal(t, sub2.GetCode(), 90*time.Second)
		s.checkTold(t, sub2.GetCode(), told{address: "nguoikhai@example.vn", ids: []string{optedOut.GetForm().GetDeceased().GetIdNumber()}})
	})

	t.Run("an SMS gateway outage delays messages and loses none", func(t *testing.T) {
		admin := agencyv1.NewAdminServiceClient(s.conn(t, s.addrs.Agencies[agency.SMSGateway], s.cfg.AgencyAdminKey))
		// A minute, as a real gateway outage might last; the dispatcher retries
		// at most every second in this stack, so the messages follow soon after.
		outage := time.Minute
		start := time.Now()
		_, err := admin.SetFaults(ctx, &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{
			OutageFrom: timestamppb.New(start), OutageUntil: timestamppb.New(start.Add(outage))}})
		require.NoError(t, err)
		type sent struct {
			code string
			told
		}
		var all []sent
		for i := range 3 {
			req := s.forms.Birth(30+i, now, "notify-outage-"+string(rune('a'+i)))
			sub, err := s.clerk.SubmitBirth(ctx, req)
			require.NoError(t, err)
			all = append(all, sent{sub.GetCode(), told{phone: e164(t, req.GetForm().GetRequester().GetPhone()), address: req.GetForm().GetRequester().GetEmail(),
				ids: []string{req.GetForm().GetFather().GetIdNumber(), req.GetForm().GetMother().GetIdNumber()}}})
		}
		for _, d := range all {
			s.waitTerminal(t, d.code, 90*time.Second)
		}
		if time.Since(start) < outage-2*time.Second {
			for _, d := range all {
				sms, email := s.delivered(t, d.code)
				require.Empty(t, sms, "the gateway is down")
				require.Empty(t, email, "each dossier's e-mails wait behind its SMS")
				require.Eventually(t, func() bool { return s.outbox(t, d.code)[0].Attempts > 0 },
					10*time.Second, 50*time.Millisecond, "the receipt is being retried")
			}
		} else {
			t.Logf("the dossiers took %s, longer than the outage: its effect is not checked mid-way", time.Since(start))
		}
		s.waitTold(t, outage+30*time.Second, all[0].code, all[1].code, all[2].code)
		t.Logf("every message sent %s after the outage began (%s long)", time.Since(start).Round(time.Second), outage)
		for _, d := range all {
			s.checkTold(t, d.code, d.told)
		}
		retried, _ := total(s.scrape(t)["lienthong_notifications_total"], map[string]string{"channel": "sms", "outcome": "retried"})
		require.Positive(t, retried, "the failed sends are counted")
	})

	t.Run("an officer's supplement request and a later appointment are told", func(t *testing.T) {
		justice := agencyv1.NewAdminServiceClient(s.conn(t, s.addrs.Agencies["justice"], s.cfg.AgencyAdminKey))
		_, err := justice.SetMode(ctx, &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
		require.NoError(t, err)
		defer func() {
			_, err := justice.SetMode(ctx, &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO})
			require.NoError(t, err)
		}()
		desk := agencyv1.NewCaseServiceClient(s.conn(t, s.addrs.Agencies["justice"], s.cfg.AgencyAPIKey))
		req := s.forms.Birth(44, now, "notify-manual-1")
		sub, err := s.clerk.SubmitBirth(ctx, req)
		require.NoError(t, err)
		code := sub.GetCode()
		var caseID string
		require.Eventually(t, func() bool {
			resp, err := desk.ListCases(ctx, &agencyv1.ListCasesRequest{Statuses: []agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_RECEIVED}})
			for _, c := range resp.GetCases() {
				if err == nil && c.GetDossierCode() == code {
					caseID = c.GetCaseId()
				}
			}
			return caseID != ""
		}, 60*time.Second, 100*time.Millisecond)
		decide := func(d *agencyv1.DecideCaseRequest) {
			t.Helper()
			_, err := desk.ClaimCase(ctx, &agencyv1.ClaimCaseRequest{CaseId: caseID, Officer: "officer-1"})
			require.NoError(t, err)
			d.CaseId, d.Officer = caseID, "officer-1"
			_, err = desk.DecideCase(ctx, d)
			require.NoError(t, err)
		}
		decide(&agencyv1.DecideCaseRequest{Decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT,
			Reason: "the certificate of the father 001090123456 is unreadable", Missing: []string{"birth_certificate"}})
		require.Eventually(t, func() bool {
			d, err := store.New(s.pool).Dossier(ctx, code)
			return err == nil && d.Status == dossier.StatusNeedsSupplement
		}, 30*time.Second, 100*time.Millisecond)
		_, err = s.clerk.SupplementDossier(ctx, &enginev1.SupplementDossierRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION,
			Fields: map[string]string{"birth_certificate": "scan-2"}, RequestId: "notify-sup-1"})
		require.NoError(t, err)
		later := sub.GetAppointmentAt().AsTime().Add(72 * time.Hour)
		decide(&agencyv1.DecideCaseRequest{Decision: agencyv1.Decision_DECISION_APPROVE, NewAppointmentAt: timestamppb.New(later)})
		d := s.waitTerminal(t, code, 60*time.Second)
		s.checkTold(t, code, told{phone: e164(t, req.GetForm().GetRequester().GetPhone()), address: req.GetForm().GetRequester().GetEmail(),
			also: []notify.Kind{notify.KindSupplement, notify.KindAppointment}, ids: append(idNumbers(req, d), "001090123456")})
		sms, email := s.delivered(t, code)
		var texts []string
		for _, m := range sms {
			texts = append(texts, m.body)
		}
		require.Contains(t, strings.Join(texts, "\n"), "cần bổ sung giấy chứng sinh")
		require.Contains(t, strings.Join(texts, "\n"), "dời sang "+later.In(civil.Zone).Format("02/01/2006"))
		var reasons string
		for _, m := range email {
			reasons += m.body
		}
		require.Contains(t, reasons, "Lý do: the certificate of the father *** is unreadable", "the officer's reason reaches the e-mail, its ID number hidden")
	})
}
