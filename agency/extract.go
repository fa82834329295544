package agency

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// signingKey is the civil-status office's Ed25519 key.
type signingKey struct {
	id   string
	priv ed25519.PrivateKey
}

// loadSigningKey returns the active key, making one on first start. The key
// lives in the justice schema so that a restart keeps signing with it and
// old extracts keep verifying.
func loadSigningKey(ctx context.Context, pool *pgxpool.Pool) (signingKey, error) {
	for range 2 {
		var k signingKey
		var priv []byte
		err := pool.QueryRow(ctx, `SELECT key_id, private_key FROM justice.signing_keys WHERE active`).Scan(&k.id, &priv)
		if err == nil {
			k.priv = ed25519.PrivateKey(priv)
			return k, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return k, fmt.Errorf("loading signing key: %w", err)
		}
		pub, newPriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return k, fmt.Errorf("making signing key: %w", err)
		}
		sum := sha256.Sum256(pub)
		// Another starter may have made one first; the unique index keeps one active key.
		if _, err := pool.Exec(ctx, `INSERT INTO justice.signing_keys (key_id, public_key, private_key, active)
			VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING`, "justice-"+hex.EncodeToString(sum[:6]), []byte(pub), []byte(newPriv)); err != nil {
			return k, fmt.Errorf("storing signing key: %w", err)
		}
	}
	return signingKey{}, errors.New("loading signing key: no active key after making one")
}

// canonicalJSON encodes doc with sorted keys and no insignificant
// whitespace, so the same content always gives the same bytes.
func canonicalJSON(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// issue signs and stores the next revision of a case's extract.
func (j *justice) issue(ctx context.Context, tx pgx.Tx, c *caseRecord, reg registration, doc map[string]any, now time.Time) error {
	var revision int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(revision), 0) + 1 FROM justice.extracts WHERE case_id = $1`, c.ID).Scan(&revision); err != nil {
		return err
	}
	doc["case_id"] = c.ID
	doc["registration_number"] = reg.number()
	doc["registration_book"] = reg.book
	doc["registration_entry"] = strconv.Itoa(reg.entry)
	doc["registered_at"] = timeText(reg.at)
	doc["key_id"] = j.key.id
	doc["issued_at"] = timeText(now)
	doc["revision"] = revision
	payload, err := canonicalJSON(doc)
	if err != nil {
		return err
	}
	sig := ed25519.Sign(j.key.priv, payload)
	_, err = tx.Exec(ctx, `INSERT INTO justice.extracts (case_id, revision, payload, signature, key_id, issued_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, revision, payload, sig, j.key.id, now)
	return err
}

// GetExtract returns the newest extract of an approved registration.
func (j *justice) GetExtract(ctx context.Context, req *agencyv1.GetExtractRequest) (*agencyv1.GetExtractResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := j.d.get(ctx, j.d.pool, "case_id", req.GetCaseId(), false)
	if err != nil {
		return nil, dbError(err, "getting extract")
	}
	e := &agencyv1.Extract{CaseId: c.ID}
	var issued time.Time
	err = j.d.pool.QueryRow(ctx, `SELECT r.book, r.entry::text, e.payload, e.signature, e.key_id, e.issued_at
		FROM justice.extracts e JOIN justice.registrations r USING (case_id)
		WHERE e.case_id = $1 ORDER BY e.revision DESC LIMIT 1`, c.ID).
		Scan(&e.RegistrationBook, &e.RegistrationEntry, &e.Payload, &e.Signature, &e.KeyId, &issued)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, failedPrecondition("case %s has no extract: it is %s", c.ID, statusText(c.Status))
	}
	if err != nil {
		return nil, dbError(err, "getting extract")
	}
	e.Kind = "birth"
	if c.Kind == kindDeath {
		e.Kind = "death"
	}
	e.IssuedAt = timestamppb.New(issued)
	return &agencyv1.GetExtractResponse{Extract: e}, nil
}

// VerifyExtract checks the signature over the payload and that the
// unsigned envelope agrees with the signed content. An authentic extract
// that a later revision replaced says so in the reason.
func (j *justice) VerifyExtract(ctx context.Context, req *agencyv1.VerifyExtractRequest) (*agencyv1.VerifyExtractResponse, error) {
	e := req.GetExtract()
	if e == nil {
		var v violations
		v.add("extract", "is required")
		return nil, v.err()
	}
	no := func(format string, args ...any) (*agencyv1.VerifyExtractResponse, error) {
		return &agencyv1.VerifyExtractResponse{Authentic: false, Reason: fmt.Sprintf(format, args...)}, nil
	}
	if e.GetKeyId() == "" {
		return no("the extract names no signing key")
	}
	var pub []byte
	err := j.d.pool.QueryRow(ctx, `SELECT public_key FROM justice.signing_keys WHERE key_id = $1`, e.GetKeyId()).Scan(&pub)
	if errors.Is(err, pgx.ErrNoRows) {
		return no("signed with key %q, which this civil-status office never used", e.GetKeyId())
	}
	if err != nil {
		return nil, dbError(err, "verifying extract")
	}
	if len(e.GetSignature()) != ed25519.SignatureSize {
		return no("the signature is malformed: %d bytes instead of %d", len(e.GetSignature()), ed25519.SignatureSize)
	}
	if !ed25519.Verify(ed25519.PublicKey(pub), e.GetPayload(), e.GetSignature()) {
		return no("the signature does not match the content: the extract was changed after it was signed")
	}
	var doc struct {
		CaseID   string `json:"case_id"`
		Type     string `json:"type"`
		Book     string `json:"registration_book"`
		Entry    string `json:"registration_entry"`
		KeyID    string `json:"key_id"`
		Revision int    `json:"revision"`
	}
	if err := json.Unmarshal(e.GetPayload(), &doc); err != nil {
		return no("the signed content is not an extract document")
	}
	for _, f := range []struct{ name, envelope, signed string }{
		{"case_id", e.GetCaseId(), doc.CaseID},
		{"kind", e.GetKind(), doc.Type},
		{"registration_book", e.GetRegistrationBook(), doc.Book},
		{"registration_entry", e.GetRegistrationEntry(), doc.Entry},
		{"key_id", e.GetKeyId(), doc.KeyID},
	} {
		if f.envelope != "" && f.envelope != f.signed {
			return no("the extract's %s says %q but its signed content says %q", f.name, f.envelope, f.signed)
		}
	}
	var latest int
	if err := j.d.pool.QueryRow(ctx, `SELECT coalesce(max(revision), 0) FROM justice.extracts WHERE case_id = $1`, doc.CaseID).Scan(&latest); err != nil {
		return nil, dbError(err, "verifying extract")
	}
	resp := &agencyv1.VerifyExtractResponse{Authentic: true}
	if latest > doc.Revision {
		resp.Reason = fmt.Sprintf("authentic, but superseded by revision %d of the same registration", latest)
	}
	return resp, nil
}
