package agency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency/internal/deskdb"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/telemetry"
)

// desk is an agency's case desk: idempotent intake, every change versioned
// and written to the outbox in the same transaction, and the decisions of
// officers and of the auto decider. Agencies plug in their kinds of case.
type desk struct {
	pool     *pgxpool.Pool
	agency   string
	prefix   string
	seed     int64
	settings *settings
	log      *slog.Logger
	kinds    map[string]kindSpec

	wakeDecider chan struct{}
	wakePusher  chan struct{}
}

// kindSpec is what an agency does with one kind of case.
type kindSpec struct {
	// machine kinds are decided by the agency's own systems in either mode,
	// and always approved (a late ID number is issued when it is due).
	machine bool
	// approve carries out an approval: registers, issues, pays. It may turn
	// the approval into a rejection when a rule no longer holds.
	approve func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error
	// What the auto decider says when it rejects or asks for a supplement.
	autoReject     string
	autoSupplement string
	autoMissing    []string
}

func newDesk(pool *pgxpool.Pool, agency string, seed int64, st *settings, log *slog.Logger) *desk {
	return &desk{
		pool:        pool,
		agency:      agency,
		prefix:      strings.ToUpper(agency[:3]),
		seed:        seed,
		settings:    st,
		log:         log,
		kinds:       map[string]kindSpec{},
		wakeDecider: make(chan struct{}, 1),
		wakePusher:  make(chan struct{}, 1),
	}
}

// now is the desk's clock, at PostgreSQL's precision so that a case read
// back equals the case pushed.
func (d *desk) now() time.Time { return time.Now().Truncate(time.Microsecond) }

func (d *desk) wake() {
	for _, ch := range []chan struct{}{d.wakeDecider, d.wakePusher} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// caseID derives the case's id from its idempotency key, so the same key
// names the same case on every run.
func (d *desk) caseID(key string) string {
	sum := sha256.Sum256([]byte(d.agency + "\x00" + key))
	return d.prefix + "-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
}

// caseRecord is one row of the cases table.
type caseRecord struct {
	ID               string
	Kind             string
	Key              string
	Hash             []byte
	Request          []byte // protojson of the request
	DossierCode      string
	Step             string
	Status           agencyv1.CaseStatus
	Version          int64
	Reason           string
	Missing          []string
	ClaimedBy        string
	Result           map[string]string
	Supplements      int32
	DueAt            *time.Time
	NewAppointmentAt *time.Time
	DecidedAt        *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// Apology is set once the engine found the case late.
	Apology *agencyv1.Apology
}

// caseOf reads a row of the cases table, as every query of a case selects
// it.
func caseOf(r deskdb.CaseByIDRow) (*caseRecord, error) {
	c := caseRecord{
		ID: r.CaseID, Kind: r.Kind, Key: r.IdempotencyKey, Hash: r.RequestHash, Request: r.Request,
		DossierCode: r.DossierCode, Step: r.Step, Status: parseStatus(r.Status), Version: r.Version, Reason: r.Reason,
		Missing: r.Missing, ClaimedBy: r.ClaimedBy, Supplements: r.Supplements, DueAt: r.DueAt,
		NewAppointmentAt: r.NewAppointmentAt, DecidedAt: r.DecidedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if err := json.Unmarshal(r.Result, &c.Result); err != nil {
		return nil, err
	}
	if r.Apology != nil {
		c.Apology = &agencyv1.Apology{}
		if err := protojson.Unmarshal(r.Apology, c.Apology); err != nil {
			return nil, &dossier.Error{Kind: dossier.KindInternal, Message: "reading the apology of case " + c.ID, Err: err}
		}
	}
	if c.Result == nil {
		c.Result = map[string]string{}
	}
	return &c, nil
}

func statusText(s agencyv1.CaseStatus) string { return strings.TrimPrefix(s.String(), "CASE_STATUS_") }

func parseStatus(s string) agencyv1.CaseStatus {
	return agencyv1.CaseStatus(agencyv1.CaseStatus_value["CASE_STATUS_"+s])
}

// open states whether the case still waits for a decision.
func open(s agencyv1.CaseStatus) bool {
	switch s {
	case agencyv1.CaseStatus_CASE_STATUS_RECEIVED, agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW, agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT:
		return true
	}
	return false
}

// proto is the case as callers and the engine see it.
func (c *caseRecord) proto(agency string) *agencyv1.Case {
	out := &agencyv1.Case{
		CaseId:         c.ID,
		Agency:         agency,
		Kind:           c.Kind,
		IdempotencyKey: c.Key,
		DossierCode:    c.DossierCode,
		Step:           c.Step,
		Status:         c.Status,
		Version:        c.Version,
		Reason:         c.Reason,
		Missing:        c.Missing,
		ClaimedBy:      c.ClaimedBy,
		CreatedAt:      timestamppb.New(c.CreatedAt),
		UpdatedAt:      timestamppb.New(c.UpdatedAt),
		Result:         c.Result,
		Supplements:    c.Supplements,
	}
	if c.DecidedAt != nil {
		out.DecidedAt = timestamppb.New(*c.DecidedAt)
	}
	if c.NewAppointmentAt != nil {
		out.NewAppointmentAt = timestamppb.New(*c.NewAppointmentAt)
	}
	if c.Apology != nil {
		out.Apology = proto.CloneOf(c.Apology)
	}
	return out
}

// apologyJSON is how the apology column stores c.Apology; nil is NULL.
func (c *caseRecord) apologyJSON() ([]byte, error) {
	if c.Apology == nil {
		return nil, nil
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(c.Apology)
	if err != nil {
		return nil, &dossier.Error{Kind: dossier.KindInternal, Message: "storing the apology of case " + c.ID, Err: err}
	}
	return b, nil
}

// decode reads the stored request into m.
func (c *caseRecord) decode(m proto.Message) error {
	if err := protojson.Unmarshal(c.Request, m); err != nil {
		return &dossier.Error{Kind: dossier.KindInternal, Message: "reading the stored request of case " + c.ID, Err: err}
	}
	return nil
}

// encode stores m as the case's request.
func (c *caseRecord) encode(m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return &dossier.Error{Kind: dossier.KindInternal, Message: "storing the request of case " + c.ID, Err: err}
	}
	c.Request = b
	return nil
}

// reject closes the case on a business rule; it is an outcome, not a fault.
func (c *caseRecord) reject(reason string, now time.Time) {
	c.Status = agencyv1.CaseStatus_CASE_STATUS_REJECTED
	c.Reason = reason
	c.Missing = nil
	c.DueAt = nil
	c.DecidedAt = &now
}

// intake is a request that opens a case.
type intake struct {
	kind        string
	key         string
	dossierCode string
	step        string
	request     proto.Message
	// admit runs once, in the transaction that creates the case: it applies
	// the agency's business rules (rejecting with a reason) and may decide
	// at once.
	admit func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) error
}

// rejectFor returns what an admit returns after a business rule gave reason
// and err: the case is rejected with a non-empty reason, and err passes through.
func rejectFor(c *caseRecord, now time.Time) func(reason string, err error) error {
	return func(reason string, err error) error {
		if reason != "" {
			c.reject(reason, now)
		}
		return err
	}
}

// requestHash is the fingerprint that tells a retry from a different request.
func requestHash(kind string, m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil), nil
}

// open creates the case for in.key, or returns the case the key already
// made. The same key with a different request is a conflict.
func (d *desk) open(ctx context.Context, in intake) (*caseRecord, error) {
	hash, err := requestHash(in.kind, in.request)
	if err != nil {
		return nil, &dossier.Error{Kind: dossier.KindInternal, Message: "hashing the request", Err: err}
	}
	now := d.now()
	c := &caseRecord{
		ID:          d.caseID(in.key),
		Kind:        in.kind,
		Key:         in.key,
		Hash:        hash,
		DossierCode: in.dossierCode,
		Step:        in.step,
		Status:      agencyv1.CaseStatus_CASE_STATUS_RECEIVED,
		Version:     1,
		Result:      map[string]string{},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if c.Step == "" {
		c.Step = in.kind
	}
	if err := c.encode(in.request); err != nil {
		return nil, err
	}
	due := now.Add(d.autoDelay(c.ID, 0))
	c.DueAt = &due

	created := false
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		q := d.queries(tx)
		result, err := json.Marshal(c.Result)
		if err != nil {
			return err
		}
		n, err := q.OpenCase(ctx, deskdb.OpenCaseParams{
			CaseID: c.ID, Kind: c.Kind, IdempotencyKey: c.Key, RequestHash: c.Hash, Request: c.Request,
			DossierCode: c.DossierCode, Step: c.Step, Status: statusText(c.Status), Version: c.Version, Reason: c.Reason,
			Missing: nonNilSlice(c.Missing), ClaimedBy: c.ClaimedBy, Result: result, Supplements: c.Supplements,
			DueAt: c.DueAt, NewAppointmentAt: c.NewAppointmentAt, DecidedAt: c.DecidedAt, CreatedAt: c.CreatedAt,
			UpdatedAt: c.UpdatedAt,
		})
		if err != nil {
			return err
		}
		if n == 0 {
			existing, err := d.byKey(ctx, tx, in.key)
			if err != nil {
				return err
			}
			if !bytes.Equal(existing.Hash, hash) {
				return conflict("idempotency key was already used for a different request (case %s, %s): use a new key for a new request", existing.ID, existing.Kind)
			}
			c = existing
			return nil
		}
		created = true
		if tp := telemetry.TraceParent(ctx); tp != "" {
			if err := q.SetTraceParent(ctx, deskdb.SetTraceParentParams{CaseID: c.ID, TraceParent: tp}); err != nil {
				return err
			}
		}
		if in.admit != nil {
			if err := in.admit(ctx, tx, c, now); err != nil {
				return err
			}
		}
		// The intake version goes back in this call's answer; the engine
		// retries a lost answer with the same key and gets it again, so only
		// later changes are pushed.
		return d.write(ctx, tx, c)
	})
	if err != nil {
		return nil, dbError(err, "opening case")
	}
	if created {
		d.logCase("case opened", c)
		d.wake()
	}
	return c, nil
}

// byID finds a case by its id.
func (d *desk) byID(ctx context.Context, db deskdb.DBTX, caseID string) (*caseRecord, error) {
	r, err := d.queries(db).CaseByID(ctx, caseID)
	return found(r, err, notFound("case %s not found", caseID))
}

// lock finds a case by its id and locks it until tx ends.
func (d *desk) lock(ctx context.Context, tx pgx.Tx, caseID string) (*caseRecord, error) {
	r, err := d.queries(tx).CaseByIDForUpdate(ctx, caseID)
	return found(deskdb.CaseByIDRow(r), err, notFound("case %s not found", caseID))
}

// byKey finds a case by its idempotency key.
func (d *desk) byKey(ctx context.Context, db deskdb.DBTX, key string) (*caseRecord, error) {
	r, err := d.queries(db).CaseByKey(ctx, key)
	return found(deskdb.CaseByIDRow(r), err, notFound("no case has this idempotency key"))
}

// found reads the case a query found, or returns missing when there was none.
func found(r deskdb.CaseByIDRow, err, missing error) (*caseRecord, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	return caseOf(r)
}

// write stores every mutable column of c.
func (d *desk) write(ctx context.Context, tx pgx.Tx, c *caseRecord) error {
	apology, err := c.apologyJSON()
	if err != nil {
		return err
	}
	result, err := json.Marshal(nonNilMap(c.Result))
	if err != nil {
		return err
	}
	return d.queries(tx).WriteCase(ctx, deskdb.WriteCaseParams{
		CaseID: c.ID, Request: c.Request, Status: statusText(c.Status), Version: c.Version, Reason: c.Reason,
		Missing: nonNilSlice(c.Missing), ClaimedBy: c.ClaimedBy, Result: result, Supplements: c.Supplements,
		DueAt: c.DueAt, NewAppointmentAt: c.NewAppointmentAt, DecidedAt: c.DecidedAt, UpdatedAt: c.UpdatedAt,
		Apology: apology,
	})
}

// enqueue writes the case's current version to the outbox for the pusher.
func (d *desk) enqueue(ctx context.Context, tx pgx.Tx, c *caseRecord) error {
	payload, err := proto.Marshal(c.proto(d.agency))
	if err != nil {
		return err
	}
	return d.queries(tx).EnqueueCase(ctx, deskdb.EnqueueCaseParams{
		CaseID: c.ID, Version: c.Version, Payload: payload, CreatedAt: c.UpdatedAt})
}

// outcome says what a change did to a case.
type outcome int

const (
	unchanged outcome = iota
	// recorded: stored, but nothing the engine sees changed, so no new version.
	recorded
	// changed: a new version, pushed to the engine.
	changed
)

// change locks a case, lets fn change it, and stores the result: a new
// version and its outbox row when fn says the case changed.
func (d *desk) change(ctx context.Context, caseID string, fn func(ctx context.Context, tx pgx.Tx, c *caseRecord, now time.Time) (outcome, error)) (*caseRecord, error) {
	var out *caseRecord
	var what outcome
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		c, err := d.lock(ctx, tx, caseID)
		if err != nil {
			return err
		}
		now := d.now()
		what, err = fn(ctx, tx, c, now)
		if err != nil {
			return err
		}
		switch what {
		case changed:
			c.Version++
			c.UpdatedAt = now
			if err := d.write(ctx, tx, c); err != nil {
				return err
			}
			if err := d.enqueue(ctx, tx, c); err != nil {
				return err
			}
		case recorded:
			if err := d.write(ctx, tx, c); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, dbError(err, "changing case")
	}
	if what == changed {
		d.logCase("case changed", out)
		d.wake()
	}
	return out, nil
}

// verdict is a decision on a case, by an officer or the auto decider.
type verdict struct {
	decision         agencyv1.Decision
	reason           string
	missing          []string
	newAppointmentAt *time.Time
}

// apply carries out a verdict on a locked case.
func (d *desk) apply(ctx context.Context, tx pgx.Tx, c *caseRecord, v verdict, now time.Time) error {
	switch v.decision {
	case agencyv1.Decision_DECISION_APPROVE:
		spec, ok := d.kinds[c.Kind]
		if !ok {
			return &dossier.Error{Kind: dossier.KindInternal, Message: "no rules for case kind " + c.Kind}
		}
		c.Status = agencyv1.CaseStatus_CASE_STATUS_APPROVED
		c.Reason, c.Missing = "", nil
		if err := spec.approve(ctx, tx, c, now); err != nil {
			return err
		}
	case agencyv1.Decision_DECISION_REJECT:
		c.Status = agencyv1.CaseStatus_CASE_STATUS_REJECTED
		c.Reason, c.Missing = v.reason, nil
	case agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT:
		c.Status = agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT
		c.Reason, c.Missing = v.reason, v.missing
	default:
		return dossier.Invalid([]dossier.FieldViolation{{Field: "decision", Description: "must be approve, reject or request supplement"}})
	}
	c.DecidedAt = &now
	c.DueAt = nil
	if v.newAppointmentAt != nil {
		c.NewAppointmentAt = v.newAppointmentAt
	}
	return nil
}

// autoDelay is how long the auto decider waits before deciding: uniform in
// [min, max], drawn from the seed and the case so a rerun waits the same.
func (d *desk) autoDelay(caseID string, supplements int32) time.Duration {
	_, a := d.settings.current()
	lo, hi := a.GetMinDelay().AsDuration(), a.GetMaxDelay().AsDuration()
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(draw(d.seed, caseID, "delay", supplements)*float64(hi-lo))
}

// autoVerdict is the auto decider's choice for a case, deterministic in the
// seed and the case. Once a case has had a supplement, it is not asked for
// another.
func (d *desk) autoVerdict(c *caseRecord, a *agencyv1.AutoDecider) verdict {
	spec := d.kinds[c.Kind]
	if spec.machine {
		return verdict{decision: agencyv1.Decision_DECISION_APPROVE}
	}
	u := draw(d.seed, c.ID, "verdict", 0)
	switch {
	case u < a.GetRejectRatio():
		return verdict{decision: agencyv1.Decision_DECISION_REJECT, reason: spec.autoReject}
	case u < a.GetRejectRatio()+a.GetSupplementRatio() && c.Supplements == 0:
		return verdict{decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT, reason: spec.autoSupplement, missing: spec.autoMissing}
	}
	return verdict{decision: agencyv1.Decision_DECISION_APPROVE}
}

// draw is a number in [0, 1) fixed by the seed, the case and the purpose.
func draw(seed int64, caseID, purpose string, n int32) float64 {
	h := sha256.New()
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(seed))
	binary.BigEndian.PutUint32(b[8:], uint32(n))
	h.Write(b[:])
	h.Write([]byte(caseID))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	return float64(binary.BigEndian.Uint64(h.Sum(nil))>>11) / (1 << 53)
}

// logCase logs a case's new state: ids and status only, never personal data.
func (d *desk) logCase(msg string, c *caseRecord) {
	d.log.Info(msg, "case_id", c.ID, "dossier_code", c.DossierCode, "step", c.Step, "kind", c.Kind,
		"status", statusText(c.Status), "version", c.Version)
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
