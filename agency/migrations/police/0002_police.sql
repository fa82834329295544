-- Police: the population database (persons, households) and residence.

CREATE TABLE police.households (
    household_id   text PRIMARY KEY,
    -- A person heads at most one household.
    head_id_number text NOT NULL UNIQUE,
    province_code  text NOT NULL,
    commune_code   text NOT NULL,
    address        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE police.persons (
    -- Unique: an issue that collides is retried with another serial.
    id_number      text PRIMARY KEY CHECK (id_number ~ '^[0-9]{12}$'),
    full_name      text NOT NULL,
    sex            smallint NOT NULL CHECK (sex IN (1, 2)),
    birth_date     date NOT NULL,
    province_code  text NOT NULL,
    commune_code   text NOT NULL DEFAULT '',
    household_id   text REFERENCES police.households (household_id),
    resident       boolean NOT NULL DEFAULT false,
    resident_since timestamptz,
    deceased       boolean NOT NULL DEFAULT false,
    death_date     date,
    -- The case that issued a newborn's number; empty for seeded people.
    issued_by_case text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_household ON police.persons (household_id);

-- Which seeded populations are loaded, so a restart does not seed again.
CREATE TABLE police.seed_runs (
    seed      bigint NOT NULL,
    people    int NOT NULL,
    seeded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (seed, people)
);
