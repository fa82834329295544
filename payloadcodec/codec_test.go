package payloadcodec_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/lienthong/lienthong/payloadcodec"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestCodec(t *testing.T) {
	t.Parallel()
	c, err := payloadcodec.New(key(1))
	require.NoError(t, err)
	dc := c.DataConverter()

	t.Run("round trip hides the plaintext", func(t *testing.T) {
		t.Parallel()
		p, err := dc.ToPayload(map[string]string{"name": "Nguyễn Văn An"})
		require.NoError(t, err)
		require.Equal(t, payloadcodec.Encoding, string(p.Metadata["encoding"]))
		require.NotContains(t, string(p.Data), "Nguy")
		var got map[string]string
		require.NoError(t, dc.FromPayload(p, &got))
		require.Equal(t, "Nguyễn Văn An", got["name"])
	})

	t.Run("another key is refused by name", func(t *testing.T) {
		t.Parallel()
		p, err := dc.ToPayload("secret")
		require.NoError(t, err)
		other, err := payloadcodec.New(key(2))
		require.NoError(t, err)
		var s string
		require.ErrorContains(t, other.DataConverter().FromPayload(p, &s), "encrypted with key")
	})

	t.Run("a changed byte fails", func(t *testing.T) {
		t.Parallel()
		p, err := dc.ToPayload("secret")
		require.NoError(t, err)
		p.Data[len(p.Data)-1] ^= 1
		var s string
		require.Error(t, dc.FromPayload(p, &s))
	})

	t.Run("plain payloads pass through", func(t *testing.T) {
		t.Parallel()
		p, err := converter.GetDefaultDataConverter().ToPayload("plain")
		require.NoError(t, err)
		var s string
		require.NoError(t, dc.FromPayload(p, &s))
		require.Equal(t, "plain", s)
	})

	t.Run("short key rejected", func(t *testing.T) {
		t.Parallel()
		_, err := payloadcodec.New([]byte("short"))
		require.ErrorContains(t, err, "expected 32")
	})
}
