package api

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// sessionKeys are what the session secret keys: the CSRF tokens' HMAC and
// the AES-256-GCM that seals the session cookies. Each is derived for its
// one purpose, so neither is ever the secret itself, nor the token key.
type sessionKeys struct {
	csrf []byte
	seal cipher.AEAD
}

func newSessionKeys(secret []byte) (sessionKeys, error) {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("lienthong session secret\x00" + purpose))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("cookie sealing"))
	if err != nil {
		return sessionKeys{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sessionKeys{}, err
	}
	return sessionKeys{csrf: derive("csrf"), seal: aead}, nil
}

// sealed is the envelope of every sealed cookie: when it stops being good,
// and what it holds.
type sealed[T any] struct {
	Expires int64 `json:"e"`
	Value   T     `json:"v"`
}

var errUnsealed = errors.New("not a cookie this API sealed, or expired")

// seal encrypts and authenticates v for the cookie called name until
// expires. The name is authenticated too, so one cookie's value is no good
// as another's.
func seal[T any](k sessionKeys, name string, v T, expires time.Time) (string, error) {
	plain, err := json.Marshal(sealed[T]{Expires: expires.Unix(), Value: v})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(plain)+k.seal.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.seal.Seal(nonce, nonce, plain, []byte(name))), nil
}

// unseal opens what seal made for the cookie called name, if it has not expired.
func unseal[T any](k sessionKeys, name, value string, now time.Time) (T, error) {
	var zero T
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < k.seal.NonceSize() {
		return zero, errUnsealed
	}
	n := k.seal.NonceSize()
	plain, err := k.seal.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return zero, errUnsealed
	}
	var env sealed[T]
	if err := json.Unmarshal(plain, &env); err != nil || now.Unix() >= env.Expires {
		return zero, errUnsealed
	}
	return env.Value, nil
}
