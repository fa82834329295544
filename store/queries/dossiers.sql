-- name: DossierByRequestID :one
SELECT code, request_hash, workflow_started_at FROM engine.dossiers WHERE request_id = $1;

-- name: NextDossierSequence :one
INSERT INTO engine.dossier_sequences (commune_code, day, last) VALUES ($1, $2, 1)
ON CONFLICT (commune_code, day) DO UPDATE SET last = engine.dossier_sequences.last + 1
RETURNING last;

-- name: InsertDossier :exec
INSERT INTO engine.dossiers
    (code, request_id, request_hash, grp, commune_code, province_code, status, version,
     received_at, due_at, appointment_at, phone_hash, form, created_by, updated_at, trace_id, late_registrations)
VALUES (sqlc.arg(code), sqlc.arg(request_id), sqlc.arg(request_hash), sqlc.arg(grp), sqlc.arg(commune_code),
    sqlc.arg(province_code), sqlc.arg(status), 0, sqlc.arg(received_at), sqlc.arg(due_at), sqlc.arg(appointment_at),
    sqlc.arg(phone_hash), sqlc.arg(form), sqlc.arg(created_by), sqlc.arg(received_at), sqlc.arg(trace_id),
    sqlc.arg(late_registrations));

-- name: InsertPendingStep :exec
INSERT INTO engine.steps (code, step, agency, status, status_since, updated_at)
VALUES (sqlc.arg(code), sqlc.arg(step), sqlc.arg(agency), sqlc.arg(status), sqlc.arg(at), sqlc.arg(at));

-- name: InsertSubmittedEvent :exec
INSERT INTO engine.events (code, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5);

-- name: InsertContact :exec
INSERT INTO engine.notification_contacts (code, phone, email) VALUES ($1, $2, $3);

-- name: MarkWorkflowStarted :exec
UPDATE engine.dossiers SET workflow_started_at = now() WHERE code = $1 AND workflow_started_at IS NULL;

-- name: UnstartedDossiers :many
SELECT code FROM engine.dossiers WHERE workflow_started_at IS NULL AND received_at < $1 ORDER BY received_at LIMIT $2;

-- name: DossierForm :one
SELECT grp, form FROM engine.dossiers WHERE code = $1;

-- name: DossierPhoneHash :one
SELECT phone_hash FROM engine.dossiers WHERE code = $1;

-- name: DossierTraceID :one
SELECT trace_id FROM engine.dossiers WHERE code = $1;

-- name: WorkflowStarted :one
SELECT (workflow_started_at IS NOT NULL)::boolean AS started FROM engine.dossiers WHERE code = $1;

-- name: DossierVersion :one
SELECT version FROM engine.dossiers WHERE code = $1;

-- The read model's columns, without the form: GetDossier, DossiersByCode and
-- ListDossiers select the same ones, in the same order.

-- name: GetDossier :one
SELECT code, grp, status, version, commune_code, province_code, received_at, due_at,
    appointment_at, completed_at, outcome_reason, overdue, current_step, current_agency, updated_at, late_registrations
FROM engine.dossiers WHERE code = $1;

-- name: DossiersByCode :many
SELECT code, grp, status, version, commune_code, province_code, received_at, due_at,
    appointment_at, completed_at, outcome_reason, overdue, current_step, current_agency, updated_at, late_registrations
FROM engine.dossiers WHERE code = ANY(sqlc.arg(codes)::text[]);

-- name: ListDossiers :many
SELECT code, grp, status, version, commune_code, province_code, received_at, due_at,
    appointment_at, completed_at, outcome_reason, overdue, current_step, current_agency, updated_at, late_registrations
FROM engine.dossiers d
WHERE (sqlc.arg(grp)::text = '' OR d.grp = sqlc.arg(grp))
  AND (cardinality(sqlc.arg(statuses)::text[]) = 0 OR d.status = ANY(sqlc.arg(statuses)::text[]))
  AND (sqlc.arg(commune_code)::text = '' OR d.commune_code = sqlc.arg(commune_code))
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (NOT sqlc.arg(overdue_only)::boolean OR d.overdue
       OR (d.due_at < sqlc.arg(now)::timestamptz AND d.status <> ALL(sqlc.arg(terminal)::text[])))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
  AND (sqlc.narg(after_at)::timestamptz IS NULL OR (d.received_at, d.code) < (sqlc.narg(after_at), sqlc.arg(after_code)::text))
ORDER BY d.received_at DESC, d.code DESC
LIMIT sqlc.arg(lim);

-- name: StepsOf :many
SELECT code, step, agency, status, status_since, started_at, due_at, decided_at, overdue,
    attempts, last_error, last_error_code, reason, missing, agency_case_id, result, new_appointment_at, updated_at, apology
FROM engine.steps WHERE code = ANY(sqlc.arg(codes)::text[])
ORDER BY code, array_position(sqlc.arg(step_order)::text[], step);

-- name: UpdateDossierHead :exec
UPDATE engine.dossiers SET status = sqlc.arg(status), version = sqlc.arg(version), due_at = sqlc.arg(due_at),
    appointment_at = sqlc.arg(appointment_at), completed_at = sqlc.narg(completed_at),
    outcome_reason = sqlc.arg(outcome_reason), overdue = sqlc.arg(overdue), current_step = sqlc.arg(current_step),
    current_agency = sqlc.arg(current_agency), updated_at = sqlc.arg(updated_at),
    late_registrations = CASE WHEN sqlc.arg(late_registrations)::jsonb = '[]'::jsonb THEN late_registrations
        ELSE sqlc.arg(late_registrations)::jsonb END
WHERE code = sqlc.arg(code) AND version < sqlc.arg(version);

-- name: InsertStatusHistory :exec
INSERT INTO engine.status_history (code, version, status, step, step_status, at, decided_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code, version) DO NOTHING;

-- name: UpsertStep :exec
INSERT INTO engine.steps (code, step, agency, status, status_since, started_at, due_at,
    decided_at, overdue, attempts, last_error, reason, missing, agency_case_id, result, new_appointment_at, updated_at,
    apology, last_error_code)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT (code, step) DO UPDATE SET agency = EXCLUDED.agency, status = EXCLUDED.status,
    status_since = EXCLUDED.status_since, started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at,
    decided_at = EXCLUDED.decided_at, overdue = EXCLUDED.overdue, attempts = EXCLUDED.attempts,
    last_error = EXCLUDED.last_error, last_error_code = EXCLUDED.last_error_code, reason = EXCLUDED.reason, missing = EXCLUDED.missing,
    agency_case_id = EXCLUDED.agency_case_id, result = EXCLUDED.result,
    new_appointment_at = EXCLUDED.new_appointment_at, updated_at = EXCLUDED.updated_at,
    apology = EXCLUDED.apology;

-- name: MarkPortalSynced :exec
UPDATE engine.status_history SET portal_synced_at = sqlc.arg(at)
WHERE code = sqlc.arg(code) AND version <= sqlc.arg(version) AND portal_synced_at IS NULL;

-- name: History :many
SELECT version, status, step, step_status, at, decided_at, synced_at, portal_synced_at
FROM engine.status_history WHERE code = $1 ORDER BY version;

-- name: Freshness :many
SELECT h.code, max(h.synced_at)::timestamptz AS synced_at,
    coalesce(max(h.version) FILTER (WHERE h.portal_synced_at IS NOT NULL), 0)::bigint AS portal_version,
    max(h.portal_synced_at) AS portal_synced_at
FROM engine.status_history h WHERE h.code = ANY(sqlc.arg(codes)::text[]) GROUP BY h.code;
