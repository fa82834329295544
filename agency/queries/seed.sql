-- Seeding the population. The rows themselves are copied in by hand
-- (agency/seed.go): COPY into temporary tables, which sqlc cannot describe.

-- name: LockSeeding :exec
-- Serialises seeding across processes starting at once.
SELECT pg_advisory_xact_lock($1);

-- name: PoliceSeeded :one
SELECT EXISTS (SELECT 1 FROM police.seed_runs WHERE seed = $1 AND people = $2);

-- name: PoliceSeedRun :exec
INSERT INTO police.seed_runs (seed, people) VALUES ($1, $2);

-- name: InsuranceSeeded :one
SELECT EXISTS (SELECT 1 FROM insurance.seed_runs WHERE seed = $1 AND people = $2);

-- name: InsuranceSeedRun :exec
INSERT INTO insurance.seed_runs (seed, people) VALUES ($1, $2);
