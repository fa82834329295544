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
	// cal dates what notifications announce, as the workflows date it.
	cal *calendar.Calendar
	// audits gathers concurrent audit appends into one transaction.
	audits auditQueue
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, cal: calendar.Default()} }

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
		var code string
		var hash []byte
		var started *time.Time
		err := tx.QueryRow(ctx, `SELECT code, request_hash, workflow_started_at FROM engine.dossiers WHERE request_id = $1`, nd.RequestID).Scan(&code, &hash, &started)
		if err == nil {
			if !bytes.Equal(hash, nd.RequestHash) {
				return dossier.Errorf(dossier.KindConflict, "request_id %q was already used for a different submission (dossier %s)", nd.RequestID, code)
			}
			out.WorkflowStarted = started != nil
			snap, err := getSnapshot(ctx, tx, code)
			out.Snapshot = snap
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		day := nd.ReceivedAt.In(civil.Zone)
		var seq int
		if err := tx.QueryRow(ctx, `INSERT INTO engine.dossier_sequences (commune_code, day, last) VALUES ($1, $2, 1)
			ON CONFLICT (commune_code, day) DO UPDATE SET last = engine.dossier_sequences.last + 1
			RETURNING last`, nd.CommuneCode, day.Format("2006-01-02")).Scan(&seq); err != nil {
			return err
		}
		code = fmt.Sprintf("%s-%s-%04d", nd.CommuneCode, day.Format("060102"), seq)
		late, err := lateJSON(nd.LateRegistrations)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO engine.dossiers
			(code, request_id, request_hash, grp, commune_code, province_code, status, version,
			 received_at, due_at, appointment_at, phone_hash, form, created_by, updated_at, trace_id, late_registrations)
			VALUES ($1,$2,$3,$4,$5,$6,$7,0,$8,$9,$10,$11,$12,$13,$8,$14,$15)`,
			code, nd.RequestID, nd.RequestHash, string(nd.Group), nd.CommuneCode, nd.ProvinceCode,
			string(dossier.StatusReceived), nd.ReceivedAt, nd.DueAt, nd.AppointmentAt, nd.PhoneHash, nd.Form, nd.CreatedBy, nd.TraceID, late); err != nil {
			return err
		}
		for _, k := range nd.Steps {
			if _, err := tx.Exec(ctx, `INSERT INTO engine.steps (code, step, agency, status, status_since, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5)`, code, string(k), k.Agency(), string(dossier.StepPending), nd.ReceivedAt); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO engine.events (code, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)`,
			code, nd.ReceivedAt, dossier.EventSubmitted, nd.CreatedBy, "group "+string(nd.Group)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO engine.notification_contacts (code, phone, email) VALUES ($1, $2, $3)`,
			code, nd.Contact.Phone, nd.Contact.Email); err != nil {
			return err
		}
		out.New = true
		snap, err := getSnapshot(ctx, tx, code)
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
	_, err := s.pool.Exec(ctx, `UPDATE engine.dossiers SET workflow_started_at = now() WHERE code = $1 AND workflow_started_at IS NULL`, code)
	return translate(err, "marking workflow started")
}

// UnstartedDossiers lists dossiers stored longer than age ago whose workflow
// was never confirmed started, so a sweeper can start them.
func (s *Store) UnstartedDossiers(ctx context.Context, age time.Duration, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT code FROM engine.dossiers WHERE workflow_started_at IS NULL AND received_at < $1 ORDER BY received_at LIMIT $2`,
		time.Now().Add(-age), limit)
	if err != nil {
		return nil, translate(err, "listing unstarted dossiers")
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return codes, translate(err, "listing unstarted dossiers")
}

// Form returns the stored application (personal data) and its group.
func (s *Store) Form(ctx context.Context, code string) (dossier.Group, []byte, error) {
	var g string
	var form []byte
	err := s.pool.QueryRow(ctx, `SELECT grp, form FROM engine.dossiers WHERE code = $1`, code).Scan(&g, &form)
	if err != nil {
		return "", nil, translate(err, "reading form")
	}
	return dossier.Group(g), form, nil
}

// PhoneHash returns the stored applicant phone hash.
func (s *Store) PhoneHash(ctx context.Context, code string) (string, error) {
	var h string
	err := s.pool.QueryRow(ctx, `SELECT phone_hash FROM engine.dossiers WHERE code = $1`, code).Scan(&h)
	return h, translate(err, "reading dossier")
}

// TraceID is the submission's trace id, empty when it was not traced.
func (s *Store) TraceID(ctx context.Context, code string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT trace_id FROM engine.dossiers WHERE code = $1`, code).Scan(&id)
	return id, translate(err, "reading the dossier's trace")
}

// Dossier returns the read model of one dossier.
func (s *Store) Dossier(ctx context.Context, code string) (dossier.Snapshot, error) {
	snap, err := getSnapshot(ctx, s.pool, code)
	return snap, translate(err, "reading dossier")
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const dossierColumns = `code, grp, status, version, commune_code, province_code, received_at, due_at,
	appointment_at, completed_at, outcome_reason, overdue, current_step, current_agency, updated_at, late_registrations`

func scanDossier(row pgx.Row) (dossier.Snapshot, error) {
	var d dossier.Snapshot
	var g, st, cur string
	var late []byte
	err := row.Scan(&d.Code, &g, &st, &d.Version, &d.CommuneCode, &d.ProvinceCode, &d.ReceivedAt, &d.DueAt,
		&d.AppointmentAt, &d.CompletedAt, &d.OutcomeReason, &d.Overdue, &cur, &d.CurrentAgency, &d.At, &late)
	if err != nil {
		return d, err
	}
	d.Group, d.Status, d.CurrentStep = dossier.Group(g), dossier.Status(st), dossier.StepKind(cur)
	if err := json.Unmarshal(late, &d.LateRegistrations); err != nil {
		return d, fmt.Errorf("reading late_registrations: %w", err)
	}
	if len(d.LateRegistrations) == 0 {
		d.LateRegistrations = nil
	}
	return d, nil
}

// lateJSON is the late_registrations column's value: never null.
func lateJSON(late []dossier.LateRegistration) (string, error) {
	if late == nil {
		late = []dossier.LateRegistration{}
	}
	b, err := json.Marshal(late)
	return string(b), err
}

func getSnapshot(ctx context.Context, q querier, code string) (dossier.Snapshot, error) {
	d, err := scanDossier(q.QueryRow(ctx, `SELECT `+dossierColumns+` FROM engine.dossiers WHERE code = $1`, code))
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

func loadSteps(ctx context.Context, q querier, codes []string) (map[string][]dossier.Step, error) {
	rows, err := q.Query(ctx, `SELECT code, step, agency, status, status_since, started_at, due_at, decided_at, overdue,
		attempts, last_error, reason, missing, agency_case_id, result, new_appointment_at, updated_at, apology
		FROM engine.steps WHERE code = ANY($1) ORDER BY code, array_position($2::text[], step)`, codes, stepOrder)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]dossier.Step{}
	for rows.Next() {
		var code, kind, status string
		var st dossier.Step
		var result []byte
		if err := rows.Scan(&code, &kind, &st.Agency, &status, &st.StatusSince, &st.StartedAt, &st.DueAt, &st.DecidedAt,
			&st.Overdue, &st.Attempts, &st.LastError, &st.Reason, &st.Missing, &st.CaseID, &result, &st.NewAppointmentAt, &st.UpdatedAt,
			&st.Apology); err != nil {
			return nil, err
		}
		st.Kind, st.Status = dossier.StepKind(kind), dossier.StepStatus(status)
		if len(st.Missing) == 0 {
			st.Missing = nil
		}
		if err := json.Unmarshal(result, &st.Result); err != nil {
			return nil, err
		}
		if len(st.Result) == 0 {
			st.Result = nil
		}
		out[code] = append(out[code], st)
	}
	return out, rows.Err()
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
		now := time.Now()
		tellers := map[string]*teller{}
		for _, snap := range snaps {
			late, err := lateJSON(snap.LateRegistrations)
			if err != nil {
				return err
			}
			if tellers[snap.Code] == nil {
				t, err := s.newTeller(ctx, tx, snap.Code)
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
			head := &pgx.Batch{}
			head.Queue(`UPDATE engine.dossiers SET status = $2, version = $3, due_at = $4, appointment_at = $5,
				completed_at = $6, outcome_reason = $7, overdue = $8, current_step = $9, current_agency = $10, updated_at = $11,
				late_registrations = CASE WHEN $12::jsonb = '[]'::jsonb THEN late_registrations ELSE $12::jsonb END
				WHERE code = $1 AND version < $3`,
				snap.Code, string(snap.Status), snap.Version, snap.DueAt, snap.AppointmentAt, snap.CompletedAt,
				snap.OutcomeReason, snap.Overdue, string(snap.CurrentStep), snap.CurrentAgency, snap.At, late)
			head.Queue(`INSERT INTO engine.status_history (code, version, status, step, step_status, at, decided_at, synced_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (code, version) DO NOTHING`,
				snap.Code, snap.Version, string(snap.Status), string(snap.ChangedStep), stepStatus, snap.At, snap.DecidedAt, now)
			applied, err := sendHead(ctx, tx, head)
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
			body := &pgx.Batch{}
			for _, st := range snap.Steps {
				if err := queueStep(body, snap.Code, st); err != nil {
					return err
				}
			}
			tellers[snap.Code].tell(body, snap, s, now)
			queuePortalFeed(body, snap)
			if err := tx.SendBatch(ctx, body).Close(); err != nil {
				return err
			}
		}

		if len(events) > 0 {
			evs := &pgx.Batch{}
			for _, ev := range events {
				queueEvent(evs, ev)
			}
			if err := tx.SendBatch(ctx, evs).Close(); err != nil {
				return err
			}
		}
		if !out.Applied && len(snaps) > 0 {
			return tx.QueryRow(ctx, `SELECT version FROM engine.dossiers WHERE code = $1`, snaps[0].Code).Scan(&out.Version)
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

const insertEventSQL = `INSERT INTO engine.events (code, at, kind, actor, step, outcome, error, latency_ms, attempt, detail, dedupe_key)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (dedupe_key) DO NOTHING`

func eventArgs(ev dossier.Event) []any {
	var key *string
	if ev.Key != "" {
		key = &ev.Key
	}
	return []any{ev.Code, ev.At, ev.Kind, ev.Actor, string(ev.Step), ev.Outcome, ev.Error, ev.LatencyMs, ev.Attempt, ev.Detail, key}
}

func queueEvent(b *pgx.Batch, ev dossier.Event) { b.Queue(insertEventSQL, eventArgs(ev)...) }

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
func queueStep(b *pgx.Batch, code string, st dossier.Step) error {
	result, err := json.Marshal(nonNil(st.Result))
	if err != nil {
		return err
	}
	missing := st.Missing
	if missing == nil {
		missing = []string{}
	}
	b.Queue(`INSERT INTO engine.steps (code, step, agency, status, status_since, started_at, due_at,
		decided_at, overdue, attempts, last_error, reason, missing, agency_case_id, result, new_appointment_at, updated_at,
		apology)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
		ON CONFLICT (code, step) DO UPDATE SET agency = EXCLUDED.agency, status = EXCLUDED.status,
		status_since = EXCLUDED.status_since, started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at,
		decided_at = EXCLUDED.decided_at, overdue = EXCLUDED.overdue, attempts = EXCLUDED.attempts,
		last_error = EXCLUDED.last_error, reason = EXCLUDED.reason, missing = EXCLUDED.missing,
		agency_case_id = EXCLUDED.agency_case_id, result = EXCLUDED.result,
		new_appointment_at = EXCLUDED.new_appointment_at, updated_at = EXCLUDED.updated_at,
		apology = EXCLUDED.apology`,
		code, string(st.Kind), st.Agency, string(st.Status), st.StatusSince, st.StartedAt, st.DueAt,
		st.DecidedAt, st.Overdue, st.Attempts, st.LastError, st.Reason, missing, st.CaseID, result,
		st.NewAppointmentAt, st.UpdatedAt, st.Apology)
	return nil
}

// AppendEvent adds one trace event.
func (s *Store) AppendEvent(ctx context.Context, ev dossier.Event) error {
	_, err := s.pool.Exec(ctx, insertEventSQL, eventArgs(ev)...)
	return translate(err, "appending event")
}

// MarkPortalSynced records when the portal accepted versions up to version.
func (s *Store) MarkPortalSynced(ctx context.Context, code string, version int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE engine.status_history SET portal_synced_at = $3
		WHERE code = $1 AND version <= $2 AND portal_synced_at IS NULL`, code, version, at)
	return translate(err, "marking portal synced")
}

// Events returns a dossier's trace, oldest first.
func (s *Store) Events(ctx context.Context, code string) ([]dossier.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, at, kind, actor, step, outcome, error, latency_ms, attempt, detail
		FROM engine.events WHERE code = $1 ORDER BY at, id`, code)
	if err != nil {
		return nil, translate(err, "reading trace")
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dossier.Event, error) {
		var ev dossier.Event
		var step string
		err := row.Scan(&ev.Code, &ev.At, &ev.Kind, &ev.Actor, &step, &ev.Outcome, &ev.Error, &ev.LatencyMs, &ev.Attempt, &ev.Detail)
		ev.Step = dossier.StepKind(step)
		return ev, err
	})
	return evs, translate(err, "reading trace")
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
	rows, err := s.pool.Query(ctx, `SELECT version, status, step, step_status, at, decided_at, synced_at, portal_synced_at
		FROM engine.status_history WHERE code = $1 ORDER BY version`, code)
	if err != nil {
		return nil, translate(err, "reading history")
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		var st, step, stepStatus string
		err := row.Scan(&h.Version, &st, &step, &stepStatus, &h.At, &h.DecidedAt, &h.SyncedAt, &h.PortalSyncedAt)
		h.Status, h.Step, h.StepStatus = dossier.Status(st), dossier.StepKind(step), dossier.StepStatus(stepStatus)
		return h, err
	})
	return hs, translate(err, "reading history")
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
