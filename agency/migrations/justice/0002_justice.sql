-- Justice (commune civil status): registration books, registrations, signed
-- certificate extracts and the key that signs them.

CREATE TABLE justice.signing_keys (
    key_id      text PRIMARY KEY,
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    -- The mock keeps its Ed25519 private key here so restarts keep signing with
    -- the same key; a real civil-status office keeps it in an HSM.
    private_key bytea NOT NULL CHECK (length(private_key) = 64),
    active      boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX signing_keys_one_active ON justice.signing_keys (active) WHERE active;

-- One book per commune, year and kind (KS births, KT deaths); entries are its sequence.
CREATE TABLE justice.registration_books (
    book         text PRIMARY KEY,
    commune_code text NOT NULL,
    year         int NOT NULL,
    kind         text NOT NULL,
    last_entry   int NOT NULL
);

CREATE TABLE justice.registrations (
    case_id       text PRIMARY KEY REFERENCES justice.cases (case_id),
    book          text NOT NULL REFERENCES justice.registration_books (book),
    entry         int NOT NULL,
    registered_at timestamptz NOT NULL,
    UNIQUE (book, entry)
);

-- Every issued extract; attaching a late ID number adds a revision.
CREATE TABLE justice.extracts (
    case_id   text NOT NULL REFERENCES justice.registrations (case_id),
    revision  int NOT NULL,
    payload   bytea NOT NULL,
    signature bytea NOT NULL,
    key_id    text NOT NULL REFERENCES justice.signing_keys (key_id),
    issued_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, revision)
);
