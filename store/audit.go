package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// The audit trail is a hash chain (migration 0008): every row holds its
// position, the hash of the row before it and its own hash, and
// engine.audit_head holds the last position and hash. The database chains
// each insert itself, in a trigger, so every writer is chained alike; this
// file writes and reads rows and walks the chain to verify it.

// AuditEntry is one access to personal data. At is set by the database
// when the row joins the chain.
type AuditEntry struct {
	At      time.Time
	Actor   string
	Role    string
	Action  string
	Code    string
	Purpose string
}

// Audit appends an entry and returns once it is committed; the table
// refuses updates and deletes. Appends to the chain run one transaction at
// a time, each holding the chain's head until it commits, so concurrent
// calls are gathered into one transaction (one commit for many rows)
// rather than queueing for the head one by one. A caller whose context
// ends first gets its error, and its row may still be written.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	for _, f := range []string{e.Actor, e.Role, e.Action, e.Code, e.Purpose} {
		if !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
			// PostgreSQL would refuse the whole batch for one such field.
			return dossier.Errorf(dossier.KindInvalid, "writing audit entry: %q is not valid text", f)
		}
	}
	done := make(chan error, 1)
	q := &s.audits
	q.mu.Lock()
	q.pending = append(q.pending, auditAppend{entry: e, done: done})
	start := !q.flushing
	q.flushing = true
	q.mu.Unlock()
	if start {
		go s.flushAudits() //nolint:gosec // G118: the batch serves every waiting caller, not this one: it has its own timeout
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// auditQueue holds appends waiting for the next batch.
type auditQueue struct {
	mu       sync.Mutex
	pending  []auditAppend
	flushing bool
}

type auditAppend struct {
	entry AuditEntry
	done  chan<- error
}

// maxAuditBatch bounds one transaction's rows.
const maxAuditBatch = 500

// flushAudits writes batches until none is waiting. It runs on its own, so
// no caller waits for others' batches, and ends when the queue is empty.
func (s *Store) flushAudits() {
	q := &s.audits
	for {
		q.mu.Lock()
		batch := q.pending[:min(len(q.pending), maxAuditBatch)]
		q.pending = q.pending[len(batch):]
		if len(batch) == 0 {
			q.flushing = false
			q.pending = nil
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		cols := make([][]string, 5)
		for _, a := range batch {
			e := a.entry
			for i, f := range []string{e.Actor, e.Role, e.Action, e.Code, e.Purpose} {
				cols[i] = append(cols[i], f)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		err := s.q.AppendAudit(ctx, enginedb.AppendAuditParams{
			Actors: cols[0], Roles: cols[1], Actions: cols[2], Codes: cols[3], Purposes: cols[4]})
		cancel()
		err = translate(err, "writing audit entry")
		for _, a := range batch {
			a.done <- err
		}
	}
}

// auditTimeout bounds one batch, whoever waits for it.
const auditTimeout = 30 * time.Second

// AuditOf lists who touched a dossier's personal data, in the chain's order.
func (s *Store) AuditOf(ctx context.Context, code string) ([]AuditEntry, error) {
	rows, err := s.q.AuditOf(ctx, code)
	if err != nil {
		return nil, translate(err, "reading audit")
	}
	es := make([]AuditEntry, 0, len(rows))
	for _, r := range rows {
		es = append(es, AuditEntry{At: r.At, Actor: r.Actor, Role: r.Role, Action: r.Action, Code: r.Code, Purpose: r.Purpose})
	}
	return es, nil
}

// AuditAnchor is a position in the chain and the hash of the row there,
// written as SEQ:HEX. Kept outside the database (a verify's output in a
// ticket or log), it shows a chain rewritten from that row on, which no
// check inside the database can.
type AuditAnchor struct {
	Seq  int64
	Hash []byte
}

func (a AuditAnchor) String() string { return fmt.Sprintf("%d:%x", a.Seq, a.Hash) }

// ParseAuditAnchor reads SEQ:HEX.
func ParseAuditAnchor(s string) (AuditAnchor, error) {
	seqText, hashText, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 0 {
		return AuditAnchor{}, fmt.Errorf("anchor %q: expected SEQ:HASH, as audit verify prints the head", s)
	}
	hash, err := hex.DecodeString(hashText)
	if err != nil || len(hash) != sha256.Size {
		return AuditAnchor{}, fmt.Errorf("anchor %q: the hash must be %d hex digits", s, 2*sha256.Size)
	}
	return AuditAnchor{Seq: seq, Hash: hash}, nil
}

// AuditBreakKind says how the chain broke.
type AuditBreakKind string

// The ways a chain breaks.
const (
	// AuditChanged: a row's fields or hash no longer match.
	AuditChanged AuditBreakKind = "changed"
	// AuditRemoved: positions are missing, between two rows or after the last.
	AuditRemoved AuditBreakKind = "removed"
	// AuditUnchained: a row was written around the chain (its trigger off).
	AuditUnchained AuditBreakKind = "unchained"
)

// AuditBreak is the first place the chain does not hold.
type AuditBreak struct {
	Kind AuditBreakKind
	// Seq is the position where it breaks: the changed row's, or the first
	// missing one.
	Seq int64
	// ID is the changed row's id; 0 for a removal.
	ID int64
	// Detail names the rows around the break and what no longer matches.
	Detail string
}

func (b *AuditBreak) Error() string { return b.Detail }

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	// Rows walked, up to the break if there is one.
	Rows int64
	// Head is what engine.audit_head records.
	Head AuditAnchor
	// Break is the first break; nil when the chain holds.
	Break *AuditBreak
}

// VerifyAudit walks the whole chain in order, in one snapshot (appends
// may go on meanwhile), recomputing every hash, and reports the first
// break: a row changed, rows removed (between which rows, or after the
// last, against the head), a row written around the chain, or a row
// whose hash differs from an anchor. It needs only SELECT on the audit
// tables, so it can run with a read-only role; it prints no row's contents.
func (s *Store) VerifyAudit(ctx context.Context, anchors ...AuditAnchor) (AuditVerification, error) {
	var v AuditVerification
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := enginedb.New(tx)
		head, err := q.AuditHead(ctx)
		if errors.Is(err, pgx.ErrNoRows) {
			v.Break = &AuditBreak{Kind: AuditRemoved, Detail: "the chain's head (engine.audit_head) is gone"}
			return nil
		}
		if err != nil {
			return err
		}
		v.Head = AuditAnchor{Seq: head.Seq, Hash: head.Hash}
		w := newChainWalk(v.Head, anchors)
		// Hand-written rather than generated: sqlc's :many would hold the
		// whole chain in memory, and this walks it one row at a time.
		rows, err := tx.Query(ctx, `SELECT seq, id, at, actor, role, action, code, purpose, prev_hash, hash
			FROM engine.audit ORDER BY seq NULLS FIRST, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r chainRow
			if err := rows.Scan(&r.seq, &r.id, &r.at, &r.actor, &r.role, &r.action, &r.code, &r.purpose, &r.prevHash, &r.hash); err != nil {
				return err
			}
			if v.Break = w.step(r); v.Break != nil {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if v.Break == nil {
			v.Break = w.end()
		}
		v.Rows = w.rows
		return nil
	})
	return v, translate(err, "verifying the audit chain")
}

// chainGenesis is the first row's prev_hash.
var chainGenesis = make([]byte, sha256.Size)

type chainRow struct {
	seq                                *int64
	id                                 int64
	at                                 time.Time
	actor, role, action, code, purpose string
	prevHash, hash                     []byte
}

// chainWalk checks rows one by one, in position order.
type chainWalk struct {
	head    AuditAnchor
	anchors map[int64][]byte
	rows    int64
	// The last good row.
	seq  int64
	id   int64
	hash []byte
}

func newChainWalk(head AuditAnchor, anchors []AuditAnchor) *chainWalk {
	w := &chainWalk{head: head, anchors: map[int64][]byte{}, hash: chainGenesis}
	for _, a := range anchors {
		w.anchors[a.Seq] = a.Hash
	}
	return w
}

// after names the last good row, for messages.
func (w *chainWalk) after() string {
	if w.seq == 0 {
		return "the start of the chain"
	}
	return fmt.Sprintf("row id %d (seq %d)", w.id, w.seq)
}

func (w *chainWalk) step(r chainRow) *AuditBreak {
	want := w.seq + 1
	switch {
	case r.seq == nil || r.prevHash == nil || r.hash == nil:
		return &AuditBreak{Kind: AuditUnchained, Seq: want, ID: r.id,
			Detail: fmt.Sprintf("row id %d has no place in the chain: it was written with the chain's trigger off", r.id)}
	case *r.seq < want || *r.seq > w.head.Seq:
		return &AuditBreak{Kind: AuditUnchained, Seq: *r.seq, ID: r.id,
			Detail: fmt.Sprintf("row id %d claims seq %d, outside the chain (after %s, head seq %d): it was written with the chain's trigger off", r.id, *r.seq, w.after(), w.head.Seq)}
	case *r.seq > want:
		return &AuditBreak{Kind: AuditRemoved, Seq: want,
			Detail: fmt.Sprintf("%s removed between %s and row id %d (seq %d)", positions(want, *r.seq-1), w.after(), r.id, *r.seq)}
	}
	own := auditHash(*r.seq, r.id, r.at, r.actor, r.role, r.action, r.code, r.purpose, r.prevHash)
	if !bytes.Equal(r.prevHash, w.hash) {
		if !bytes.Equal(own, r.hash) {
			return &AuditBreak{Kind: AuditChanged, Seq: *r.seq, ID: r.id,
				Detail: fmt.Sprintf("row id %d (seq %d) was changed: neither its prev_hash nor its hash matches", r.id, *r.seq)}
		}
		return &AuditBreak{Kind: AuditChanged, Seq: w.seq, ID: w.id,
			Detail: fmt.Sprintf("%s was changed and its hash recomputed: row id %d (seq %d) recorded another hash for it", w.after(), r.id, *r.seq)}
	}
	if !bytes.Equal(own, r.hash) {
		return &AuditBreak{Kind: AuditChanged, Seq: *r.seq, ID: r.id,
			Detail: fmt.Sprintf("row id %d (seq %d) was changed: its fields no longer match its hash", r.id, *r.seq)}
	}
	if a, ok := w.anchors[*r.seq]; ok && !bytes.Equal(a, r.hash) {
		return &AuditBreak{Kind: AuditChanged, Seq: *r.seq, ID: r.id,
			Detail: fmt.Sprintf("row id %d (seq %d) no longer has its anchored hash: the chain was rewritten from it or before", r.id, *r.seq)}
	}
	w.rows++
	w.seq, w.id, w.hash = *r.seq, r.id, r.hash
	return nil
}

func (w *chainWalk) end() *AuditBreak {
	if w.head.Seq > w.seq {
		return &AuditBreak{Kind: AuditRemoved, Seq: w.seq + 1,
			Detail: fmt.Sprintf("%s removed after %s: the head records seq %d", positions(w.seq+1, w.head.Seq), w.after(), w.head.Seq)}
	}
	if !bytes.Equal(w.head.Hash, w.hash) {
		return &AuditBreak{Kind: AuditChanged, Seq: w.seq, ID: w.id,
			Detail: fmt.Sprintf("%s was changed and its hash recomputed, or the head was: the head records another hash for it", w.after())}
	}
	for seq := range w.anchors {
		if seq > w.seq {
			return &AuditBreak{Kind: AuditRemoved, Seq: seq,
				Detail: fmt.Sprintf("seq %d, anchored, is gone: the chain ends at %s", seq, w.after())}
		}
	}
	return nil
}

func positions(from, to int64) string {
	if from == to {
		return fmt.Sprintf("seq %d was", from)
	}
	return fmt.Sprintf("seq %d to %d were", from, to)
}

// auditHashTag versions the encoding.
const auditHashTag = "lienthong-audit-v1"

// auditHash is engine.audit_hash in Go: SHA-256 over the tag, seq, id and
// at (Unix microseconds) as 8-byte big-endian integers, then actor, role,
// action, code, purpose and prev_hash, each after its length as a 4-byte
// big-endian integer.
func auditHash(seq, id int64, at time.Time, actor, role, action, code, purpose string, prevHash []byte) []byte {
	b := make([]byte, 0, 128+len(actor)+len(role)+len(action)+len(code)+len(purpose))
	field := func(f []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	field([]byte(auditHashTag))
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixMicro()))
	for _, f := range []string{actor, role, action, code, purpose} {
		field([]byte(f))
	}
	field(prevHash)
	sum := sha256.Sum256(b)
	return sum[:]
}
