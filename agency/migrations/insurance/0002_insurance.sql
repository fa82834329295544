-- Social Insurance (BHXH): contribution records, child cards, funeral
-- allowances and the monthly payments they stop.

CREATE TABLE insurance.contributions (
    id_number           text PRIMARY KEY,
    compulsory_months   int NOT NULL DEFAULT 0,
    voluntary_months    int NOT NULL DEFAULT 0,
    pensioner           boolean NOT NULL DEFAULT false,
    monthly_pension_vnd bigint NOT NULL DEFAULT 0,
    work_injury_benefit boolean NOT NULL DEFAULT false
);

-- Serials for 10-digit social-insurance codes (2-digit province + 8 digits).
CREATE SEQUENCE insurance.si_serial MINVALUE 1 MAXVALUE 99999999;

CREATE TABLE insurance.cards (
    social_insurance_code text PRIMARY KEY CHECK (social_insurance_code ~ '^[0-9]{10}$'),
    card_code     text NOT NULL UNIQUE,
    -- One card per child.
    id_number     text NOT NULL UNIQUE,
    case_id       text NOT NULL UNIQUE REFERENCES insurance.cases (case_id),
    facility_code text NOT NULL,
    valid_from    date NOT NULL,
    valid_to      date NOT NULL,
    issued_at     timestamptz NOT NULL
);

CREATE TABLE insurance.funeral_allowances (
    case_id            text PRIMARY KEY REFERENCES insurance.cases (case_id),
    -- Paid once per deceased.
    deceased_id_number text NOT NULL UNIQUE,
    death_date         date NOT NULL,
    amount_vnd         bigint NOT NULL CHECK (amount_vnd > 0),
    base_salary_vnd    bigint NOT NULL,
    payment_method     text NOT NULL CHECK (payment_method IN ('bank', 'cash')),
    bank_code          text NOT NULL DEFAULT '',
    bank_account       text NOT NULL DEFAULT '',
    settled_at         timestamptz NOT NULL
);

-- A monthly pension or work-injury benefit stops from the month after death.
CREATE TABLE insurance.pension_stops (
    id_number    text PRIMARY KEY,
    stopped_from date NOT NULL,
    case_id      text NOT NULL REFERENCES insurance.cases (case_id),
    recorded_at  timestamptz NOT NULL
);

CREATE TABLE insurance.seed_runs (
    seed      bigint NOT NULL,
    people    int NOT NULL,
    seeded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (seed, people)
);
