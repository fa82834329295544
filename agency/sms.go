package agency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/notify"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// SMSGateway names the mock SMS gateway, which runs as an agency server:
// the same credentials, AdminService and faults, no cases.
const SMSGateway = "sms"

// Limits of a SendSms request.
const (
	maxMessageID = 200
	maxSMSText   = 1000
)

// smsGateway accepts text messages and keeps what it delivered. A client's
// message id is sent once: the gateway is what makes a dispatcher's resend
// after a crash harmless.
type smsGateway struct {
	agencyv1.UnimplementedSmsGatewayServiceServer
	pool *pgxpool.Pool
	log  *slog.Logger
}

func (g *smsGateway) SendSms(ctx context.Context, req *agencyv1.SendSmsRequest) (*agencyv1.SendSmsResponse, error) {
	var v violations
	v.require("message_id", req.GetMessageId())
	if len(req.GetMessageId()) > maxMessageID {
		v.add("message_id", "must be at most %d characters", maxMessageID)
	}
	if phone, err := civil.NormalizePhone(req.GetTo()); err != nil || phone != req.GetTo() {
		v.add("to", "must be a Vietnamese mobile number in E.164 form, e.g. +84912345678")
	}
	v.require("text", req.GetText())
	if utf8.RuneCountInString(req.GetText()) > maxSMSText {
		v.add("text", "must be at most %d characters", maxSMSText)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	client := clientFrom(ctx)
	encoding, segments := notify.Segments(req.GetText())
	out := &agencyv1.SendSmsResponse{}
	q := agencydb.New(g.pool)
	accepted, err := q.AcceptSms(ctx, agencydb.AcceptSmsParams{
		Client: client, MessageID: req.GetMessageId(), Phone: req.GetTo(), Body: req.GetText(), Encoding: encoding,
		Segments: int32(segments), AcceptedAt: time.Now(),
	})
	id, at := accepted.ID, accepted.AcceptedAt
	if errors.Is(err, pgx.ErrNoRows) {
		out.Duplicate = true
		var again agencydb.ResubmitSmsRow
		again, err = q.ResubmitSms(ctx, agencydb.ResubmitSmsParams{Client: client, MessageID: req.GetMessageId()})
		id, encoding, segments, at = again.ID, again.Encoding, int(again.Segments), again.AcceptedAt
		if err == nil && (again.Phone != req.GetTo() || again.Body != req.GetText()) {
			return nil, conflict("message_id %q was already used for another message", req.GetMessageId())
		}
	}
	if err != nil {
		return nil, dbError(err, "accepting the message")
	}
	out.GatewayId, out.AcceptedAt = fmt.Sprintf("SMS-%08d", id), timestamppb.New(at)
	out.Encoding, out.Segments = encoding, int32(segments) //nolint:gosec // G115: at most a thousand characters
	// The phone and the text are personal data: never logged.
	g.log.Debug("sms accepted", "gateway_id", out.GatewayId, "segments", segments, "duplicate", out.Duplicate)
	return out, nil
}
