package cli

import (
	"context"

	"github.com/lienthong/lienthong/stack"
)

// runTemporal runs the embedded Temporal server on its own (stack.RunTemporal).
func runTemporal(ctx context.Context, args []string) error {
	cfg, err := loadConfig("temporal", args)
	if err != nil {
		return err
	}
	return stack.RunTemporal(ctx, cfg)
}
