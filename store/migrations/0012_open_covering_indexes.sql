-- The stuck rules, the overdue gauge and the backlog read open dossiers and
-- open steps, a few per cent of a year's rows. Their partial indexes now
-- carry every column those queries test, so they answer from the indexes
-- alone instead of fetching each open row from the tables at random
-- (docs/BENCHMARKS.md, "Scale of the read model"). The statuses are the
-- terminal ones the queries write out.
CREATE INDEX dossiers_open ON engine.dossiers (code)
    INCLUDE (province_code, commune_code, grp, status, received_at, due_at, overdue, workflow_started_at)
    WHERE status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED');
CREATE INDEX steps_open_cover ON engine.steps (status_since, code, step)
    INCLUDE (agency, status, due_at, overdue, attempts, last_error)
    WHERE status NOT IN ('APPROVED', 'REJECTED', 'SKIPPED', 'CANCELLED');

-- What they replace, and what the statistics no longer read now that they
-- read the rollup (0011): the newest decided steps, and decided steps by
-- agency. steps_decided_code stays: the hours of a period's first and last
-- days, and the spans, join dossiers to their decided steps by it.
DROP INDEX engine.dossiers_open_due;
DROP INDEX engine.steps_open;
DROP INDEX engine.steps_open_since;
DROP INDEX engine.steps_decided_at;
DROP INDEX engine.steps_decided;

ANALYZE engine.dossiers, engine.steps;
