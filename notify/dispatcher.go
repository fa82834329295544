package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/textproto"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Dispatcher sends the outbox: SMS through the gateway, e-mail over SMTP.
// Each message carries an id derived from its row, so when a dispatcher dies
// after a channel accepted a message but before the row was marked sent,
// the next send of that row is recognised as the same message. Transient
// failures are retried with backoff for as long as it takes: an outage of a
// channel delays messages and loses none. Any number of dispatchers may run
// on one outbox.
type Dispatcher struct {
	Outbox  Outbox
	SMS     agencyv1.SmsGatewayServiceClient
	Mail    MailSender
	Metrics *Metrics
	Logger  *slog.Logger

	// Poll is how often an idle dispatcher looks for due messages (500 ms).
	Poll time.Duration
	// Batch is how many messages one claim takes and sends at once (16).
	Batch int
	// SendTimeout bounds one send (10 s).
	SendTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry, doubling
	// from MinBackoff with each failure (1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
}

// MailSender sends one e-mail; *Mailer does, over SMTP.
type MailSender interface {
	Send(ctx context.Context, m Message) error
}

// backlogEvery is how often Run measures the outbox for the gauges.
const backlogEvery = 5 * time.Second

// Run dispatches until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	log := d.logger()
	var measured time.Time
	// Stopping is not an error: what was claimed goes out again later.
	for ctx.Err() == nil {
		n, err := d.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("dispatching notifications", "error", err)
		}
		if time.Since(measured) >= backlogEvery {
			measured = time.Now()
			if pending, oldest, err := d.Outbox.NotificationBacklog(ctx); err == nil {
				d.Metrics.backlog(pending, oldest)
			}
		}
		if n > 0 && err == nil {
			// A message sent makes its dossier's next one due: look again
			// at once, so a dossier's messages follow each other closely.
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(cmp.Or(d.Poll, 500*time.Millisecond)):
		}
	}
	return nil
}

// DispatchOnce claims one batch of due messages and sends it.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	return d.Outbox.DispatchNotifications(ctx, cmp.Or(d.Batch, 16), d.send)
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// send sends one message. The recipient and the text are personal data:
// they are never logged.
func (d *Dispatcher) send(ctx context.Context, m Message) Outcome {
	sctx, cancel := context.WithTimeout(ctx, cmp.Or(d.SendTimeout, 10*time.Second))
	defer cancel()
	var err error
	var refused bool
	switch m.Channel {
	case ChannelSMS:
		_, err = d.SMS.SendSms(sctx, &agencyv1.SendSmsRequest{MessageId: m.MessageID(), To: m.To, Text: m.Body})
		switch status.Code(err) {
		case codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition:
			refused = true
		}
	case ChannelEmail:
		err = d.Mail.Send(sctx, m)
		refused = IsPermanent(err)
	}
	if ctx.Err() != nil {
		// Stopped mid-send: the outcome is not recorded and the message goes
		// out again, under the same id.
		return Outcome{Err: ctx.Err()}
	}
	log := d.logger().With("dossier_id", m.Code, "step", m.Step, "kind", m.Kind, "channel", m.Channel, "attempt", m.Attempts+1)
	switch {
	case err == nil:
		d.Metrics.sent(m.Channel, OutcomeSent)
		log.Debug("notification sent")
		return Outcome{At: time.Now()}
	case refused:
		d.Metrics.sent(m.Channel, OutcomeFailed)
		log.Warn("notification refused", "error", errorClass(err))
		return Outcome{Err: err, Permanent: true}
	}
	d.Metrics.sent(m.Channel, OutcomeRetried)
	wait := d.backoff(m.Attempts)
	log.Info("notification not sent, will retry", "error", errorClass(err), "retry_in", wait.String())
	return Outcome{Err: err, RetryAt: time.Now().Add(wait)}
}

// errorClass names an error for the logs without its text: a mail relay's
// reply often quotes the address it refused. The whole error goes to the
// outbox row's last_error, beside the address it concerns.
func errorClass(err error) string {
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("SMTP %d", te.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	if st, ok := status.FromError(err); ok {
		return "gRPC " + st.Code().String()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network error"
	}
	return "error"
}

// backoff is the wait after the attempts-th failure: doubling, capped,
// with 20% jitter so that dispatchers do not retry in step.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	lo, hi := cmp.Or(d.MinBackoff, time.Second), cmp.Or(d.MaxBackoff, time.Minute)
	wait := lo
	for range min(attempts, 30) {
		if wait *= 2; wait >= hi {
			wait = hi
			break
		}
	}
	return time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // G404: jitter, not a secret
}
