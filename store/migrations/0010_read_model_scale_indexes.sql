-- The read model at a national year's scale: 2 M dossiers and their steps
-- (measure/scale, "Scale of the read model" in docs/BENCHMARKS.md).
--
-- Supervisor statistics count a province's or the nation's dossiers of a
-- period by place, group and status. The indexes by receipt carry those
-- columns, so the counts read the index alone, never the table's rows,
-- which hold the form. Same names and keys as before, so every query that
-- used them still does.
DROP INDEX engine.dossiers_province_received;
CREATE INDEX dossiers_province_received ON engine.dossiers (province_code, received_at DESC, code)
    INCLUDE (commune_code, grp, status, due_at, completed_at, overdue);
DROP INDEX engine.dossiers_received;
CREATE INDEX dossiers_received ON engine.dossiers (received_at DESC, code)
    INCLUDE (province_code, commune_code, grp, status, due_at, completed_at, overdue);

-- A supervisor's listing of one status in a province, newest first, stops
-- after a page instead of reading the province's year to find a rare
-- status. It starts with the old index's key, which it replaces; the group
-- lets the dossier gauge count from the index alone.
DROP INDEX engine.dossiers_province_status;
CREATE INDEX dossiers_province_status ON engine.dossiers (province_code, status, received_at DESC, code)
    INCLUDE (grp);

-- Step timings join a period's dossiers to their decided steps: found by
-- dossier, and read from the index alone.
CREATE INDEX steps_decided_code ON engine.steps (code)
    INCLUDE (agency, step, started_at, decided_at, due_at)
    WHERE decided_at IS NOT NULL AND started_at IS NOT NULL;
-- The newest decided steps, for the working-time figures.
CREATE INDEX steps_decided_at ON engine.steps (decided_at DESC)
    WHERE decided_at IS NOT NULL AND started_at IS NOT NULL;

-- Stuck cases are listed longest unchanged first: open steps in that order.
CREATE INDEX steps_open_since ON engine.steps (status_since)
    WHERE status NOT IN ('APPROVED', 'REJECTED', 'SKIPPED', 'CANCELLED');
