-- name: ThrottleRefusing :one
-- The latest refusal among the keys; no row when none refuses.
SELECT blocked_until FROM engine.lookup_throttle
WHERE key = ANY(sqlc.arg(keys)::text[]) AND blocked_until > sqlc.arg(now)
ORDER BY blocked_until DESC LIMIT 1;

-- name: ThrottleCount :one
-- A refusing key is left as it is. A new key refuses nobody, whatever the
-- clock of a concurrent attempt says.
INSERT INTO engine.lookup_throttle AS t (key, failures, window_start, blocked_until, updated_at)
VALUES (sqlc.arg(key), 1, sqlc.arg(now), 'epoch', sqlc.arg(now))
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.blocked_until > sqlc.arg(now) THEN t.failures
        WHEN t.window_start < sqlc.arg(window_start)::timestamptz THEN 1 ELSE t.failures + 1 END,
    window_start = CASE WHEN t.blocked_until <= sqlc.arg(now) AND t.window_start < sqlc.arg(window_start)
        THEN sqlc.arg(now) ELSE t.window_start END,
    updated_at = CASE WHEN t.blocked_until > sqlc.arg(now) THEN t.updated_at ELSE sqlc.arg(now) END
RETURNING failures, blocked_until;

-- name: ThrottleBlock :exec
UPDATE engine.lookup_throttle SET blocked_until = $2 WHERE key = $1;

-- name: ThrottleSucceeded :exec
WITH cleared AS (DELETE FROM engine.lookup_throttle c WHERE c.key = sqlc.arg(clear))
UPDATE engine.lookup_throttle r SET failures = greatest(r.failures - 1, 0) WHERE r.key = ANY(sqlc.arg(refund)::text[]);

-- name: PruneThrottleExpired :execrows
DELETE FROM engine.lookup_throttle WHERE updated_at < sqlc.arg(idle_before) AND blocked_until < sqlc.arg(now);

-- name: PruneThrottleOldest :execrows
DELETE FROM engine.lookup_throttle WHERE key IN (
    SELECT key FROM engine.lookup_throttle ORDER BY blocked_until > sqlc.arg(now)::timestamptz, updated_at
    LIMIT greatest((SELECT count(*) FROM engine.lookup_throttle) - sqlc.arg(keep)::bigint, 0));
