package agency_test

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/internal/pgtest"
)

func TestMailSink(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	sink, err := agency.StartMailSink(t.Context(), agency.MailSinkOptions{ListenAddr: "127.0.0.1:0", Pool: pool})
	require.NoError(t, err)
	t.Cleanup(sink.Stop)
	msg := func(id string) []byte {
		h := "From: no-reply@lienthong.local\r\nTo: nguoinop@example.vn\r\nSubject: =?utf-8?q?H=E1=BB=93_s=C6=A1?=\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
		if id != "" {
			h += "Message-ID: " + id + "\r\n"
		}
		return []byte(h + "\r\nK=C3=ADnh g=E1=BB=ADi =C3=B4ng/b=C3=A0,\r\n")
	}
	send := func(body []byte) error {
		return smtp.SendMail(sink.Addr(), nil, "no-reply@lienthong.local", []string{"nguoinop@example.vn"}, body)
	}
	count := func() (rows, submissions int) {
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*), coalesce(sum(submissions), 0) FROM mail.messages").Scan(&rows, &submissions))
		return rows, submissions
	}

	require.NoError(t, send(msg("<a.v1.receipt.dossier.email@lienthong.local>")))
	var subject, body string
	var to []string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT subject, body, rcpt_to FROM mail.messages").Scan(&subject, &body, &to))
	require.Equal(t, "Hồ sơ", subject, "the subject is decoded")
	require.True(t, strings.HasPrefix(body, "Kính gửi ông/bà,"), "the body is decoded: %q", body)
	require.Equal(t, []string{"nguoinop@example.vn"}, to)

	t.Run("a resend under the same Message-ID is accepted and kept once", func(t *testing.T) {
		require.NoError(t, send(msg("<a.v1.receipt.dossier.email@lienthong.local>")))
		rows, submissions := count()
		require.Equal(t, 1, rows)
		require.Equal(t, 2, submissions)
	})

	t.Run("another Message-ID is another message", func(t *testing.T) {
		require.NoError(t, send(msg("<a.v2.end.dossier.email@lienthong.local>")))
		rows, _ := count()
		require.Equal(t, 2, rows)
	})

	t.Run("a message without a Message-ID is refused for good", func(t *testing.T) {
		err := send(msg(""))
		require.ErrorContains(t, err, "554")
		rows, _ := count()
		require.Equal(t, 2, rows)
	})
}
