package agency

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

// schemaToken stands for the agency's schema in the shared case-desk migrations.
const schemaToken = "${schema}"

// Migrate applies the named agency's (or mock's: SMSGateway, MailSink)
// migrations to its schema (named after it) and returns how many it applied.
// Start calls it; `lienthong migrate` may call it ahead of time.
func Migrate(ctx context.Context, pool *pgxpool.Pool, name string) (int, error) {
	ms, err := migrations(name)
	if err != nil {
		return 0, err
	}
	return migrate.Apply(ctx, pool, name, ms)
}

// migrations returns the agency's migrations: the shared case desk first
// (except for the servers that keep no cases), then its own.
func migrations(name string) ([]migrate.Migration, error) {
	if !slices.Contains(Servers(), name) && name != MailSink {
		return nil, fmt.Errorf("loading migrations: unknown agency %q", name)
	}
	var out []migrate.Migration
	if keepsCases(name) {
		common, err := migrate.Load(migrationFiles, "migrations/common")
		if err != nil {
			return nil, err
		}
		for _, m := range common {
			m.SQL = strings.ReplaceAll(m.SQL, schemaToken, name)
			out = append(out, m)
		}
	}
	own, err := migrate.Load(migrationFiles, "migrations/"+name)
	if err != nil {
		return nil, err
	}
	for _, m := range own {
		if slices.ContainsFunc(out, func(o migrate.Migration) bool { return o.Version == m.Version }) {
			return nil, fmt.Errorf("loading migrations: %s reuses version %d", m.Name, m.Version)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b migrate.Migration) int { return a.Version - b.Version })
	return out, nil
}
