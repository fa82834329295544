-- Survivor benefits (trợ cấp tuất): what they need of the contribution
-- record, and the decisions, one per deceased.

-- The loss of working capacity a monthly work-injury benefit is paid for:
-- 61% or more gives the relatives a monthly survivor benefit.
ALTER TABLE insurance.contributions
    ADD COLUMN work_injury_loss_percent int NOT NULL DEFAULT 0
    CHECK (work_injury_loss_percent BETWEEN 0 AND 100);

CREATE TABLE insurance.survivor_benefits (
    case_id            text PRIMARY KEY REFERENCES insurance.cases (case_id),
    -- Decided once per deceased.
    deceased_id_number text NOT NULL UNIQUE,
    death_date         date NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('monthly', 'lump_sum')),
    law                text NOT NULL,
    -- Monthly benefit only: the base salary it is computed from, the total for
    -- every relative paid for, and the first month paid.
    base_salary_vnd    bigint NOT NULL DEFAULT 0,
    monthly_total_vnd  bigint NOT NULL DEFAULT 0,
    monthly_from       date,
    relatives_paid     int NOT NULL DEFAULT 0,
    payment_method     text NOT NULL CHECK (payment_method IN ('bank', 'cash')),
    bank_code          text NOT NULL DEFAULT '',
    bank_account       text NOT NULL DEFAULT '',
    decided_at         timestamptz NOT NULL
);
