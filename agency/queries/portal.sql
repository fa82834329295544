-- name: PublishStatus :one
-- No row when a newer version is stored.
INSERT INTO portal.statuses (dossier_code, version, phone_hash, status, published_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (dossier_code) DO UPDATE SET version = EXCLUDED.version, phone_hash = EXCLUDED.phone_hash,
    status = EXCLUDED.status, published_at = EXCLUDED.published_at
WHERE portal.statuses.version < EXCLUDED.version
RETURNING version;

-- name: StoredStatusVersion :one
SELECT version FROM portal.statuses WHERE dossier_code = $1;

-- name: StoredStatus :one
SELECT phone_hash, status FROM portal.statuses WHERE dossier_code = $1;
