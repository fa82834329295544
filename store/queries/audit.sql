-- name: AppendAudit :exec
-- The chain's trigger gives each row its place, time and hash. The arrays
-- are of one length, so they unnest side by side.
INSERT INTO engine.audit (actor, role, action, code, purpose)
SELECT unnest(sqlc.arg(actors)::text[]), unnest(sqlc.arg(roles)::text[]), unnest(sqlc.arg(actions)::text[]),
    unnest(sqlc.arg(codes)::text[]), unnest(sqlc.arg(purposes)::text[]);

-- name: AuditOf :many
SELECT at, actor, role, action, code, purpose FROM engine.audit WHERE code = $1 ORDER BY seq;

-- name: AuditHead :one
SELECT seq, hash FROM engine.audit_head;
