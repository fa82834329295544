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

	"github.com/lienthong/lienthong/agency/internal/agencydb"
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
		q := agencydb.New(pool)
		active, err := q.ActiveSigningKey(ctx)
		if err == nil {
			return signingKey{id: active.KeyID, priv: ed25519.PrivateKey(active.PrivateKey)}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return signingKey{}, fmt.Errorf("loading signing key: %w", err)
		}
		pub, newPriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return signingKey{}, fmt.Errorf("making signing key: %w", err)
		}
		sum := sha256.Sum256(pub)
		// Another starter may have made one first; the unique index keeps one active key.
		if err := q.InsertSigningKey(ctx, agencydb.InsertSigningKeyParams{
			KeyID: "justice-" + hex.EncodeToString(sum[:6]), PublicKey: pub, PrivateKey: newPriv,
		}); err != nil {
			return signingKey{}, fmt.Errorf("storing signing key: %w", err)
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
	q := agencydb.New(tx)
	revision, err := q.NextExtractRevision(ctx, c.ID)
	if err != nil {
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
	return q.InsertExtract(ctx, agencydb.InsertExtractParams{
		CaseID: c.ID, Revision: revision, Payload: payload, Signature: sig, KeyID: j.key.id, IssuedAt: now})
}

// GetExtract returns the newest extract of an approved registration.
func (j *justice) GetExtract(ctx context.Context, req *agencyv1.GetExtractRequest) (*agencyv1.GetExtractResponse, error) {
	var v violations
	v.require("case_id", req.GetCaseId())
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := j.d.byID(ctx, j.d.pool, req.GetCaseId())
	if err != nil {
		return nil, dbError(err, "getting extract")
	}
	latest, err := agencydb.New(j.d.pool).LatestExtract(ctx, c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, failedPrecondition("case %s has no extract: it is %s", c.ID, statusText(c.Status))
	}
	if err != nil {
		return nil, dbError(err, "getting extract")
	}
	e := &agencyv1.Extract{CaseId: c.ID, RegistrationBook: latest.Book, RegistrationEntry: latest.Entry,
		Payload: latest.Payload, Signature: latest.Signature, KeyId: latest.KeyID, IssuedAt: timestamppb.New(latest.IssuedAt)}
	e.Kind = "birth"
	if c.Kind == kindDeath {
		e.Kind = "death"
	}
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
	pub, err := agencydb.New(j.d.pool).SigningKey(ctx, e.GetKeyId())
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
	latest, err := agencydb.New(j.d.pool).LatestExtractRevision(ctx, doc.CaseID)
	if err != nil {
		return nil, dbError(err, "verifying extract")
	}
	resp := &agencyv1.VerifyExtractResponse{Authentic: true}
	if int(latest) > doc.Revision {
		resp.Reason = fmt.Sprintf("authentic, but superseded by revision %d of the same registration", latest)
	}
	return resp, nil
}
