-- name: LockDossierContact :one
-- Locks the dossier, so concurrent writes of it take turns.
SELECT COALESCE(c.phone, '')::text AS phone, COALESCE(c.email, '')::text AS email
FROM engine.dossiers d LEFT JOIN engine.notification_contacts c ON c.code = d.code
WHERE d.code = $1 FOR UPDATE OF d;

-- name: InsertNotification :exec
INSERT INTO engine.notifications
    (code, version, kind, step, channel, subject, body, created_at, next_attempt_at)
VALUES (sqlc.arg(code), sqlc.arg(version), sqlc.arg(kind), sqlc.arg(step), sqlc.arg(channel), sqlc.arg(subject),
    sqlc.arg(body), sqlc.arg(created_at), sqlc.arg(created_at))
ON CONFLICT (code, version, kind, step, channel) DO NOTHING;

-- name: Notifications :many
SELECT n.id, n.code, n.version, n.kind, n.step, n.channel, n.subject, n.body, n.state, n.attempts,
    n.last_error, n.created_at, n.sent_at, COALESCE(CASE n.channel WHEN 'sms' THEN c.phone ELSE c.email END, '')::text AS recipient
FROM engine.notifications n LEFT JOIN engine.notification_contacts c ON c.code = n.code
WHERE n.code = $1 ORDER BY n.id;

-- name: ClaimNotifications :many
-- The head of each dossier's line: no earlier row of the dossier is pending.
SELECT n.id, n.code, n.version, n.kind, n.step, n.channel, n.subject, n.body, n.state, n.attempts,
    n.last_error, n.created_at, n.sent_at, COALESCE(CASE n.channel WHEN 'sms' THEN c.phone ELSE c.email END, '')::text AS recipient
FROM engine.notifications n JOIN engine.notification_contacts c ON c.code = n.code
WHERE n.state = 'pending' AND n.next_attempt_at <= now()
  AND NOT EXISTS (SELECT 1 FROM engine.notifications e
                  WHERE e.code = n.code AND e.state = 'pending' AND e.id < n.id)
ORDER BY n.next_attempt_at, n.id
LIMIT $1
FOR UPDATE OF n SKIP LOCKED;

-- name: NotificationSent :exec
UPDATE engine.notifications SET state = 'sent', sent_at = $2, attempts = attempts + 1, last_error = ''
WHERE id = $1;

-- name: NotificationFailed :exec
UPDATE engine.notifications SET state = 'failed', attempts = attempts + 1, last_error = $2
WHERE id = $1;

-- name: NotificationRetry :exec
UPDATE engine.notifications SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
WHERE id = $1;

-- name: NotificationBacklog :one
SELECT count(*), min(created_at) AS oldest FROM engine.notifications WHERE state = 'pending';

-- name: PurgeContacts :execrows
DELETE FROM engine.notification_contacts WHERE code IN (
    SELECT c.code FROM engine.notification_contacts c JOIN engine.dossiers d ON d.code = c.code
    WHERE d.completed_at IS NOT NULL AND d.completed_at < $1
      AND NOT EXISTS (SELECT 1 FROM engine.notifications n WHERE n.code = c.code AND n.state = 'pending')
    LIMIT $2);
