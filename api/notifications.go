package api

import (
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/notify"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

var (
	notificationKinds = map[notify.Kind]enginev1.NotificationKind{
		notify.KindReceipt:     enginev1.NotificationKind_NOTIFICATION_KIND_RECEIPT,
		notify.KindSupplement:  enginev1.NotificationKind_NOTIFICATION_KIND_SUPPLEMENT,
		notify.KindStepResult:  enginev1.NotificationKind_NOTIFICATION_KIND_STEP_RESULT,
		notify.KindAppointment: enginev1.NotificationKind_NOTIFICATION_KIND_APPOINTMENT,
		notify.KindEnd:         enginev1.NotificationKind_NOTIFICATION_KIND_END,
	}
	notificationChannels = map[notify.Channel]enginev1.NotificationChannel{
		notify.ChannelSMS:   enginev1.NotificationChannel_NOTIFICATION_CHANNEL_SMS,
		notify.ChannelEmail: enginev1.NotificationChannel_NOTIFICATION_CHANNEL_EMAIL,
	}
	notificationStates = map[notify.State]enginev1.NotificationState{
		notify.StatePending: enginev1.NotificationState_NOTIFICATION_STATE_PENDING,
		notify.StateSent:    enginev1.NotificationState_NOTIFICATION_STATE_SENT,
		notify.StateFailed:  enginev1.NotificationState_NOTIFICATION_STATE_FAILED,
	}
)

// notificationsProto lists what the applicant was told. The text is the
// SMS, or the e-mail's subject: neither carries personal data. The
// recipient, masked, only goes to those who see the form.
func notificationsProto(ms []notify.Message, withRecipient bool) []*enginev1.Notification {
	out := make([]*enginev1.Notification, 0, len(ms))
	for _, m := range ms {
		n := &enginev1.Notification{
			Kind: notificationKinds[m.Kind], Channel: notificationChannels[m.Channel], State: notificationStates[m.State],
			CreatedAt: timestamppb.New(m.CreatedAt), SentAt: tsOrNil(m.SentAt),
			Attempts: int32(m.Attempts), Text: m.Body, Version: m.Version, //nolint:gosec // G115: a retry count
		}
		if m.Step != "" {
			n.Step = m.Step.Proto()
		}
		if m.Channel == notify.ChannelEmail {
			n.Text = m.Subject
		}
		if withRecipient {
			n.Recipient = maskRecipient(m.Channel, m.To)
		}
		out = append(out, n)
	}
	return out
}

// maskRecipient keeps enough of a phone or an address to recognise it:
// a phone's last four digits, an address's first letter and domain.
func maskRecipient(ch notify.Channel, to string) string {
	if ch == notify.ChannelSMS {
		if len(to) < 8 {
			return "•••"
		}
		return to[:3] + strings.Repeat("•", len(to)-7) + to[len(to)-4:]
	}
	local, domain, ok := strings.Cut(to, "@")
	if !ok || local == "" {
		return "•••"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "•••@" + domain
}
