-- The engine's own schema: dossiers as received, the read model the
-- workflows keep in sync, the trace, and the append-only audit trail.
CREATE SCHEMA IF NOT EXISTS engine;

-- One row per linked dossier. The form (personal data) is kept here and
-- nowhere in Temporal: activities read it when they call an agency.
CREATE TABLE engine.dossiers (
    code            text PRIMARY KEY,
    request_id      text NOT NULL UNIQUE,
    request_hash    bytea NOT NULL,
    grp             text NOT NULL CHECK (grp IN ('birth', 'death')),
    commune_code    text NOT NULL,
    province_code   text NOT NULL,
    status          text NOT NULL,
    -- Grows with every transition; a write with an older version is ignored.
    version         bigint NOT NULL DEFAULT 0,
    received_at     timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    appointment_at  timestamptz NOT NULL,
    completed_at    timestamptz,
    outcome_reason  text NOT NULL DEFAULT '',
    overdue         boolean NOT NULL DEFAULT false,
    current_step    text NOT NULL DEFAULT '',
    current_agency  text NOT NULL DEFAULT '',
    -- SHA-256 of the applicant's phone, for the citizen's lookup.
    phone_hash      text NOT NULL,
    form            bytea NOT NULL,
    created_by      text NOT NULL,
    workflow_started_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossiers_province_status ON engine.dossiers (province_code, status);
CREATE INDEX dossiers_commune_received ON engine.dossiers (commune_code, received_at DESC, code);
CREATE INDEX dossiers_received ON engine.dossiers (received_at DESC, code);
CREATE INDEX dossiers_not_started ON engine.dossiers (received_at) WHERE workflow_started_at IS NULL;

-- Daily sequence behind the human-readable code {commune}-{YYMMDD}-{seq}.
CREATE TABLE engine.dossier_sequences (
    commune_code text NOT NULL,
    day          date NOT NULL,
    last         int  NOT NULL,
    PRIMARY KEY (commune_code, day)
);

CREATE TABLE engine.steps (
    code                text NOT NULL REFERENCES engine.dossiers (code),
    step                text NOT NULL,
    agency              text NOT NULL,
    status              text NOT NULL,
    status_since        timestamptz NOT NULL,
    started_at          timestamptz,
    due_at              timestamptz,
    decided_at          timestamptz,
    overdue             boolean NOT NULL DEFAULT false,
    attempts            int NOT NULL DEFAULT 0,
    last_error          text NOT NULL DEFAULT '',
    reason              text NOT NULL DEFAULT '',
    missing             text[] NOT NULL DEFAULT '{}',
    agency_case_id      text NOT NULL DEFAULT '',
    result              jsonb NOT NULL DEFAULT '{}',
    new_appointment_at  timestamptz,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (code, step)
);
CREATE INDEX steps_open ON engine.steps (status, status_since)
    WHERE status NOT IN ('APPROVED', 'REJECTED', 'SKIPPED', 'CANCELLED');

-- Every version a dossier went through, in order, with the lag from the
-- agency's decision to the moment the read model held it.
CREATE TABLE engine.status_history (
    code        text NOT NULL REFERENCES engine.dossiers (code),
    version     bigint NOT NULL,
    status      text NOT NULL,
    step        text NOT NULL DEFAULT '',
    step_status text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    decided_at  timestamptz,
    synced_at   timestamptz NOT NULL DEFAULT now(),
    portal_synced_at timestamptz,
    PRIMARY KEY (code, version)
);

-- The trace a supervisor reads: every send, attempt, decision, sync, view and remedy.
CREATE TABLE engine.events (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    actor       text NOT NULL,
    step        text NOT NULL DEFAULT '',
    outcome     text NOT NULL DEFAULT '',
    error       text NOT NULL DEFAULT '',
    latency_ms  bigint NOT NULL DEFAULT 0,
    attempt     int NOT NULL DEFAULT 0,
    detail      text NOT NULL DEFAULT '',
    -- Workflow-made events carry a key so a retried sync writes them once.
    dedupe_key  text UNIQUE
);
CREATE INDEX events_code ON engine.events (code, at, id);

-- Who read or wrote personal data, and why. Rows are never changed or removed.
CREATE TABLE engine.audit (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    role     text NOT NULL,
    action   text NOT NULL,
    code     text NOT NULL DEFAULT '',
    purpose  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_code ON engine.audit (code, at);

CREATE FUNCTION engine.audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'engine.audit is append-only';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON engine.audit
    FOR EACH ROW EXECUTE FUNCTION engine.audit_is_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON engine.audit
    FOR EACH STATEMENT EXECUTE FUNCTION engine.audit_is_append_only();
