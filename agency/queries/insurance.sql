-- name: CardCaseOf :one
SELECT case_id FROM insurance.cards WHERE id_number = $1;

-- name: NextSocialInsuranceSerial :one
SELECT nextval('insurance.si_serial')::bigint;

-- name: InsertCard :exec
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
INSERT INTO insurance.cards (social_insurance_code, card_code, id_number, case_id, facility_code,
    valid_from, valid_to, issued_at)
VALUES (sqlc.arg(social_insurance_code), sqlc.arg(card_code), sqlc.arg(id_number), sqlc.arg(case_id),
    sqlc.arg(facility_code), sqlc.arg(valid_from)::text::date, sqlc.arg(valid_to)::text::date, sqlc.arg(issued_at));

-- name: FuneralCaseOf :one
SELECT case_id FROM insurance.funeral_allowances WHERE deceased_id_number = $1;

-- name: ContributionsOf :one
SELECT compulsory_months, voluntary_months, pensioner, work_injury_benefit, work_injury_loss_percent
FROM insurance.contributions WHERE id_number = $1;

-- name: StopPension :exec
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
INSERT INTO insurance.pension_stops (id_number, stopped_from, case_id, recorded_at)
VALUES (sqlc.arg(id_number), sqlc.arg(stopped_from)::text::date, sqlc.arg(case_id), sqlc.arg(recorded_at))
ON CONFLICT (id_number) DO NOTHING;

-- name: InsertFuneralAllowance :exec
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
INSERT INTO insurance.funeral_allowances (case_id, deceased_id_number, death_date, amount_vnd,
    base_salary_vnd, payment_method, bank_code, bank_account, settled_at)
VALUES (sqlc.arg(case_id), sqlc.arg(deceased_id_number), sqlc.arg(death_date)::text::date, sqlc.arg(amount_vnd),
    sqlc.arg(base_salary_vnd), sqlc.arg(payment_method), sqlc.arg(bank_code), sqlc.arg(bank_account), sqlc.arg(settled_at));

-- name: SurvivorCaseOf :one
SELECT case_id FROM insurance.survivor_benefits WHERE deceased_id_number = $1;

-- name: InsertSurvivorBenefit :exec
-- Dates come as YYYY-MM-DD text, and PostgreSQL reads them.
INSERT INTO insurance.survivor_benefits (case_id, deceased_id_number, death_date, kind, law,
    base_salary_vnd, monthly_total_vnd, monthly_from, relatives_paid, payment_method, bank_code, bank_account, decided_at)
VALUES (sqlc.arg(case_id), sqlc.arg(deceased_id_number), sqlc.arg(death_date)::text::date, sqlc.arg(kind), sqlc.arg(law),
    sqlc.arg(base_salary_vnd), sqlc.arg(monthly_total_vnd), sqlc.narg(monthly_from)::text::date, sqlc.arg(relatives_paid),
    sqlc.arg(payment_method), sqlc.arg(bank_code), sqlc.arg(bank_account), sqlc.arg(decided_at));
