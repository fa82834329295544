package cli

import (
	"context"
	"os"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/stack/embedded"
)

// devCmd starts the whole system in one process (stack.RunDev).
type devCmd struct {
	config.Log
	config.Data
	config.Database
	config.Namespace
	config.Embedded
	config.TLS
	config.API
	config.Console
	config.Tracing
	config.Agencies
	config.Notify
	config.Decider
	config.Population
	config.Codec
	config.CodecServer
	config.Tokens
	config.Session
	config.OIDC
	config.Rate
	config.Retry
	config.DevDemo
	config.Drill
}

func (c *devCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	return stack.RunDev(ctx, cfg, os.Stdout, stack.DevOptions{Temporal: embedded.Temporal})
}
