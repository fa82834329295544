package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// Mailer sends e-mail over SMTP to a relay on a private network (the
// province's, or the dev stack's sink), without authentication or TLS,
// which are the relay's to require of the outside world.
type Mailer struct {
	// Addr is the relay, host:port.
	Addr string
	// From is the sender's address; its domain names the Message-IDs.
	From string
}

// fromName is how the sender shows in a mail client.
const fromName = "Hệ thống liên thông"

// Send delivers m under its Message-ID, so the relay recognises a resend.
// A 5xx reply is a permanent error (IsPermanent); anything else may pass.
func (ml *Mailer) Send(ctx context.Context, m Message) error {
	from, err := mail.ParseAddress(ml.From)
	if err != nil {
		return Permanent(fmt.Errorf("sender %q: %w", ml.From, err))
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return Permanent(fmt.Errorf("the recipient is not an e-mail address: %w", err))
	}
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	msg, err := compose(m, from.Address, to.Address, m.MailMessageID(domain), time.Now())
	if err != nil {
		return Permanent(err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ml.Addr)
	if err != nil {
		return fmt.Errorf("connecting to the mail relay: %w", err)
	}
	// A cancelled send ends its connection; a relay that hangs is cut off.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(ml.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return classifySMTP("greeting", err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello(domain); err != nil {
		return classifySMTP("HELO", err)
	}
	if err := c.Mail(from.Address); err != nil {
		return classifySMTP("MAIL FROM", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return classifySMTP("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classifySMTP("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP("DATA", err)
	}
	_ = c.Quit()
	return nil
}

// compose writes a plain-text UTF-8 message, quoted-printable, CRLF.
func compose(m Message, from, to, messageID string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", (&mail.Address{Name: fromName, Address: from}).String())
	header("To", (&mail.Address{Address: to}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation replies to a machine.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// permanentError is a refusal that sending again will not change.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent marks err as a refusal that sending again will not change, for
// a MailSender to return.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent says err is a refusal that sending again will not change.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

func classifySMTP(stage string, err error) error {
	err = fmt.Errorf("SMTP %s: %w", stage, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(err)
	}
	return err
}
