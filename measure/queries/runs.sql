-- name: DossiersByCode :many
-- The state of the run's own dossiers, for the progress line and the end.
SELECT code, status, received_at, completed_at FROM engine.dossiers WHERE code = ANY(@codes::text[]);

-- name: DecisionLags :many
-- Every version an agency's decision made, with when the read model and
-- the portal came to hold it.
SELECT decided_at::timestamptz AS decided_at, synced_at, portal_synced_at FROM engine.status_history
WHERE code = ANY(@codes::text[]) AND decided_at IS NOT NULL;

-- name: PortalBehind :one
-- How many dossiers the portal does not yet hold at their latest version.
SELECT count(*) FROM engine.dossiers d LEFT JOIN portal.statuses p ON p.dossier_code = d.code
WHERE p.version IS DISTINCT FROM d.version;

-- name: FailedAttempts :many
-- The failed agency calls the trace recorded, by step.
SELECT step, error FROM engine.events WHERE kind = @kind;

-- name: DropOtherConnections :one
-- Ends every other session on this database: the chaos run's database outage.
SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t;
