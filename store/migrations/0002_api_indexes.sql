-- Indexes for the API's read queries: a supervisor's province listing, the
-- overdue count behind lienthong_dossiers_overdue, and per-step timings.
CREATE INDEX dossiers_province_received ON engine.dossiers (province_code, received_at DESC, code);
CREATE INDEX dossiers_open_due ON engine.dossiers (due_at)
    WHERE status NOT IN ('COMPLETED', 'PARTIALLY_COMPLETED', 'REJECTED', 'CANCELLED');
CREATE INDEX steps_decided ON engine.steps (agency, step)
    WHERE decided_at IS NOT NULL;
