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

	t.Run("no key rejected", func(t *testing.T) {
		t.Parallel()
		_, err := payloadcodec.New()
		require.ErrorContains(t, err, "at least one key")
	})
}

func TestRotation(t *testing.T) {
	t.Parallel()
	a, b := key(0xA), key(0xB)
	before, err := payloadcodec.New(a)
	require.NoError(t, err)
	// After the rotation B encrypts and A is kept to read what it sealed.
	after, err := payloadcodec.New(b, a)
	require.NoError(t, err)
	require.Equal(t, []string{payloadcodec.KeyID(b), payloadcodec.KeyID(a)}, after.KeyIDs())

	sealedByA, err := before.DataConverter().ToPayload("written before")
	require.NoError(t, err)
	sealedByB, err := after.DataConverter().ToPayload("written after")
	require.NoError(t, err)

	t.Run("new payloads name the newest key", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, payloadcodec.KeyID(a), string(sealedByA.Metadata[payloadcodec.MetaKeyID]))
		require.Equal(t, payloadcodec.KeyID(b), string(sealedByB.Metadata[payloadcodec.MetaKeyID]))
	})

	t.Run("both decrypt after the rotation", func(t *testing.T) {
		t.Parallel()
		var s string
		require.NoError(t, after.DataConverter().FromPayload(sealedByA, &s))
		require.Equal(t, "written before", s)
		require.NoError(t, after.DataConverter().FromPayload(sealedByB, &s))
		require.Equal(t, "written after", s)
	})

	t.Run("a process not yet rotated cannot read the new key, by name", func(t *testing.T) {
		t.Parallel()
		var s string
		require.ErrorContains(t, before.DataConverter().FromPayload(sealedByB, &s), "encrypted with key "+payloadcodec.KeyID(b))
	})

	t.Run("a retired key's payloads fail by name", func(t *testing.T) {
		t.Parallel()
		retired, err := payloadcodec.New(b)
		require.NoError(t, err)
		var s string
		require.ErrorContains(t, retired.DataConverter().FromPayload(sealedByA, &s), "encrypted with key "+payloadcodec.KeyID(a))
	})

	t.Run("a payload without a key id is opened by whichever key sealed it", func(t *testing.T) {
		t.Parallel()
		p, err := before.DataConverter().ToPayload("no id")
		require.NoError(t, err)
		delete(p.Metadata, payloadcodec.MetaKeyID)
		var s string
		require.NoError(t, after.DataConverter().FromPayload(p, &s))
		require.Equal(t, "no id", s)
		other, err := payloadcodec.New(key(0xC))
		require.NoError(t, err)
		require.ErrorContains(t, other.DataConverter().FromPayload(p, &s), "without a key id")
	})

	t.Run("the same key twice is refused", func(t *testing.T) {
		t.Parallel()
		_, err := payloadcodec.New(a, b, a)
		require.ErrorContains(t, err, "key 3: the same key is given twice")
	})
}
