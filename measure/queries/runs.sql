-- name: DossiersByCode :many
-- The state of the run's own dossiers, for the progress line and the end.
SELECT code, status, received_at, completed_at FROM engine.dossiers WHERE code = ANY(@codes::text[]);

-- name: DecisionLags :many
-- Every version an agency's decision made, with when the workflow made it
-- (at), and when the read model and the portal came to hold it.
SELECT decided_at::timestamptz AS decided_at, at, synced_at, portal_synced_at FROM engine.status_history
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

-- name: BacklogUnderWay :one
-- While one agency is down: how many of the given dossiers the read model
-- holds, how many have ended, how many have called the agency at least
-- once (and so wait on it), and how many of their steps at the other
-- agencies are still being sent or decided. The backlog has settled when
-- every dossier has ended or waits on the agency, and nothing else is
-- under way.
SELECT
  (SELECT count(*) FROM engine.dossiers d WHERE d.code = ANY(@codes::text[]))::bigint AS known,
  (SELECT count(*) FROM engine.dossiers d WHERE d.code = ANY(@codes::text[])
     AND d.status IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED'))::bigint AS ended,
  (SELECT count(DISTINCT s.code) FROM engine.steps s WHERE s.code = ANY(@codes::text[]) AND s.agency = @agency::text
     AND s.attempts > 0)::bigint AS waiting,
  (SELECT count(*) FROM engine.steps s WHERE s.code = ANY(@codes::text[]) AND s.agency <> @agency::text
     AND s.status IN ('SENDING', 'AWAITING_AGENCY'))::bigint AS under_way;

-- name: FirstCallsAfter :many
-- For every step of the given dossiers whose agency call had failed before
-- @since: when its first call after @since ended, failed or not.
SELECT e.code, e.step, min(e.at)::timestamptz AS first_at FROM engine.events e
WHERE e.code = ANY(@codes::text[]) AND e.kind IN ('sent', 'attempt_failed') AND e.at >= @since::timestamptz
  AND EXISTS (SELECT 1 FROM engine.events f WHERE f.code = e.code AND f.step = e.step
    AND f.kind = 'attempt_failed' AND f.at < @since::timestamptz)
GROUP BY e.code, e.step;

-- name: PushDelays :many
-- How long each agency's pushes of the run's cases, made since @since,
-- waited in its outbox before the engine acknowledged them.
SELECT o.created_at, o.sent_at::timestamptz AS sent_at FROM police.outbox o JOIN police.cases c USING (case_id)
WHERE c.dossier_code = ANY(@codes::text[]) AND o.created_at >= @since::timestamptz AND o.sent_at IS NOT NULL AND NOT o.lost
UNION ALL
SELECT o.created_at, o.sent_at FROM justice.outbox o JOIN justice.cases c USING (case_id)
WHERE c.dossier_code = ANY(@codes::text[]) AND o.created_at >= @since::timestamptz AND o.sent_at IS NOT NULL AND NOT o.lost
UNION ALL
SELECT o.created_at, o.sent_at FROM insurance.outbox o JOIN insurance.cases c USING (case_id)
WHERE c.dossier_code = ANY(@codes::text[]) AND o.created_at >= @since::timestamptz AND o.sent_at IS NOT NULL AND NOT o.lost;
