-- A late case's apology and new appointment date (lienthong.agency.v1.Apology
-- as protojson with proto field names): set when the engine asks for it,
-- completed when the agency issues it. NULL while the case is on time.
ALTER TABLE ${schema}.cases ADD COLUMN apology jsonb;
CREATE INDEX cases_apology_owed ON ${schema}.cases (case_id)
    WHERE apology IS NOT NULL AND NOT (apology ? 'issued_at');

-- The register of apology slips: one numbered series per year.
CREATE TABLE ${schema}.apology_register (
    year int PRIMARY KEY,
    last int NOT NULL
);
