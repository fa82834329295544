// Package notify owns what the applicant is told about a dossier and how it
// reaches them: which changes between two versions of a dossier make a
// notification (Derive), their texts in Vietnamese, which never carry an ID
// number, the SMS segment arithmetic, and the Dispatcher that sends the
// engine's outbox through the SMS gateway and over SMTP.
//
// The outbox itself is the store's: it writes each notification in the same
// transaction as the version of the dossier that causes it. This package must
// not import store, workflows, activities, api or agency.
package notify

import (
	"fmt"
	"time"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
)

// Kind is what a notification is about.
type Kind string

const (
	// KindReceipt: the dossier was received; its code and appointment date.
	KindReceipt Kind = "receipt"
	// KindSupplement: a procedure needs a supplement; what and by when.
	KindSupplement Kind = "supplement"
	// KindStepResult: a procedure was decided, approved or rejected.
	KindStepResult Kind = "step_result"
	// KindAppointment: the appointment date moved later.
	KindAppointment Kind = "appointment"
	// KindEnd: the dossier ended: completed, partly, rejected or cancelled.
	KindEnd Kind = "end"
)

// Channel is how a notification travels.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// State is where an outbox row stands.
type State string

const (
	StatePending State = "pending"
	StateSent    State = "sent"
	// StateFailed: the channel refused the message for good; later messages
	// of the dossier go on without it.
	StateFailed State = "failed"
)

// SupplementDays is the applicant's window for a supplement, in working
// days. The workflow keeps its own copy (workflows.DefaultLimits), which the
// snapshot does not carry; a test keeps the two equal.
const SupplementDays = 7

// Key names one notification. Replaying a version of a dossier derives the
// same keys, so the outbox holds each notification once.
type Key struct {
	Code    string
	Version int64
	Kind    Kind
	Step    dossier.StepKind
	Channel Channel
}

// MessageID is the key as the id the SMS gateway deduplicates by: the same
// row sent twice carries the same id, so a resend is not a second message.
func (k Key) MessageID() string {
	return fmt.Sprintf("%s/%d/%s/%s/%s", k.Code, k.Version, k.Kind, k.Step, k.Channel)
}

// MailMessageID is the key as an RFC 5322 Message-ID in domain.
func (k Key) MailMessageID(domain string) string {
	step := string(k.Step)
	if step == "" {
		step = "dossier"
	}
	return fmt.Sprintf("<%s.v%d.%s.%s.%s@%s>", k.Code, k.Version, k.Kind, step, k.Channel, domain)
}

// Contact is where an applicant is told: a phone in E.164 form for SMS
// (empty when they opted out) and an e-mail address (empty when none was
// given).
type Contact struct {
	Phone string
	Email string
}

// Channels lists the channels the contact can be reached on, SMS first.
func (c Contact) Channels() []Channel {
	var out []Channel
	if c.Phone != "" {
		out = append(out, ChannelSMS)
	}
	if c.Email != "" {
		out = append(out, ChannelEmail)
	}
	return out
}

// Notice is one thing to tell the applicant, with its text for each channel.
type Notice struct {
	Kind Kind
	// Step is the procedure a supplement or result is about; empty otherwise.
	Step dossier.StepKind
	// SMS is the short text.
	SMS string
	// Subject and Body are the e-mail, which may say more.
	Subject string
	Body    string
}

// Text is the notice as sent on channel: the SMS text, or the e-mail's
// subject and body.
func (n Notice) Text(ch Channel) (subject, body string) {
	if ch == ChannelSMS {
		return "", n.SMS
	}
	return n.Subject, n.Body
}

// Derive lists what to tell the applicant when the read model moves the
// dossier from prev to next, in the order to tell it: the receipt, then
// each procedure's new request for a supplement and each decided one, in
// the order of the steps, then a later appointment, then the end.
// prev.Version is 0 when the read model has never held a version (the
// dossier was just stored). cal dates a supplement's deadline the way the
// workflow does.
func Derive(prev, next dossier.Snapshot, cal *calendar.Calendar) []Notice {
	if next.Version <= prev.Version {
		return nil
	}
	var out []Notice
	if prev.Version == 0 {
		out = append(out, receipt(next))
	}
	for _, st := range next.Steps {
		was := dossier.StepPending
		if p := prev.Step(st.Kind); p != nil {
			was = p.Status
		}
		if st.Status == was || was.Terminal() {
			continue
		}
		switch st.Status {
		case dossier.StepNeedsSupplement:
			out = append(out, supplement(next, st, cal.AddWorkingDays(st.StatusSince, SupplementDays)))
		case dossier.StepApproved, dossier.StepRejected:
			out = append(out, stepResult(next, st))
		}
	}
	if prev.Version > 0 && next.AppointmentAt.After(prev.AppointmentAt) {
		out = append(out, appointment(next))
	}
	if next.Status.Terminal() && !prev.Status.Terminal() {
		out = append(out, end(next))
	}
	return out
}

// date is a day as Vietnamese texts write it, in Vietnam's time zone.
func date(t time.Time) string { return t.In(civil.Zone).Format("02/01/2006") }
