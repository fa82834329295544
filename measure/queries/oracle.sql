-- name: OracleDossiers :many
-- The read model's dossiers, whole, for the invariant oracle.
SELECT code, grp, status, version FROM engine.dossiers;

-- name: OracleSteps :many
-- The read model's steps, whole, in dossier order.
SELECT code, step, agency, status, status_since, attempts, last_error, reason, missing, agency_case_id, result
FROM engine.steps ORDER BY code, step;

-- name: OracleHistory :many
-- Every version the engine committed, for their order.
SELECT code, version, status, step, step_status FROM engine.status_history;

-- name: OracleCases :many
-- Every case the deciding agencies opened (the portal keeps statuses only).
SELECT 'justice'::text AS agency, case_id, dossier_code, step, status FROM justice.cases
UNION ALL
SELECT 'police'::text, case_id, dossier_code, step, status FROM police.cases
UNION ALL
SELECT 'insurance'::text, case_id, dossier_code, step, status FROM insurance.cases;

-- name: OraclePortal :many
-- The status the portal shows for each dossier, as the bytes it was sent.
SELECT dossier_code, version, status FROM portal.statuses;
