package cli

import (
	"context"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
)

// apiCmd serves the engine API (stack.RunAPI).
type apiCmd struct {
	config.Log
	config.Database
	config.Temporal
	config.TemporalTLSOptions
	config.TLS
	config.HTTPTLS
	config.API
	config.Console
	config.Tracing
	config.Agencies
	config.Codec
	config.CodecServer
	config.Tokens
	config.Session
	config.OIDC
	config.Retry
}

func (c *apiCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	return stack.RunAPI(ctx, cfg)
}
