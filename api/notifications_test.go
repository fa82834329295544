package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// received writes a dossier's first version to the read model, as its
// workflow does, so the receipt is in the outbox.
func received(t *testing.T, e *env, code string) {
	t.Helper()
	snap, err := e.store.Dossier(context.Background(), code)
	require.NoError(t, err)
	snap.Version, snap.At = 1, time.Now()
	_, err = e.store.ApplySnapshots(context.Background(), []dossier.Snapshot{snap}, nil)
	require.NoError(t, err)
}

func TestNotificationsAreListed(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "notify-1"))
	require.NoError(t, err)
	code := sub.GetCode()
	received(t, e, code)

	got, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: code, Purpose: "xem thông báo"})
	require.NoError(t, err)
	ns := got.GetNotifications()
	require.Len(t, ns, 2, "the receipt, by SMS and by e-mail")
	sms, mail := ns[0], ns[1]
	require.Equal(t, enginev1.NotificationKind_NOTIFICATION_KIND_RECEIPT, sms.GetKind())
	require.Equal(t, enginev1.NotificationChannel_NOTIFICATION_CHANNEL_SMS, sms.GetChannel())
	require.Equal(t, enginev1.NotificationState_NOTIFICATION_STATE_PENDING, sms.GetState())
	require.Contains(t, sms.GetText(), code)
	require.Equal(t, "+84•••••5678", sms.GetRecipient(), "the clerk sees whom it goes to, masked")
	require.Equal(t, enginev1.NotificationChannel_NOTIFICATION_CHANNEL_EMAIL, mail.GetChannel())
	require.Equal(t, "Hồ sơ "+code+": đã tiếp nhận", mail.GetText(), "an e-mail is listed by its subject")
	require.Equal(t, "b•••@example.vn", mail.GetRecipient())
	require.EqualValues(t, 1, sms.GetVersion())

	t.Run("without the form, no recipient", func(t *testing.T) {
		for _, c := range []struct {
			who  string
			req  *enginev1.GetDossierRequest
			role context.Context
		}{
			{"status view", &enginev1.GetDossierRequest{Code: code, View: enginev1.DossierView_DOSSIER_VIEW_STATUS}, as(t, clerkA)},
			{"supervisor", &enginev1.GetDossierRequest{Code: code}, as(t, supHN)},
		} {
			got, err := e.clerk().GetDossier(c.role, c.req)
			require.NoError(t, err, c.who)
			require.Len(t, got.GetNotifications(), 2, c.who)
			for _, n := range got.GetNotifications() {
				require.Empty(t, n.GetRecipient(), c.who)
			}
		}
	})

	t.Run("the citizen sees what was sent, not where", func(t *testing.T) {
		_, err := e.store.DispatchNotifications(context.Background(), 1, func(context.Context, notify.Message) notify.Outcome {
			return notify.Outcome{At: time.Now()}
		})
		require.NoError(t, err)
		resp, err := e.citizen().LookupDossier(context.Background(), &enginev1.LookupDossierRequest{Code: code, Phone: "0912345678"})
		require.NoError(t, err)
		require.Len(t, resp.GetNotifications(), 2)
		first := resp.GetNotifications()[0]
		require.Equal(t, sms.GetText(), first.GetText())
		require.Equal(t, enginev1.NotificationState_NOTIFICATION_STATE_SENT, first.GetState())
		require.NotNil(t, first.GetSentAt())
		require.Empty(t, first.GetRecipient())

		status, body := e.rest(t, http.MethodPost, "/v1/lookup", "", map[string]string{"code": code, "phone": "0912345678"})
		require.Equal(t, http.StatusOK, status, body)
		require.Len(t, body["notifications"], 2, "REST carries them too")
	})

	t.Run("an applicant who opted out of SMS is told by e-mail only", func(t *testing.T) {
		req := validBirth(time.Now(), "notify-2")
		req.Form.Requester.SmsOptOut = true
		sub, err := e.clerk().SubmitBirth(as(t, clerkA), req)
		require.NoError(t, err)
		received(t, e, sub.GetCode())
		got, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: sub.GetCode(), View: enginev1.DossierView_DOSSIER_VIEW_STATUS})
		require.NoError(t, err)
		require.Len(t, got.GetNotifications(), 1)
		require.Equal(t, enginev1.NotificationChannel_NOTIFICATION_CHANNEL_EMAIL, got.GetNotifications()[0].GetChannel())
	})

	t.Run("a declarant without e-mail is told by SMS only", func(t *testing.T) {
		req := validDeath(time.Now(), "notify-3")
		sub, err := e.clerk().SubmitDeath(as(t, clerkA), req)
		require.NoError(t, err)
		received(t, e, sub.GetCode())
		got, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: sub.GetCode(), Purpose: "xem thông báo"})
		require.NoError(t, err)
		require.Len(t, got.GetNotifications(), 1)
		require.Equal(t, "+84•••••4321", got.GetNotifications()[0].GetRecipient())
	})
}

func TestMaskRecipient(t *testing.T) {
	t.Parallel()
	require.Equal(t, "+84•••••5678", maskRecipient(notify.ChannelSMS, "+84912345678"))
	require.Equal(t, "•••", maskRecipient(notify.ChannelSMS, "+8412"))
	require.Equal(t, "b•••@example.vn", maskRecipient(notify.ChannelEmail, "binh@example.vn"))
	require.Equal(t, "đ•••@example.vn", maskRecipient(notify.ChannelEmail, "đ@example.vn"))
	require.Equal(t, "•••", maskRecipient(notify.ChannelEmail, "nobody"))
}
