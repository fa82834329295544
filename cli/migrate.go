package cli

import (
	"context"
	"fmt"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/store"
)

// migrateCmd applies the engine's migrations and each mock's (agencies, SMS
// gateway, mail sink), each to its own schema. Running it twice is a no-op.
type migrateCmd struct {
	config.Log
	config.Database
}

func (c *migrateCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	pool, err := stack.OpenDatabase(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Printf("engine: %d migration(s) applied\n", n)
	for _, name := range append(agency.Servers(), agency.MailSink) {
		n, err := agency.Migrate(ctx, pool, name)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d migration(s) applied\n", name, n)
	}
	return nil
}
