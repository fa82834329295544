package cli

import (
	"context"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack/embedded"
)

// temporalCmd runs the embedded Temporal server alone (embedded.Run).
type temporalCmd struct {
	config.Log
	config.Data
	config.Database
	config.Namespace
	config.Embedded
	config.TemporalServer
	config.TLS
}

func (c *temporalCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	return embedded.Run(ctx, cfg)
}
