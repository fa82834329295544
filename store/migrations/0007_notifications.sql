-- Notifications to the applicant. The outbox is written in the same
-- transaction as the version of the dossier that causes each message, and
-- sent by the worker's dispatcher, oldest first per dossier.

-- Where the applicant is told, copied from the form at submission so the
-- dispatcher never reads the form: the phone only if they did not opt out of
-- SMS, the e-mail only if they gave one. A dossier without a row is told
-- nothing (dossiers received before notifications existed).
CREATE TABLE engine.notification_contacts (
    code  text PRIMARY KEY REFERENCES engine.dossiers (code),
    -- E.164, or '' for no SMS.
    phone text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT ''
);

CREATE TABLE engine.notifications (
    -- Per dossier, ids grow in the order the messages must be sent.
    id              bigserial PRIMARY KEY,
    code            text NOT NULL REFERENCES engine.dossiers (code),
    version         bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('receipt', 'supplement', 'step_result', 'appointment', 'end')),
    step            text NOT NULL DEFAULT '',
    channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    -- A replayed version derives the same keys and adds nothing.
    UNIQUE (code, version, kind, step, channel)
);
-- The dispatcher's claim: unsent rows, and the earlier unsent rows of a dossier.
CREATE INDEX notifications_pending ON engine.notifications (code, id) WHERE state = 'pending';
CREATE INDEX notifications_due ON engine.notifications (next_attempt_at, id) WHERE state = 'pending';
