package notify

import (
	"context"
	"time"
)

// Message is one row of the outbox: what one channel tells the applicant
// about one change of a dossier.
type Message struct {
	ID int64
	Key
	// Subject is the e-mail's; an SMS has none.
	Subject string
	// Body is the SMS text or the e-mail's body.
	Body string
	// To is the phone (E.164) or the e-mail address; only a claimed message
	// carries it.
	To        string
	State     State
	Attempts  int
	LastError string
	// CreatedAt is when the version that caused the message was written.
	CreatedAt time.Time
	SentAt    *time.Time
}

// Outcome is what a send came to.
type Outcome struct {
	// Err is nil when the channel accepted the message, at At.
	Err error
	At  time.Time
	// Permanent says the channel refused the message for good: it is marked
	// failed, and the dossier's later messages go on without it.
	Permanent bool
	// RetryAt is when to try a message again after a transient error.
	RetryAt time.Time
}

// Sender sends one claimed message.
type Sender func(ctx context.Context, m Message) Outcome

// Outbox is the store's side of dispatching.
type Outbox interface {
	// DispatchNotifications claims up to limit messages, each the oldest
	// unsent one of its dossier and due, and none of a dossier with an
	// earlier message unsent; it sends them with send and records each
	// outcome. The rows stay locked from the claim until the outcomes are
	// recorded, so other dispatchers skip them, and a dispatcher that dies
	// in between leaves them unsent for another to send again. It returns
	// how many it claimed.
	DispatchNotifications(ctx context.Context, limit int, send Sender) (int, error)
	// NotificationBacklog counts the unsent messages and the age of the oldest.
	NotificationBacklog(ctx context.Context) (pending int, oldest time.Duration, err error)
}
