-- name: RaisePortalFeed :exec
INSERT INTO engine.portal_feed (code, wanted) VALUES ($1, $2)
ON CONFLICT (code) DO UPDATE SET wanted = GREATEST(engine.portal_feed.wanted, EXCLUDED.wanted);

-- name: Notify :exec
SELECT pg_notify(sqlc.arg(channel)::text, '');

-- name: ClaimPortalFeed :many
UPDATE engine.portal_feed f SET leased_until = now() + make_interval(secs => sqlc.arg(lease_seconds)::float8)
WHERE f.code IN (
    SELECT code FROM engine.portal_feed
    WHERE wanted > published AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
    ORDER BY next_attempt_at
    LIMIT sqlc.arg(lim)
    FOR UPDATE SKIP LOCKED)
RETURNING f.code, f.attempts;

-- name: PortalPublished :exec
UPDATE engine.portal_feed SET published = GREATEST(published, sqlc.arg(version)), leased_until = NULL,
    attempts = 0, last_error = '', next_attempt_at = now()
WHERE code = sqlc.arg(code);

-- name: PortalSynced :many
UPDATE engine.status_history SET portal_synced_at = sqlc.arg(at)
WHERE code = sqlc.arg(code) AND version <= sqlc.arg(version) AND portal_synced_at IS NULL
RETURNING decided_at;

-- name: PortalFailed :exec
UPDATE engine.portal_feed SET leased_until = NULL, attempts = attempts + 1,
    last_error = $2, next_attempt_at = $3
WHERE code = $1;

-- name: PortalBacklog :one
SELECT count(*), min(next_attempt_at) AS oldest FROM engine.portal_feed WHERE wanted > published;
