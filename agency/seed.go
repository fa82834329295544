package agency

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/dossier"
)

// seedLock serialises seeding across processes starting at once.
const seedLock = int64(0x6c74_7365_6564) // "ltseed"

// seedPolice loads the population's people and households, once per seed
// and size. Rows already present (from another seed) are kept.
func seedPolice(ctx context.Context, pool *pgxpool.Pool, seed int64, n int, log *slog.Logger) error {
	if n == 0 {
		return nil
	}
	return seedOnce(ctx, pool, "police", seed, n, log, func(ctx context.Context, tx pgx.Tx, pop *population.Population) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_households (LIKE police.households INCLUDING DEFAULTS) ON COMMIT DROP;
			CREATE TEMP TABLE seed_persons (LIKE police.persons INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		households := pop.Households()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_households"},
			[]string{"household_id", "head_id_number", "province_code", "commune_code", "address"},
			pgx.CopyFromSlice(len(households), func(i int) ([]any, error) {
				h := households[i]
				return []any{h.ID, h.HeadIDNumber, h.Province, h.CommuneCode, h.Address}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_persons"},
			[]string{"id_number", "full_name", "sex", "birth_date", "province_code", "commune_code", "household_id", "resident"},
			pgx.CopyFromSlice(pop.Len(), func(i int) ([]any, error) {
				p := pop.People[i]
				return []any{p.IDNumber, p.FullName, int16(p.Sex), p.BirthDate.Format(time.DateOnly), p.Province, p.CommuneCode, p.HouseholdID, p.Resident}, nil
			})); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO police.households SELECT * FROM seed_households ON CONFLICT DO NOTHING;
			INSERT INTO police.persons SELECT * FROM seed_persons ON CONFLICT DO NOTHING`)
		return err
	})
}

// seedInsurance loads the population's contribution records, once per seed and size.
func seedInsurance(ctx context.Context, pool *pgxpool.Pool, seed int64, n int, log *slog.Logger) error {
	if n == 0 {
		return nil
	}
	return seedOnce(ctx, pool, "insurance", seed, n, log, func(ctx context.Context, tx pgx.Tx, pop *population.Population) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_contributions (LIKE insurance.contributions INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		var rows [][]any
		for _, p := range pop.People {
			if p.CompulsoryMonths == 0 && p.VoluntaryMonths == 0 && !p.Pensioner && !p.WorkInjuryBenefit {
				continue
			}
			rows = append(rows, []any{p.IDNumber, p.CompulsoryMonths, p.VoluntaryMonths, p.Pensioner, p.MonthlyPensionVND,
				p.WorkInjuryBenefit, p.WorkInjuryLossPercent})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_contributions"},
			[]string{"id_number", "compulsory_months", "voluntary_months", "pensioner", "monthly_pension_vnd", "work_injury_benefit",
				"work_injury_loss_percent"},
			pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO insurance.contributions SELECT * FROM seed_contributions ON CONFLICT DO NOTHING`)
		return err
	})
}

// seedOnce runs load in one transaction unless the schema (police or
// insurance) already holds the population of this seed and size. The loads
// copy rows through temporary tables by hand: sqlc cannot describe them.
func seedOnce(ctx context.Context, pool *pgxpool.Pool, schema string, seed int64, n int, log *slog.Logger,
	load func(ctx context.Context, tx pgx.Tx, pop *population.Population) error) error {
	start := time.Now()
	seeded := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := agencydb.New(tx)
		if err := q.LockSeeding(ctx, seedLock); err != nil {
			return err
		}
		run := agencydb.PoliceSeededParams{Seed: seed, People: int32(n)}
		var done bool
		var err error
		if schema == dossier.AgencyInsurance {
			done, err = q.InsuranceSeeded(ctx, agencydb.InsuranceSeededParams(run))
		} else {
			done, err = q.PoliceSeeded(ctx, run)
		}
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := load(ctx, tx, population.Generate(seed, n)); err != nil {
			return err
		}
		seeded = true
		if schema == dossier.AgencyInsurance {
			return q.InsuranceSeedRun(ctx, agencydb.InsuranceSeedRunParams(run))
		}
		return q.PoliceSeedRun(ctx, agencydb.PoliceSeedRunParams(run))
	})
	if err != nil {
		return fmt.Errorf("seeding %s: %w", schema, err)
	}
	if seeded {
		log.Info("seeded population", "seed", seed, "people", n, "ms", time.Since(start).Milliseconds())
	}
	return nil
}
