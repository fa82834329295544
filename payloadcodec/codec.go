// Package payloadcodec encrypts every Temporal payload lienthong writes with
// AES-256-GCM, so workflow histories, the Web UI and the server's database
// never hold personal data in plaintext. It must not import other lienthong
// packages.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks an encrypted payload.
	Encoding    = "binary/encrypted"
	metaKeyID   = "encryption-key-id"
	metaEncoded = "encoding"
)

// Codec is a converter.PayloadCodec using AES-256-GCM.
type Codec struct {
	aead  cipher.AEAD
	keyID string
}

// New makes a codec from a 32-byte key. The key id (a hash prefix) is stored
// with each payload, so a payload encrypted with another key fails clearly.
func New(key []byte) (*Codec, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("payload codec key: got %d bytes, expected 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("payload codec key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("payload codec key: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Codec{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// DataConverter wraps the SDK's default converter with this codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode encrypts each payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encoding payload: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encoding payload: %w", err)
		}
		sealed := c.aead.Seal(nonce, nonce, plain, []byte(c.keyID))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncoded: []byte(Encoding), metaKeyID: []byte(c.keyID)},
			Data:     sealed,
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec encrypted and passes others through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metaEncoded]) != Encoding {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[metaKeyID]); id != c.keyID {
			return nil, fmt.Errorf("decoding payload: encrypted with key %s, this worker has key %s", id, c.keyID)
		}
		n := c.aead.NonceSize()
		if len(p.GetData()) < n {
			return nil, errors.New("decoding payload: ciphertext too short")
		}
		plain, err := c.aead.Open(nil, p.GetData()[:n], p.GetData()[n:], []byte(c.keyID))
		if err != nil {
			return nil, fmt.Errorf("decoding payload: %w", err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("decoding payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// ReplayFixtureKey is the key the recorded histories in workflows/testdata
// are encrypted with, so the replay test can read them. It protects nothing
// and must never be configured for real data.
var ReplayFixtureKey = []byte("lienthong-replay-fixture-key-32b")
