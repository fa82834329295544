package agency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
)

// MailSink names the mock mail relay: an SMTP server that accepts every
// message and keeps it in its own schema, recognising a resend by its
// Message-ID. It stands for the province's mail relay under dev and in
// tests; nothing it receives goes further.
const MailSink = "mail"

// maxMail bounds one message; notifications are a few kilobytes.
const maxMail = 1 << 20

// MailSinkOptions configure the mail sink.
type MailSinkOptions struct {
	ListenAddr string
	Pool       *pgxpool.Pool
	// Domain is the name it greets with; "localhost" when empty.
	Domain string
	Logger *slog.Logger
}

// MailServer is a running mail sink.
type MailServer struct {
	srv  *smtp.Server
	lis  net.Listener
	log  *slog.Logger
	wg   sync.WaitGroup
	once sync.Once
}

// StartMailSink migrates the sink's schema and serves SMTP on ListenAddr
// until Stop. It returns once it accepts connections.
func StartMailSink(ctx context.Context, opts MailSinkOptions) (*MailServer, error) {
	if opts.Pool == nil || opts.ListenAddr == "" {
		return nil, errors.New("mail sink options: a PostgreSQL pool and a listen address are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("agency", MailSink)
	if _, err := Migrate(ctx, opts.Pool, MailSink); err != nil {
		return nil, err
	}
	m := &MailServer{log: log}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{pool: opts.Pool, log: log}, nil
	}))
	m.srv.Domain = opts.Domain
	if m.srv.Domain == "" {
		m.srv.Domain = "localhost"
	}
	m.srv.MaxMessageBytes = maxMail
	m.srv.MaxRecipients = 10
	m.srv.ReadTimeout, m.srv.WriteTimeout = 30*time.Second, 30*time.Second
	lis, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("starting the mail sink: %w", err)
	}
	m.lis = lis
	m.wg.Go(func() {
		if err := m.srv.Serve(lis); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			log.Error("serving SMTP", "err", err)
		}
	})
	log.Info("mail sink serving", "addr", lis.Addr().String())
	return m, nil
}

// Addr is where the sink listens.
func (m *MailServer) Addr() string { return m.lis.Addr().String() }

// Stop closes the listener and the open sessions.
func (m *MailServer) Stop() {
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.srv.Shutdown(ctx); err != nil {
			_ = m.srv.Close()
		}
		m.wg.Wait()
		m.log.Info("mail sink stopped")
	})
}

// mailSession is one SMTP conversation.
type mailSession struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	from string
	to   []string
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data stores the message once per Message-ID. A resend is answered like
// the first delivery, as a mailbox that already holds the message would.
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message"}
	}
	id := strings.TrimSpace(msg.Header.Get("Message-Id"))
	if id == "" {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "a Message-ID header is required"}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	body, err := decodeBody(msg)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "undecodable body"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	submissions, err := agencydb.New(s.pool).ReceiveMail(ctx, agencydb.ReceiveMailParams{
		MessageID: id, MailFrom: s.from, RcptTo: s.to, Subject: subject, Body: body, Raw: raw, ReceivedAt: time.Now(),
	})
	if err != nil {
		s.log.Error("storing a message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox temporarily unavailable"}
	}
	// Addresses and content are personal data: never logged.
	s.log.Debug("mail received", "duplicate", submissions > 1)
	return nil
}

func decodeBody(msg *mail.Message) (string, error) {
	r := msg.Body
	if strings.EqualFold(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding")), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxMail))
	return string(b), err
}

func (s *mailSession) Reset() { s.from, s.to = "", nil }

func (s *mailSession) Logout() error { return nil }
