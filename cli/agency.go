package cli

import (
	"context"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
)

// agencyCmd runs mock agencies, the SMS gateway or the mail sink (stack.RunAgency).
type agencyCmd struct {
	config.Log
	config.Database
	config.MockAgency
	config.Agencies
	config.Mail
	config.Decider
	config.Population
	config.Tokens
	config.TLS
	config.Tracing
}

func (c *agencyCmd) Run(ctx context.Context) error {
	cfg := config.From(c)
	return stack.RunAgency(ctx, cfg)
}
