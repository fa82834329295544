package cli

import (
	"context"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
)

// workerCmd runs the workflows, activities and notification dispatcher (stack.RunWorker).
type workerCmd struct {
	config.Log
	config.Database
	config.Temporal
	config.TemporalTLSOptions
	config.TLS
	config.Agencies
	config.Notify
	config.Codec
	config.Tokens
	config.Tracing
	config.Worker
}

func (c *workerCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	return stack.RunWorker(ctx, cfg)
}
