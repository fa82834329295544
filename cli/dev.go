package cli

import (
	"context"
	"os"

	"github.com/lienthong/lienthong/stack"
)

// runDev starts the whole system in one process (stack.RunDev).
func runDev(ctx context.Context, args []string) error {
	cfg, err := loadConfig("dev", args)
	if err != nil {
		return err
	}
	return stack.RunDev(ctx, cfg, os.Stdout, stack.DevOptions{})
}
