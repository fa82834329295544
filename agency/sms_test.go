package agency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestSMSGateway(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: agency.SMSGateway})
	sms := agencyv1.NewSmsGatewayServiceClient(a.conn)
	req := &agencyv1.SendSmsRequest{MessageId: "00004-260302-0001/1/receipt//sms", To: "+84912345678",
		Text: "Hồ sơ 00004-260302-0001 (liên thông khai sinh) đã được tiếp nhận. Ngày hẹn trả kết quả: 05/03/2026."}

	first, err := sms.SendSms(a.ctx(t), req)
	require.NoError(t, err)
	require.False(t, first.GetDuplicate())
	require.Equal(t, "UCS-2", first.GetEncoding())
	require.EqualValues(t, 2, first.GetSegments(), "97 UCS-2 units take two SMS")
	require.NotEmpty(t, first.GetGatewayId())

	t.Run("a resend of the same message id sends nothing", func(t *testing.T) {
		again, err := sms.SendSms(a.ctx(t), req)
		require.NoError(t, err)
		require.True(t, again.GetDuplicate())
		require.Equal(t, first.GetGatewayId(), again.GetGatewayId())
		require.True(t, first.GetAcceptedAt().AsTime().Equal(again.GetAcceptedAt().AsTime()))
		require.Equal(t, 1, a.count(t, "sms.messages"))
		var submissions int
		require.NoError(t, a.pool.QueryRow(t.Context(), "SELECT submissions FROM sms.messages").Scan(&submissions))
		require.Equal(t, 2, submissions)
	})

	t.Run("the same id for another message is refused", func(t *testing.T) {
		other := &agencyv1.SendSmsRequest{MessageId: req.GetMessageId(), To: req.GetTo(), Text: "khác"}
		_, err := sms.SendSms(a.ctx(t), other)
		require.Equal(t, codes.AlreadyExists, status.Code(err))
	})

	t.Run("bad requests name their fields", func(t *testing.T) {
		_, err := sms.SendSms(a.ctx(t), &agencyv1.SendSmsRequest{To: "0912345678"})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
		requireViolations(t, err, "message_id", "to", "text")
	})

	t.Run("an outage set on the admin service refuses every send, and its end lets them through", func(t *testing.T) {
		now := time.Now()
		_, err := a.admin.SetFaults(a.adminCtx(t), &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{
			OutageFrom: timestamppb.New(now.Add(-time.Minute)), OutageUntil: timestamppb.New(now.Add(time.Hour))}})
		require.NoError(t, err)
		next := &agencyv1.SendSmsRequest{MessageId: "m-2", To: req.GetTo(), Text: "Ho so da xong."}
		_, err = sms.SendSms(a.ctx(t), next)
		require.Equal(t, codes.Unavailable, status.Code(err))
		require.Equal(t, 1, a.count(t, "sms.messages"), "a faulted call writes nothing")
		_, err = a.admin.SetFaults(a.adminCtx(t), &agencyv1.SetFaultsRequest{})
		require.NoError(t, err)
		got, err := sms.SendSms(a.ctx(t), next)
		require.NoError(t, err)
		require.Equal(t, "GSM-7", got.GetEncoding())
		require.EqualValues(t, 1, got.GetSegments())
	})

	t.Run("without a key nothing is sent", func(t *testing.T) {
		_, err := sms.SendSms(t.Context(), req)
		require.Equal(t, codes.Unauthenticated, status.Code(err))
	})
}

// requireViolations checks err names exactly these bad fields.
func requireViolations(t *testing.T, err error, fields ...string) {
	t.Helper()
	var got []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				got = append(got, v.GetField())
			}
		}
	}
	require.ElementsMatch(t, fields, got)
}
