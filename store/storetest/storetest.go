// Package storetest gives a test its own database with the engine's schema,
// copied from a template that the migrations make once per server.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/store"
)

// Pool is a fresh database with every engine migration applied, dropped when
// the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewFrom(t, Template(t))
}

// Template is the engine's schema as a pgtest template, keyed by the
// migrations' text, so changing one makes a new template.
func Template(t testing.TB) pgtest.Template {
	t.Helper()
	key, err := migrationsKey()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return pgtest.Template{
		Name: "engine",
		Key:  key,
		Migrate: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := store.Migrate(ctx, pool)
			return err
		},
	}
}

// migrationsKey hashes the migrations once per test process.
var migrationsKey = sync.OnceValues(func() (string, error) {
	ms, err := store.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d %s %d\n%s\n", m.Version, m.Name, len(m.SQL), m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})
