package cli

import (
	"context"

	"github.com/lienthong/lienthong/stack"
)

// runAPI serves the engine API (stack.RunAPI).
func runAPI(ctx context.Context, args []string) error {
	cfg, err := loadConfig("api", args)
	if err != nil {
		return err
	}
	return stack.RunAPI(ctx, cfg)
}
