-- The portal's feed. The portal shows each dossier's newest status, so it is
-- fed from the read model rather than by the workflow: ApplySnapshots raises
-- `wanted` to the version it wrote, in the same transaction, and the
-- workers' feed (activities.PortalFeed) publishes the read model's current
-- state and raises `published`. A dossier is leased to one publisher at a
-- time, so its versions reach the portal in order; a publisher that dies
-- loses its lease when leased_until passes.
CREATE TABLE engine.portal_feed (
    code            text PRIMARY KEY REFERENCES engine.dossiers (code),
    wanted          bigint NOT NULL,
    published       bigint NOT NULL DEFAULT 0,
    leased_until    timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        int NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX portal_feed_due ON engine.portal_feed (next_attempt_at) WHERE wanted > published;
