-- The case desk every deciding agency keeps in its own schema (${schema} is
-- replaced by the agency's name when the migrations are loaded): one case per
-- idempotency key, the supplements received, and the outbox of changes to push
-- to the engine, written in the same transaction as the change.
CREATE SCHEMA IF NOT EXISTS ${schema};

CREATE TABLE ${schema}.cases (
    case_id            text PRIMARY KEY,
    kind               text NOT NULL,
    -- The same key always finds this case: the constraint, not a lookup, makes intake idempotent.
    idempotency_key    text NOT NULL UNIQUE,
    -- SHA-256 of the request, to tell a retry from a different request under a reused key.
    request_hash       bytea NOT NULL,
    -- The request as received. Personal data stays in this schema.
    request            jsonb NOT NULL,
    dossier_code       text NOT NULL,
    step               text NOT NULL,
    status             text NOT NULL CHECK (status IN ('RECEIVED', 'IN_REVIEW', 'NEEDS_SUPPLEMENT',
                           'APPROVED', 'REJECTED', 'WITHDRAWN', 'APPROVED_PENDING_ID')),
    -- Grows by one on every change the engine can see.
    version            bigint NOT NULL CHECK (version > 0),
    reason             text NOT NULL DEFAULT '',
    missing            text[] NOT NULL DEFAULT '{}',
    claimed_by         text NOT NULL DEFAULT '',
    result             jsonb NOT NULL DEFAULT '{}',
    supplements        int NOT NULL DEFAULT 0,
    -- When the auto decider (or, for a late ID number, the population database) takes a RECEIVED case up.
    due_at             timestamptz,
    new_appointment_at timestamptz,
    decided_at         timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX cases_due ON ${schema}.cases (due_at) WHERE status = 'RECEIVED';
CREATE INDEX cases_queue ON ${schema}.cases (created_at, case_id);
CREATE INDEX cases_dossier ON ${schema}.cases (dossier_code);

CREATE TABLE ${schema}.supplements (
    -- A retried delivery of the same supplement is applied once.
    idempotency_key text PRIMARY KEY,
    case_id         text NOT NULL REFERENCES ${schema}.cases (case_id),
    request_hash    bytea NOT NULL,
    fields          jsonb NOT NULL,
    note            text NOT NULL,
    received_at     timestamptz NOT NULL
);

CREATE TABLE ${schema}.outbox (
    id              bigserial PRIMARY KEY,
    case_id         text NOT NULL REFERENCES ${schema}.cases (case_id),
    version         bigint NOT NULL,
    -- The case as of this version: a serialized lienthong.agency.v1.Case.
    payload         bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    -- Dropped on purpose by the lost-callback fault: marked sent, never delivered.
    lost            boolean NOT NULL DEFAULT false,
    UNIQUE (case_id, version)
);
CREATE INDEX outbox_pending ON ${schema}.outbox (case_id, version) WHERE sent_at IS NULL;
