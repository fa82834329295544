package main

import (
	"context"
	"fmt"

	"github.com/lienthong/lienthong/store"
)

// runMigrate applies the engine's migrations; agencies migrate their own
// schemas when they start. Running it twice is a no-op.
func runMigrate(ctx context.Context, args []string) error {
	cfg, err := loadConfig("migrate", args)
	if err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Printf("engine schema: %d migration(s) applied\n", n)
	return nil
}
