-- The mock mail relay (SMTP sink): every message it received, once per
-- Message-ID, as a mailbox keeps them.
CREATE SCHEMA IF NOT EXISTS mail;

CREATE TABLE mail.messages (
    id          bigserial PRIMARY KEY,
    -- As sent, angle brackets included; a resend carries the same one.
    message_id  text NOT NULL UNIQUE,
    mail_from   text NOT NULL,
    rcpt_to     text[] NOT NULL,
    -- Decoded from the headers and the transfer encoding.
    subject     text NOT NULL,
    body        text NOT NULL,
    -- The message as received.
    raw         bytea NOT NULL,
    received_at timestamptz NOT NULL,
    -- How often this Message-ID arrived; every time after the first is a
    -- resend, accepted and not delivered again.
    submissions int NOT NULL DEFAULT 1
);
