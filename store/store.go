// Package store owns the engine's PostgreSQL schema: dossiers as received,
// the read model the workflows keep in sync, status history, the trace, the
// append-only, hash-chained audit trail, and the outbox of notifications to applicants. pgx types stop here: callers see dossier types
// and dossier.Error kinds. It must not import workflows, activities or api.
package store

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/migrate"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/store/internal/enginedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Component names the engine's migrations in the shared ledger.
const Component = "engine"

// Migrate applies the engine's migrations.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	return migrate.Apply(ctx, pool, Component, ms)
}

// Migrations are the engine's migrations in order, for a caller that
// applies them in steps: the scale scenario measures the read model before
// and after the newest ones.
func Migrations() ([]migrate.Migration, error) { return migrate.Load(migrations, "migrations") }

// Store reads and writes the engine's schema.
type Store struct {
	pool *pgxpool.Pool
	// q runs the queries of store/queries on the pool.
	q *enginedb.Queries
	// cal dates what notifications announce, as the workflows date it.
	cal *calendar.Calendar
	// audits gathers concurrent audit appends into one transaction.
	audits auditQueue
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: enginedb.New(pool), cal: calendar.Default()}
}

// Pool exposes the pool for health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// NewDossier is a submission about to be stored.
type NewDossier struct {
	RequestID     string
	RequestHash   []byte
	Group         dossier.Group
	CommuneCode   string
	ProvinceCode  string
	ReceivedAt    time.Time
	DueAt         time.Time
	AppointmentAt time.Time
	PhoneHash     string
	Form          []byte
	CreatedBy     string
	Steps         []dossier.StepKind
	// TraceID names the submission's trace; empty when tracing is off.
	TraceID string
	// LateRegistrations known at receipt.
	LateRegistrations []dossier.LateRegistration
	// Contact is where the applicant is told of the dossier's progress.
	Contact notify.Contact
}

// Created is what CreateDossier stored or found.
type Created struct {
	Snapshot        dossier.Snapshot
	New             bool
	WorkflowStarted bool
}

// CreateDossier stores a submission with its code and initial steps, all or
// nothing. The same request id returns the stored dossier; the same id with a
// different body is a conflict.
func (s *Store) CreateDossier(ctx context.Context, nd NewDossier) (Created, error) {
	var out Created
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := enginedb.New(tx)
		seen, err := q.DossierByRequestID(ctx, nd.RequestID)
		if err == nil {
			if !bytes.Equal(seen.RequestHash, nd.RequestHash) {
				return dossier.Errorf(dossier.KindConflict, "request_id %q was already used for a different submission (dossier %s)", nd.RequestID, seen.Code)
			}
			out.WorkflowStarted = seen.WorkflowStartedAt != nil
			snap, err := getSnapshot(ctx, q, seen.Code)
			out.Snapshot = snap
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		day := nd.ReceivedAt.In(civil.Zone)
		seq, err := q.NextDossierSequence(ctx, enginedb.NextDossierSequenceParams{CommuneCode: nd.CommuneCode, Day: day})
		if err != nil {
			return err
		}
		code := fmt.Sprintf("%s-%s-%04d", nd.CommuneCode, day.Format("060102"), seq)
		late, err := lateJSON(nd.LateRegistrations)
		if err != nil {
			return err
		}
		if err := q.InsertDossier(ctx, enginedb.InsertDossierParams{
			Code: code, RequestID: nd.RequestID, RequestHash: nd.RequestHash, Grp: string(nd.Group),
			CommuneCode: nd.CommuneCode, ProvinceCode: nd.ProvinceCode, Status: string(dossier.StatusReceived),
			ReceivedAt: nd.ReceivedAt, DueAt: nd.DueAt, AppointmentAt: nd.AppointmentAt, PhoneHash: nd.PhoneHash,
			Form: nd.Form, CreatedBy: nd.CreatedBy, TraceID: nd.TraceID, LateRegistrations: late,
		}); err != nil {
			return err
		}
		for _, k := range nd.Steps {
			if err := q.InsertPendingStep(ctx, enginedb.InsertPendingStepParams{
				Code: code, Step: string(k), Agency: k.Agency(), Status: string(dossier.StepPending), At: nd.ReceivedAt,
			}); err != nil {
				return err
			}
		}
		if err := q.InsertSubmittedEvent(ctx, enginedb.InsertSubmittedEventParams{
			Code: code, At: nd.ReceivedAt, Kind: dossier.EventSubmitted, Actor: nd.CreatedBy, Detail: "group " + string(nd.Group),
		}); err != nil {
			return err
		}
		if err := q.InsertContact(ctx, enginedb.InsertContactParams{Code: code, Phone: nd.Contact.Phone, Email: nd.Contact.Email}); err != nil {
			return err
		}
		out.New = true
		snap, err := getSnapshot(ctx, q, code)
		out.Snapshot = snap
		return err
	})
	if err != nil {
		return Created{}, translate(err, "storing dossier")
	}
	return out, nil
}

// MarkWorkflowStarted records that the dossier's workflow exists.
func (s *Store) MarkWorkflowStarted(ctx context.Context, code string) error {
	return translate(s.q.MarkWorkflowStarted(ctx, code), "marking workflow started")
}

// UnstartedDossiers lists dossiers stored longer than age ago whose workflow
// was never confirmed started, so a sweeper can start them.
func (s *Store) UnstartedDossiers(ctx context.Context, age time.Duration, limit int) ([]string, error) {
	codes, err := s.q.UnstartedDossiers(ctx, enginedb.UnstartedDossiersParams{ReceivedAt: time.Now().Add(-age), Limit: int32(limit)})
	return codes, translate(err, "listing unstarted dossiers")
}

// Form returns the stored application (personal data) and its group.
func (s *Store) Form(ctx context.Context, code string) (dossier.Group, []byte, error) {
	row, err := s.q.DossierForm(ctx, code)
	if err != nil {
		return "", nil, translate(err, "reading form")
	}
	return dossier.Group(row.Grp), row.Form, nil
}

// PhoneHash returns the stored applicant phone hash.
func (s *Store) PhoneHash(ctx context.Context, code string) (string, error) {
	h, err := s.q.DossierPhoneHash(ctx, code)
	return h, translate(err, "reading dossier")
}

// TraceID is the submission's trace id, empty when it was not traced.
func (s *Store) TraceID(ctx context.Context, code string) (string, error) {
	id, err := s.q.DossierTraceID(ctx, code)
	return id, translate(err, "reading the dossier's trace")
}

// Dossier returns the read model of one dossier.
func (s *Store) Dossier(ctx context.Context, code string) (dossier.Snapshot, error) {
	snap, err := getSnapshot(ctx, s.q, code)
	return snap, translate(err, "reading dossier")
}

// snapshotOf reads a row of the read model's columns, which GetDossier,
// DossiersByCode and ListDossiers select alike, without its steps.
func snapshotOf(r enginedb.GetDossierRow) (dossier.Snapshot, error) {
	d := dossier.Snapshot{
		Code: r.Code, Group: dossier.Group(r.Grp), Status: dossier.Status(r.Status), Version: r.Version,
		CommuneCode: r.CommuneCode, ProvinceCode: r.ProvinceCode, ReceivedAt: r.ReceivedAt, DueAt: r.DueAt,
		AppointmentAt: r.AppointmentAt, CompletedAt: r.CompletedAt, OutcomeReason: r.OutcomeReason, Overdue: r.Overdue,
		CurrentStep: dossier.StepKind(r.CurrentStep), CurrentAgency: r.CurrentAgency, At: r.UpdatedAt,
	}
	if err := json.Unmarshal(r.LateRegistrations, &d.LateRegistrations); err != nil {
		return d, fmt.Errorf("reading late_registrations: %w", err)
	}
	if len(d.LateRegistrations) == 0 {
		d.LateRegistrations = nil
	}
	return d, nil
}

// lateJSON is the late_registrations column's value: never null.
func lateJSON(late []dossier.LateRegistration) ([]byte, error) {
	if late == nil {
		late = []dossier.LateRegistration{}
	}
	return json.Marshal(late)
}

func getSnapshot(ctx context.Context, q *enginedb.Queries, code string) (dossier.Snapshot, error) {
	row, err := q.GetDossier(ctx, code)
	if err != nil {
		return dossier.Snapshot{}, err
	}
	d, err := snapshotOf(row)
	if err != nil {
		return d, err
	}
	steps, err := loadSteps(ctx, q, []string{code})
	if err != nil {
		return d, err
	}
	d.Steps = steps[code]
	return d, nil
}

// withSteps reads rows of the read model and their steps.
func withSteps(ctx context.Context, q *enginedb.Queries, rows []enginedb.GetDossierRow) ([]dossier.Snapshot, error) {
	snaps := make([]dossier.Snapshot, 0, len(rows))
	codes := make([]string, 0, len(rows))
	for _, r := range rows {
		d, err := snapshotOf(r)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, d)
		codes = append(codes, d.Code)
	}
	steps, err := loadSteps(ctx, q, codes)
	if err != nil {
		return nil, err
	}
	for i := range snaps {
		snaps[i].Steps = steps[snaps[i].Code]
	}
	return snaps, nil
}

func loadSteps(ctx context.Context, q *enginedb.Queries, codes []string) (map[string][]dossier.Step, error) {
	rows, err := q.StepsOf(ctx, enginedb.StepsOfParams{Codes: codes, StepOrder: stepOrder})
	if err != nil {
		return nil, err
	}
	out := map[string][]dossier.Step{}
	for _, r := range rows {
		st := dossier.Step{
			Kind: dossier.StepKind(r.Step), Agency: r.Agency, Status: dossier.StepStatus(r.Status), StatusSince: r.StatusSince,
			StartedAt: r.StartedAt, DueAt: r.DueAt, DecidedAt: r.DecidedAt, Overdue: r.Overdue, Attempts: int(r.Attempts),
			LastError: r.LastError, LastErrorCode: r.LastErrorCode, Reason: r.Reason, Missing: r.Missing, CaseID: r.AgencyCaseID,
			NewAppointmentAt: r.NewAppointmentAt, UpdatedAt: r.UpdatedAt, Apology: r.Apology,
		}
		if len(st.Missing) == 0 {
			st.Missing = nil
		}
		if err := json.Unmarshal(r.Result, &st.Result); err != nil {
			return nil, err
		}
		if len(st.Result) == 0 {
			st.Result = nil
		}
		out[r.Code] = append(out[r.Code], st)
	}
	return out, nil
}

var stepOrder = []string{
	string(dossier.StepBirthRegistration), string(dossier.StepIDNumber), string(dossier.StepResidenceRegistration),
	string(dossier.StepChildCard), string(dossier.StepDeathRegistration), string(dossier.StepResidenceCancellation),
	string(dossier.StepFuneralAllowance), string(dossier.StepSurvivorBenefit),
}

// Applied reports what ApplySnapshots did.
type Applied struct {
	// Version now held by the read model.
	Version int64
	// Applied is false when the read model already held this version or a newer one.
	Applied bool
	// Versions are the snapshots' versions this call wrote, oldest first;
	// a retried write reports none, so what is counted once per version
	// (step durations) is counted once.
	Versions []int64
}

// ApplySnapshots writes a workflow's snapshots, oldest first, and its new
// trace events, in one transaction. A snapshot older than what the read model
// holds is ignored, so a late or repeated write never overwrites a newer one;
// every version still lands once in status_history. Each version written
// adds the notifications its change from the version before causes to the
// outbox, in the same transaction, so a replayed version adds none.
func (s *Store) ApplySnapshots(ctx context.Context, snaps []dossier.Snapshot, events []dossier.Event) (Applied, error) {
	var out Applied
	if len(snaps) == 0 && len(events) == 0 {
		return out, nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := enginedb.New(tx)
		now := time.Now()
		tellers := map[string]*teller{}
		for _, snap := range snaps {
			late, err := lateJSON(snap.LateRegistrations)
			if err != nil {
				return err
			}
			if tellers[snap.Code] == nil {
				t, err := s.newTeller(ctx, q, snap.Code)
				if err != nil {
					return err
				}
				tellers[snap.Code] = t
			}
			// A workflow started before late registrations were carried has
			// none in its versions: it keeps those stored at receipt.
			var stepStatus string
			if st := snap.Step(snap.ChangedStep); st != nil {
				stepStatus = string(st.Status)
			}
			head := newBatch()
			if err := head.q.UpdateDossierHead(ctx, enginedb.UpdateDossierHeadParams{
				Code: snap.Code, Status: string(snap.Status), Version: snap.Version, DueAt: snap.DueAt,
				AppointmentAt: snap.AppointmentAt, CompletedAt: snap.CompletedAt, OutcomeReason: snap.OutcomeReason,
				Overdue: snap.Overdue, CurrentStep: string(snap.CurrentStep), CurrentAgency: snap.CurrentAgency,
				UpdatedAt: snap.At, LateRegistrations: late,
			}); err != nil {
				return err
			}
			if err := head.q.InsertStatusHistory(ctx, enginedb.InsertStatusHistoryParams{
				Code: snap.Code, Version: snap.Version, Status: string(snap.Status), Step: string(snap.ChangedStep),
				StepStatus: stepStatus, At: snap.At, DecidedAt: snap.DecidedAt, SyncedAt: now,
			}); err != nil {
				return err
			}
			applied, err := sendHead(ctx, tx, head.b)
			if err != nil {
				return err
			}
			if !applied {
				continue
			}
			out.Applied = true
			out.Version = snap.Version
			out.Versions = append(out.Versions, snap.Version)
			// The steps and the notifications the version causes go in one
			// round trip: a dossier has a handful of steps, and each write
			// waiting for the one before was most of this transaction's time.
			body := newBatch()
			for _, st := range snap.Steps {
				if err := queueStep(ctx, body.q, snap.Code, st); err != nil {
					return err
				}
			}
			if err := tellers[snap.Code].tell(ctx, body.q, snap, s, now); err != nil {
				return err
			}
			if err := queuePortalFeed(ctx, body.q, snap); err != nil {
				return err
			}
			if err := tx.SendBatch(ctx, body.b).Close(); err != nil {
				return err
			}
		}

		if len(events) > 0 {
			evs := newBatch()
			for _, ev := range events {
				if err := evs.q.InsertEvent(ctx, eventParams(ev)); err != nil {
					return err
				}
			}
			if err := tx.SendBatch(ctx, evs.b).Close(); err != nil {
				return err
			}
		}
		if !out.Applied && len(snaps) > 0 {
			v, err := q.DossierVersion(ctx, snaps[0].Code)
			out.Version = v
			return err
		}
		return nil
	})
	return out, translate(err, "applying snapshot")
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func eventParams(ev dossier.Event) enginedb.InsertEventParams {
	var key *string
	if ev.Key != "" {
		key = &ev.Key
	}
	return enginedb.InsertEventParams{
		Code: ev.Code, At: ev.At, Kind: ev.Kind, Actor: ev.Actor, Step: string(ev.Step), Outcome: ev.Outcome,
		Error: ev.Error, LatencyMs: ev.LatencyMs, Attempt: int32(ev.Attempt), Detail: ev.Detail, DedupeKey: key,
	}
}

// sendHead runs a snapshot's dossier update and its history row in one
// round trip, and says whether the update moved the dossier forward.
func sendHead(ctx context.Context, tx pgx.Tx, b *pgx.Batch) (bool, error) {
	res := tx.SendBatch(ctx, b)
	tag, err := res.Exec()
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	return err == nil && tag.RowsAffected() > 0, err
}

// queueStep adds the upsert of one step's row.
func queueStep(ctx context.Context, q *enginedb.Queries, code string, st dossier.Step) error {
	result, err := json.Marshal(nonNil(st.Result))
	if err != nil {
		return err
	}
	missing := st.Missing
	if missing == nil {
		missing = []string{}
	}
	return q.UpsertStep(ctx, enginedb.UpsertStepParams{
		Code: code, Step: string(st.Kind), Agency: st.Agency, Status: string(st.Status), StatusSince: st.StatusSince,
		StartedAt: st.StartedAt, DueAt: st.DueAt, DecidedAt: st.DecidedAt, Overdue: st.Overdue, Attempts: int32(st.Attempts),
		LastError: st.LastError, LastErrorCode: st.LastErrorCode, Reason: st.Reason, Missing: missing, AgencyCaseID: st.CaseID,
		Result: result, NewAppointmentAt: st.NewAppointmentAt, UpdatedAt: st.UpdatedAt, Apology: st.Apology,
	})
}

// AppendEvent adds one trace event.
func (s *Store) AppendEvent(ctx context.Context, ev dossier.Event) error {
	return translate(s.q.InsertEvent(ctx, eventParams(ev)), "appending event")
}

// MarkPortalSynced records when the portal accepted versions up to version.
func (s *Store) MarkPortalSynced(ctx context.Context, code string, version int64, at time.Time) error {
	err := s.q.MarkPortalSynced(ctx, enginedb.MarkPortalSyncedParams{Code: code, Version: version, At: &at})
	return translate(err, "marking portal synced")
}

// Events returns a dossier's trace, oldest first.
func (s *Store) Events(ctx context.Context, code string) ([]dossier.Event, error) {
	rows, err := s.q.Events(ctx, code)
	if err != nil {
		return nil, translate(err, "reading trace")
	}
	evs := make([]dossier.Event, 0, len(rows))
	for _, r := range rows {
		evs = append(evs, dossier.Event{
			Code: r.Code, At: r.At, Kind: r.Kind, Actor: r.Actor, Step: dossier.StepKind(r.Step), Outcome: r.Outcome,
			Error: r.Error, LatencyMs: r.LatencyMs, Attempt: int(r.Attempt), Detail: r.Detail,
		})
	}
	return evs, nil
}

// HistoryEntry is one version the read model recorded.
type HistoryEntry struct {
	Version        int64
	Status         dossier.Status
	Step           dossier.StepKind
	StepStatus     dossier.StepStatus
	At             time.Time
	DecidedAt      *time.Time
	SyncedAt       time.Time
	PortalSyncedAt *time.Time
}

// History returns a dossier's status history.
func (s *Store) History(ctx context.Context, code string) ([]HistoryEntry, error) {
	rows, err := s.q.History(ctx, code)
	if err != nil {
		return nil, translate(err, "reading history")
	}
	hs := make([]HistoryEntry, 0, len(rows))
	for _, r := range rows {
		hs = append(hs, HistoryEntry{
			Version: r.Version, Status: dossier.Status(r.Status), Step: dossier.StepKind(r.Step),
			StepStatus: dossier.StepStatus(r.StepStatus), At: r.At, DecidedAt: r.DecidedAt, SyncedAt: r.SyncedAt,
			PortalSyncedAt: r.PortalSyncedAt,
		})
	}
	return hs, nil
}

// nullTime reads an aggregate of timestamps that may be NULL (min, max):
// sqlc types it as interface{}, which pgx fills with a time.Time or nil.
func nullTime(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		return &t
	}
	return nil
}

// translate turns pgx errors into domain errors at the store's edge.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	var de *dossier.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &dossier.Error{Kind: dossier.KindNotFound, Message: "dossier not found"}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &dossier.Error{Kind: dossier.KindConflict, Message: doing + ": already exists", Err: err}
		case "23503", "23514", "22P02":
			return &dossier.Error{Kind: dossier.KindInvalid, Message: doing + ": " + pgErr.Message, Err: err}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &dossier.Error{Kind: dossier.KindUnavailable, Message: doing, Err: err}
}
