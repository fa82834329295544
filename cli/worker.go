package cli

import (
	"context"

	"github.com/lienthong/lienthong/stack"
)

// runWorker runs the workflow and activity worker (stack.RunWorker).
func runWorker(ctx context.Context, args []string) error {
	cfg, err := loadConfig("worker", args)
	if err != nil {
		return err
	}
	return stack.RunWorker(ctx, cfg)
}
