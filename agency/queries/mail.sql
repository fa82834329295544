-- name: ReceiveMail :one
INSERT INTO mail.messages (message_id, mail_from, rcpt_to, subject, body, raw, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (message_id) DO UPDATE SET submissions = mail.messages.submissions + 1
RETURNING submissions;
