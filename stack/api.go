package stack

import (
	"context"
	"errors"
	"fmt"

	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// RunAPI serves the engine API (gRPC, REST gateway, console, health and
// metrics) against an existing Temporal and PostgreSQL. Keys are never
// generated here: outside dev they must be given.
func RunAPI(ctx context.Context, cfg config.Config) error {
	if err := errors.Join(cfg.RequireSecrets(), cfg.RequireDatabase(), cfg.RequireTransport()); err != nil {
		return err
	}
	logger := NewLogger(cfg)
	signIn, err := oidcOptions(cfg)
	if err != nil {
		return err
	}
	if signIn != nil {
		if err := cfg.RequireOIDC(); err != nil {
			return err
		}
		if cfg.DevTokens {
			logger.Warn("--dev-tokens: people's HS256 tokens are accepted beside the identity provider's; never in production")
		}
	} else {
		logger.Warn("no identity provider is configured (--oidc-issuer): people are trusted by HS256 tokens signed with --token-key, as under dev")
	}
	tr, err := EngineTransport(cfg, logger)
	if err != nil {
		return err
	}
	pool, err := OpenPool(ctx, cfg.DatabaseURL, 20)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.DrillStepDeadline != 0 {
		return errors.New("--drill-step-deadline: only under dev; the api command keeps the legal time limits")
	}
	proxies, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	tracing, stopTracing, err := startTracing(ctx, cfg, "lienthong-api", logger)
	if err != nil {
		return err
	}
	defer stopTracing()
	reg := NewRegistry()
	tc, err := NewTemporalClient(ctx, cfg, logger, reg, tracing)
	if err != nil {
		return err
	}
	defer tc.Close()
	_, desk, closeAgencies, err := dialAllAgencies(cfg, tr, tracing)
	if err != nil {
		return err
	}
	defer closeAgencies()
	var codec *api.CodecOptions
	if cfg.CodecEndpoint {
		c, err := newCodec(cfg)
		if err != nil {
			return err
		}
		codec = &api.CodecOptions{Codec: c, Namespace: cfg.TemporalNamespace, Origins: cfg.CORSOrigins()}
	}
	srv, err := api.New(ctx, api.Options{
		Codec:          codec,
		Tracing:        tracing,
		TraceURL:       cfg.TraceURL,
		TrustedProxies: proxies,
		LookupFloor:    cfg.LookupFloor,
		Retry:          workflows.Timing{RetryMax: cfg.RetryMax, HeldMax: cfg.HeldMax},
		Agencies:       &desk,
		TLS:            tr.engine,
		HTTPTLS:        tr.http,
		SecureCookies:  true,
		Store:          store.New(pool),
		Temporal:       tc,
		Calendar:       calendar.Default(),
		TokenKey:       cfg.TokenKeyBytes(),
		SessionSecret:  cfg.SessionSecretBytes(),
		OIDC:           signIn,
		DevTokens:      cfg.DevTokens,
		GRPCAddr:       cfg.APIGRPCAddr,
		HTTPAddr:       cfg.APIHTTPAddr,
		Logger:         logger.With("component", "api"),
		Registry:       reg,
	})
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}
