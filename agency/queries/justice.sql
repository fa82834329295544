-- name: ActiveSigningKey :one
SELECT key_id, private_key FROM justice.signing_keys WHERE active;

-- name: InsertSigningKey :exec
-- Another starter may have made one first; the unique index keeps one active key.
INSERT INTO justice.signing_keys (key_id, public_key, private_key, active)
VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING;

-- name: SigningKey :one
SELECT public_key FROM justice.signing_keys WHERE key_id = $1;

-- name: NextExtractRevision :one
SELECT (coalesce(max(revision), 0) + 1)::int AS revision FROM justice.extracts WHERE case_id = $1;

-- name: LatestExtractRevision :one
SELECT coalesce(max(revision), 0)::int AS revision FROM justice.extracts WHERE case_id = $1;

-- name: InsertExtract :exec
INSERT INTO justice.extracts (case_id, revision, payload, signature, key_id, issued_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: LatestExtract :one
SELECT r.book, r.entry::text AS entry, e.payload, e.signature, e.key_id, e.issued_at
FROM justice.extracts e JOIN justice.registrations r USING (case_id)
WHERE e.case_id = $1 ORDER BY e.revision DESC LIMIT 1;

-- name: NextBookEntry :one
INSERT INTO justice.registration_books (book, commune_code, year, kind, last_entry)
VALUES ($1, $2, $3, $4, 1)
ON CONFLICT (book) DO UPDATE SET last_entry = justice.registration_books.last_entry + 1
RETURNING last_entry;

-- name: InsertRegistration :exec
INSERT INTO justice.registrations (case_id, book, entry, registered_at) VALUES ($1, $2, $3, $4);

-- name: RegistrationOf :one
SELECT book, entry, registered_at FROM justice.registrations WHERE case_id = $1;
