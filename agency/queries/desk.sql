-- The case desk every deciding agency keeps in its own schema. The queries
-- name it desk; the desk runs them on the agency's schema (agency/desk_db.go).
-- CaseByID, CaseByIDForUpdate, CaseByKey, ListCases and NextDueCase read the
-- same columns, in the same order.

-- name: OpenCase :execrows
INSERT INTO desk.cases (case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version,
    reason, missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at,
    apology)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, NULL)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: SetTraceParent :exec
UPDATE desk.cases SET trace_parent = $2 WHERE case_id = $1;

-- name: CaseByID :one
SELECT case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version, reason,
    missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at, apology
FROM desk.cases WHERE case_id = $1;

-- name: CaseByIDForUpdate :one
SELECT case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version, reason,
    missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at, apology
FROM desk.cases WHERE case_id = $1 FOR UPDATE;

-- name: CaseByKey :one
SELECT case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version, reason,
    missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at, apology
FROM desk.cases WHERE idempotency_key = $1;

-- name: ListCases :many
SELECT case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version, reason,
    missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at, apology
FROM desk.cases
WHERE (cardinality(sqlc.arg(statuses)::text[]) = 0 OR status = ANY(sqlc.arg(statuses)::text[]))
  AND (sqlc.arg(kind)::text = '' OR kind = sqlc.arg(kind))
  AND (created_at, case_id) > (sqlc.arg(after_created_at)::timestamptz, sqlc.arg(after_case_id)::text)
ORDER BY created_at, case_id LIMIT sqlc.arg(lim);

-- name: WriteCase :exec
UPDATE desk.cases SET request = $2, status = $3, version = $4, reason = $5,
    missing = $6, claimed_by = $7, result = $8, supplements = $9, due_at = $10, new_appointment_at = $11,
    decided_at = $12, updated_at = $13, apology = $14
WHERE case_id = $1;

-- name: EnqueueCase :exec
INSERT INTO desk.outbox (case_id, version, payload, created_at, next_attempt_at)
VALUES (sqlc.arg(case_id), sqlc.arg(version), sqlc.arg(payload), sqlc.arg(created_at), sqlc.arg(created_at));

-- name: SupplementByKey :one
SELECT case_id, request_hash FROM desk.supplements WHERE idempotency_key = $1;

-- name: InsertSupplement :exec
INSERT INTO desk.supplements (idempotency_key, case_id, request_hash, fields, note, received_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: NextApologyNumber :one
INSERT INTO desk.apology_register (year, last) VALUES ($1, 1)
ON CONFLICT (year) DO UPDATE SET last = desk.apology_register.last + 1 RETURNING last;

-- name: NextDueAt :one
-- When the next case is due; no row when none waits.
SELECT due_at FROM desk.cases
WHERE status = 'RECEIVED' AND due_at IS NOT NULL AND (sqlc.arg(auto)::boolean OR kind = ANY(sqlc.arg(machine)::text[]))
ORDER BY due_at LIMIT 1;

-- name: NextDueCase :one
-- Cases locked by an officer's transaction or another decider are skipped.
SELECT case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status, version, reason,
    missing, claimed_by, result, supplements, due_at, new_appointment_at, decided_at, created_at, updated_at, apology
FROM desk.cases
WHERE status = 'RECEIVED' AND due_at <= sqlc.arg(now)::timestamptz AND (sqlc.arg(auto)::boolean OR kind = ANY(sqlc.arg(machine)::text[]))
ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED;

-- name: PostponeCase :exec
UPDATE desk.cases SET due_at = $2 WHERE case_id = $1;

-- name: PruneOutbox :exec
DELETE FROM desk.outbox WHERE sent_at < $1;

-- name: DuePushes :many
-- Each case's oldest undelivered version, if due.
SELECT heads.id, heads.case_id, heads.version, heads.payload, heads.attempts, c.trace_parent FROM (
        SELECT DISTINCT ON (case_id) id, case_id, version, payload, attempts, next_attempt_at
        FROM desk.outbox WHERE sent_at IS NULL ORDER BY case_id, version) AS heads
    JOIN desk.cases c ON c.case_id = heads.case_id
WHERE heads.next_attempt_at <= sqlc.arg(now)::timestamptz ORDER BY heads.id LIMIT sqlc.arg(lim)::int;

-- name: NextPushAt :one
-- When the soonest of the cases' oldest undelivered versions is due; no row
-- when none waits.
SELECT heads.next_attempt_at FROM (
    SELECT DISTINCT ON (case_id) next_attempt_at FROM desk.outbox
    WHERE sent_at IS NULL ORDER BY case_id, version) AS heads
ORDER BY heads.next_attempt_at LIMIT 1;

-- name: PushLost :exec
-- The lost-callback fault: marked sent, never delivered.
UPDATE desk.outbox SET sent_at = $2, lost = true, attempts = attempts + 1 WHERE id = $1;

-- name: PushDelivered :exec
UPDATE desk.outbox SET sent_at = $2, attempts = attempts + 1, last_error = '' WHERE id = $1;

-- name: PushFailed :exec
UPDATE desk.outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1;
