-- name: InsertEvent :exec
INSERT INTO engine.events (code, at, kind, actor, step, outcome, error, latency_ms, attempt, detail, dedupe_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (dedupe_key) DO NOTHING;

-- name: Events :many
SELECT code, at, kind, actor, step, outcome, error, latency_ms, attempt, detail
FROM engine.events WHERE code = $1 ORDER BY at, id;
