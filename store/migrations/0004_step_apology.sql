-- A late step's apology and new appointment date (dossier.Apology as JSON),
-- NULL while the step is on time.
ALTER TABLE engine.steps ADD COLUMN apology jsonb;
CREATE INDEX steps_apology ON engine.steps (agency) WHERE apology IS NOT NULL;
