-- The citizen look-up's throttle, shared by every API replica and kept across
-- restarts. One row per client ('c:' + client) and per client and dossier code
-- ('p:' + client + '|' + code); a row counts failures in its window and says
-- until when that key is refused. Old rows are pruned, oldest first, so the
-- table stays bounded whatever is sent.
CREATE TABLE engine.lookup_throttle (
    key           text PRIMARY KEY,
    failures      int NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX lookup_throttle_updated ON engine.lookup_throttle (updated_at);
