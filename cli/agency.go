package cli

import (
	"context"

	"github.com/lienthong/lienthong/stack"
)

// runAgency runs mock agencies, the SMS gateway or the mail sink (stack.RunAgency).
func runAgency(ctx context.Context, args []string) error {
	cfg, err := loadConfig("agency", args)
	if err != nil {
		return err
	}
	return stack.RunAgency(ctx, cfg)
}
