-- name: AcceptSms :one
-- No row when the client sent this message id before.
INSERT INTO sms.messages (client, message_id, phone, body, encoding, segments, accepted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (client, message_id) DO NOTHING
RETURNING id, accepted_at;

-- name: ResubmitSms :one
UPDATE sms.messages SET submissions = submissions + 1
WHERE client = $1 AND message_id = $2
RETURNING id, phone, body, encoding, segments, accepted_at;
