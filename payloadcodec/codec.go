// Package payloadcodec encrypts every Temporal payload lienthong writes with
// AES-256-GCM, so workflow histories, the Web UI and the server's database
// never hold personal data in plaintext. It must not import other lienthong
// packages.
//
// Keys rotate: a codec holds the newest key, which encrypts, and any older
// keys still needed to read running dossiers' histories. Each payload names
// the key that sealed it (a hash prefix, never the key), so decoding picks
// the right one and an unknown key fails by name.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks an encrypted payload.
	Encoding = "binary/encrypted"
	// MetaKeyID is the payload metadata entry naming the key that sealed it.
	MetaKeyID   = "encryption-key-id"
	metaEncoded = "encoding"
)

// Codec is a converter.PayloadCodec using AES-256-GCM.
type Codec struct {
	// keys[0] encrypts; every key decrypts what it sealed.
	keys []key
	byID map[string]key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// New makes a codec from one or more 32-byte keys, newest first. The newest
// encrypts; the others only decrypt, so payloads written before a rotation
// stay readable until no running dossier needs them.
func New(keys ...[]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload codec key: at least one key is required")
	}
	c := &Codec{byID: map[string]key{}}
	for i, raw := range keys {
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("payload codec key %d: %w", i+1, err)
		}
		if _, dup := c.byID[k.id]; dup {
			return nil, fmt.Errorf("payload codec key %d: the same key is given twice", i+1)
		}
		c.keys = append(c.keys, k)
		c.byID[k.id] = k
	}
	return c, nil
}

func newKey(raw []byte) (key, error) {
	if len(raw) != 32 {
		return key{}, fmt.Errorf("got %d bytes, expected 32", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	return key{id: KeyID(raw), aead: aead}, nil
}

// KeyID is the id a payload sealed with raw carries: the first four bytes of
// its SHA-256, in hex. It identifies the key without revealing it.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// KeyIDs lists the codec's key ids, the encrypting one first.
func (c *Codec) KeyIDs() []string {
	ids := make([]string, len(c.keys))
	for i, k := range c.keys {
		ids[i] = k.id
	}
	return ids
}

// DataConverter wraps the SDK's default converter with this codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode encrypts each payload with the newest key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.keys[0]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encoding payload: %w", err)
		}
		nonce := make([]byte, k.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encoding payload: %w", err)
		}
		sealed := k.aead.Seal(nonce, nonce, plain, []byte(k.id))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncoded: []byte(Encoding), MetaKeyID: []byte(k.id)},
			Data:     sealed,
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec's keys encrypted and passes others
// through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metaEncoded]) != Encoding {
			out[i] = p
			continue
		}
		plain, err := c.open(p)
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

// open finds the payload's key by its id. A payload that names no key (one
// whose metadata was stripped on the way) is tried against every key: the
// key id is also the sealed data's associated data, so only the right key
// opens it.
func (c *Codec) open(p *commonpb.Payload) ([]byte, error) {
	id, named := p.GetMetadata()[MetaKeyID]
	if !named {
		for _, k := range c.keys {
			if plain, err := openWith(k, p.GetData()); err == nil {
				return plain, nil
			}
		}
		return nil, fmt.Errorf("no configured key (%s) opens a payload without a key id", strings.Join(c.KeyIDs(), ", "))
	}
	k, ok := c.byID[string(id)]
	if !ok {
		return nil, fmt.Errorf("encrypted with key %s, this process has keys %s", id, strings.Join(c.KeyIDs(), ", "))
	}
	return openWith(k, p.GetData())
}

func openWith(k key, data []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(data) < n {
		return nil, errors.New("ciphertext too short")
	}
	return k.aead.Open(nil, data[:n], data[n:], []byte(k.id))
}

// ReplayFixtureKey is the key the recorded histories in workflows/testdata
// are encrypted with, so the replay test can read them. It protects nothing
// and must never be configured for real data.
var ReplayFixtureKey = []byte("lienthong-replay-fixture-key-32b")
