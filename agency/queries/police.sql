-- name: InsertPerson :execrows
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
-- A number already in use is skipped by the unique key.
INSERT INTO police.persons (id_number, full_name, sex, birth_date, province_code, issued_by_case, created_at)
VALUES (sqlc.arg(id_number), sqlc.arg(full_name), sqlc.arg(sex), sqlc.arg(birth_date)::text::date,
    sqlc.arg(province_code), sqlc.arg(issued_by_case), sqlc.arg(created_at))
ON CONFLICT (id_number) DO NOTHING;

-- name: PersonStanding :one
SELECT resident, deceased, household_id FROM police.persons WHERE id_number = $1;

-- name: HouseholdHeadedBy :one
SELECT household_id FROM police.households WHERE head_id_number = $1 AND commune_code = $2;

-- name: EnterHousehold :exec
UPDATE police.persons SET household_id = $2, commune_code = $3, resident = true, resident_since = $4
WHERE id_number = $1;

-- name: RecordDeath :exec
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
UPDATE police.persons SET resident = false, deceased = true,
    death_date = coalesce(sqlc.narg(death_date)::text::date, death_date)
WHERE id_number = sqlc.arg(id_number);

-- name: Person :one
SELECT id_number, full_name, sex, birth_date, province_code, commune_code, household_id, resident, deceased
FROM police.persons WHERE id_number = $1;
