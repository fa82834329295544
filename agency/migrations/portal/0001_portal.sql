-- The national portal's status feed: each dossier's newest status, as
-- published by the engine, for the citizen's lookup by code and phone.
CREATE SCHEMA IF NOT EXISTS portal;

CREATE TABLE portal.statuses (
    dossier_code text PRIMARY KEY,
    -- An older version arriving late is ignored.
    version      bigint NOT NULL CHECK (version > 0),
    -- SHA-256 (hex) of the applicant's phone in E.164 form; the portal never sees the number.
    phone_hash   text NOT NULL CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
    -- A serialized lienthong.agency.v1.PortalStatus.
    status       bytea NOT NULL,
    published_at timestamptz NOT NULL
);
