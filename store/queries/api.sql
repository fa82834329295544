-- The API's read queries: listings, stuck steps and statistics over the read
-- model. None of them reads the form, so none of them reads personal data.
-- StuckSteps and CountStuckSteps share their conditions, and the statistics
-- their filter (province, received from, received until).
--
-- The statistics read the rollup (0011_statistics_rollup.sql) for the whole
-- Vietnam days of a period, and the queries over the dossiers (CountByPlace,
-- DailyVolume, ProvinceRanking, StepBuckets) for what the period holds of
-- its first and last days.

-- name: StuckSteps :many
SELECT d.code, d.grp, d.commune_code, d.province_code, d.received_at, d.due_at AS dossier_due_at,
    d.overdue AS dossier_overdue, (d.workflow_started_at IS NOT NULL)::boolean AS workflow_started,
    s.step, s.agency, s.status, s.status_since, s.started_at, s.due_at, s.decided_at, s.overdue, s.attempts,
    s.last_error, s.last_error_code, s.reason, s.missing, s.agency_case_id, s.new_appointment_at, s.updated_at
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE d.status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED')
  AND s.status NOT IN ('APPROVED', 'REJECTED', 'SKIPPED', 'CANCELLED')
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.arg(agency)::text = '' OR s.agency = sqlc.arg(agency))
  AND (
        (sqlc.arg(rule_overdue)::boolean AND s.status <> 'PENDING'
            AND (s.overdue OR s.due_at < sqlc.arg(now)::timestamptz OR d.overdue OR d.due_at < sqlc.arg(now)))
     OR (sqlc.arg(rule_idle)::boolean AND s.status <> 'PENDING' AND s.status_since < sqlc.arg(idle_before)::timestamptz)
     OR (sqlc.arg(rule_idle) AND d.workflow_started_at IS NULL AND d.received_at < sqlc.arg(unstarted_before)::timestamptz
         AND s.step = ANY(sqlc.arg(first_steps)::text[]))
     OR (sqlc.arg(rule_retries)::boolean AND s.attempts >= sqlc.arg(min_attempts)::int AND s.last_error <> '')
     OR (sqlc.arg(rule_late_id)::boolean AND s.status_since < sqlc.arg(late_id_before)::timestamptz
         AND ((s.step = 'id_number' AND s.status = 'AWAITING_AGENCY') OR s.status = 'WAITING_ID_NUMBER'))
     OR (sqlc.arg(rule_supplement)::boolean AND s.status = 'NEEDS_SUPPLEMENT')
  )
ORDER BY s.status_since, d.code, s.step
LIMIT sqlc.arg(lim);

-- name: CountStuckSteps :one
SELECT count(*)
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE d.status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED')
  AND s.status NOT IN ('APPROVED', 'REJECTED', 'SKIPPED', 'CANCELLED')
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.arg(agency)::text = '' OR s.agency = sqlc.arg(agency))
  AND (
        (sqlc.arg(rule_overdue)::boolean AND s.status <> 'PENDING'
            AND (s.overdue OR s.due_at < sqlc.arg(now)::timestamptz OR d.overdue OR d.due_at < sqlc.arg(now)))
     OR (sqlc.arg(rule_idle)::boolean AND s.status <> 'PENDING' AND s.status_since < sqlc.arg(idle_before)::timestamptz)
     OR (sqlc.arg(rule_idle) AND d.workflow_started_at IS NULL AND d.received_at < sqlc.arg(unstarted_before)::timestamptz
         AND s.step = ANY(sqlc.arg(first_steps)::text[]))
     OR (sqlc.arg(rule_retries)::boolean AND s.attempts >= sqlc.arg(min_attempts)::int AND s.last_error <> '')
     OR (sqlc.arg(rule_late_id)::boolean AND s.status_since < sqlc.arg(late_id_before)::timestamptz
         AND ((s.step = 'id_number' AND s.status = 'AWAITING_AGENCY') OR s.status = 'WAITING_ID_NUMBER'))
     OR (sqlc.arg(rule_supplement)::boolean AND s.status = 'NEEDS_SUPPLEMENT')
  );

-- name: CountByGroupStatus :many
SELECT grp, status, sum(n)::bigint AS count FROM engine.rollup_places GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2;

-- The open dossiers' statuses are written out, as the partial indexes on
-- open dossiers name them (0012), so the planner may use them.

-- name: CountOverdue :one
SELECT count(*) FROM engine.dossiers
WHERE status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED') AND (overdue OR due_at < sqlc.arg(now)::timestamptz);

-- name: CountByPlace :many
SELECT d.province_code, d.commune_code, d.grp, d.status, count(*)
FROM engine.dossiers d
WHERE (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- Days are Vietnam's (UTC+7 all year), whatever the server's time zone.

-- name: DailyVolume :many
SELECT to_char((d.received_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD')::text AS day,
    d.grp, count(*)
FROM engine.dossiers d
WHERE (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: BacklogByAge :many
SELECT floor(extract(epoch FROM sqlc.arg(now)::timestamptz - d.received_at) / 86400)::int AS days,
    count(*) AS open, count(*) FILTER (WHERE d.overdue OR d.due_at < sqlc.arg(now)) AS overdue
FROM engine.dossiers d
WHERE d.status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED')
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
GROUP BY 1;

-- name: ProvinceRanking :many
SELECT d.province_code, count(*) AS received,
    count(*) FILTER (WHERE d.status = ANY(sqlc.arg(decided)::text[])) AS finished,
    count(*) FILTER (WHERE d.status = ANY(sqlc.arg(decided)::text[])
        AND d.completed_at IS NOT NULL AND d.completed_at <= d.due_at) AS on_time
FROM engine.dossiers d
WHERE (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
GROUP BY 1 ORDER BY 1;

-- name: StepBuckets :many
SELECT s.agency, s.step, engine.rollup_bucket(extract(epoch FROM s.decided_at - s.started_at)::float8) AS bucket,
    count(*) AS n, count(*) FILTER (WHERE s.due_at IS NOT NULL AND s.decided_at <= s.due_at) AS on_time
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
GROUP BY 1, 2, 3;

-- name: RollupPlaces :many
SELECT province_code, commune_code, grp, status, n AS count FROM engine.rollup_places
WHERE n <> 0 AND (sqlc.arg(province_code)::text = '' OR province_code = sqlc.arg(province_code))
ORDER BY 1, 2, 3, 4;

-- Rollup days: from_day inclusive, until_day exclusive, either open.

-- name: RollupDaySums :many
-- One pass over the period's days gives the counts by province, group and
-- status (with on_time, which the ranking reads) and the daily volume by
-- group; a row of the volume has province_code and status '', a row of the
-- counts has day ''.
SELECT coalesce(to_char(day, 'YYYY-MM-DD'), '')::text AS day, coalesce(province_code, '')::text AS province_code,
    grp, coalesce(status, '')::text AS status, sum(n)::bigint AS n, sum(on_time)::bigint AS on_time
FROM engine.rollup_days
WHERE (sqlc.arg(province_code)::text = '' OR province_code = sqlc.arg(province_code))
  AND (sqlc.narg(from_day)::date IS NULL OR day >= sqlc.narg(from_day))
  AND (sqlc.narg(until_day)::date IS NULL OR day < sqlc.narg(until_day))
GROUP BY GROUPING SETS ((province_code, grp, status), (day, grp))
HAVING sum(n) <> 0;

-- name: RollupStepBucketsProvince :many
SELECT agency, step, bucket, sum(n)::bigint AS n, sum(on_time)::bigint AS on_time FROM engine.rollup_steps
WHERE province_code = sqlc.arg(province_code)
  AND (sqlc.narg(from_day)::date IS NULL OR day >= sqlc.narg(from_day))
  AND (sqlc.narg(until_day)::date IS NULL OR day < sqlc.narg(until_day))
GROUP BY 1, 2, 3 HAVING sum(n) <> 0;

-- name: RollupStepBucketsNation :many
SELECT agency, step, bucket, sum(n)::bigint AS n, sum(on_time)::bigint AS on_time FROM engine.rollup_steps_nation
WHERE (sqlc.narg(from_day)::date IS NULL OR day >= sqlc.narg(from_day))
  AND (sqlc.narg(until_day)::date IS NULL OR day < sqlc.narg(until_day))
GROUP BY 1, 2, 3 HAVING sum(n) <> 0;

-- The working-time figures read the decided steps of the period's newest
-- dossiers, walking the dossiers newest first by index and stopping at lim.

-- name: StepSpansProvince :many
SELECT s.agency, s.step, s.started_at, s.decided_at
FROM engine.dossiers d JOIN engine.steps s ON s.code = d.code
WHERE d.province_code = sqlc.arg(province_code) AND s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
ORDER BY d.received_at DESC, d.code LIMIT sqlc.arg(lim);

-- name: StepSpansNation :many
SELECT s.agency, s.step, s.started_at, s.decided_at
FROM engine.dossiers d JOIN engine.steps s ON s.code = d.code
WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
  AND (sqlc.narg(received_from)::timestamptz IS NULL OR d.received_at >= sqlc.narg(received_from))
  AND (sqlc.narg(received_until)::timestamptz IS NULL OR d.received_at < sqlc.narg(received_until))
ORDER BY d.received_at DESC, d.code LIMIT sqlc.arg(lim);

-- name: RollupRefill :exec
SELECT engine.rollup_refill();

-- name: Apologies :many
SELECT s.code, d.province_code, d.commune_code, s.step, s.agency, s.apology
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE s.apology IS NOT NULL
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.arg(agency)::text = '' OR s.agency = sqlc.arg(agency))
  AND (sqlc.narg(since)::timestamptz IS NULL OR (s.apology->>'requested_at')::timestamptz >= sqlc.narg(since))
ORDER BY (s.apology->>'requested_at')::timestamptz DESC, s.code, s.step
LIMIT sqlc.arg(lim);

-- name: ApologyCounts :many
SELECT s.agency, count(*) AS requested, count(*) FILTER (WHERE s.apology ? 'issued_at') AS issued
FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
WHERE s.apology IS NOT NULL
  AND (sqlc.arg(province_code)::text = '' OR d.province_code = sqlc.arg(province_code))
  AND (sqlc.arg(agency)::text = '' OR s.agency = sqlc.arg(agency))
  AND (sqlc.narg(since)::timestamptz IS NULL OR (s.apology->>'requested_at')::timestamptz >= sqlc.narg(since))
GROUP BY s.agency ORDER BY s.agency;
