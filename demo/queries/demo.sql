-- The demo's writes into the engine's schema: the past dossiers copied in at
-- once, and the checks that they and the live ones are there.

-- name: LockSeeding :exec
-- Serialises seeders of one database.
SELECT pg_advisory_xact_lock($1);

-- name: CountDossiersLike :one
SELECT count(*) FROM engine.dossiers WHERE request_id LIKE $1;

-- name: TakeDossierSequence :one
-- Takes n numbers of the commune's daily sequence at once, and returns the last.
INSERT INTO engine.dossier_sequences (commune_code, day, last)
VALUES (sqlc.arg(commune_code), sqlc.arg(day)::text::date, sqlc.arg(n))
ON CONFLICT (commune_code, day) DO UPDATE SET last = engine.dossier_sequences.last + sqlc.arg(n)
RETURNING last;

-- name: CopyDossiers :copyfrom
INSERT INTO engine.dossiers (code, request_id, request_hash, grp, commune_code, province_code, status, version,
    received_at, due_at, appointment_at, completed_at, outcome_reason, overdue, current_step, current_agency,
    phone_hash, form, created_by, workflow_started_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21);

-- name: CopySteps :copyfrom
INSERT INTO engine.steps (code, step, agency, status, status_since, started_at, due_at, decided_at, overdue,
    attempts, last_error, reason, missing, agency_case_id, result, new_appointment_at, updated_at, last_error_code)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18);

-- name: CopyStatusHistory :copyfrom
INSERT INTO engine.status_history (code, version, status, step, step_status, at, decided_at, synced_at, portal_synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: CopyEvents :copyfrom
INSERT INTO engine.events (code, at, kind, actor, step, outcome, error, latency_ms, attempt, detail, dedupe_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);
