package stack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/telemetry"
	"google.golang.org/protobuf/types/known/durationpb"
)

// RunAgency runs one mock agency, the SMS gateway or the mail sink, or all of
// them, against lienthong's PostgreSQL.
func RunAgency(ctx context.Context, cfg config.Config) error {
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	logger := NewLogger(cfg)
	names := agency.Servers()
	if cfg.AgencyName != "all" {
		names = []string{cfg.AgencyName}
	}
	// The gRPC servers; the mail sink speaks SMTP and needs no certificate.
	grpcNames := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == agency.MailSink })
	tr := &Transport{}
	if len(grpcNames) > 0 {
		var err error
		if tr, err = agencyTransport(cfg, grpcNames, logger); err != nil {
			return err
		}
	}
	if len(grpcNames) > 0 && tr.plaintext() && cfg.CallbackToken == "" && cfg.TokenKey == "" {
		return errors.New("--callback-token or --token-key: required without TLS, so the agencies can authenticate their pushes to the engine")
	}
	pool, err := OpenPool(ctx, cfg.DatabaseURL, 20)
	if err != nil {
		return err
	}
	defer pool.Close()
	tracing, stopTracing, err := startTracing(ctx, cfg, "lienthong-agency", logger)
	if err != nil {
		return err
	}
	defer stopTracing()
	if cfg.AgencyName == "all" || cfg.AgencyName == agency.MailSink {
		sink, err := startMailSink(ctx, cfg, pool)
		if err != nil {
			return err
		}
		defer sink.Stop()
	}
	var servers []*agency.Server
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	for _, name := range grpcNames {
		srv, err := startAgency(ctx, cfg, name, pool, addrFor(cfg, name), tr, tracing)
		if err != nil {
			return err
		}
		servers = append(servers, srv)
		logger.Info("agency serving", "agency", name, "addr", srv.Addr())
	}
	reg := NewRegistry()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveHealth(gctx, cfg.AgencyHTTPAddr, reg, tr.health(), func(ctx context.Context) error { return pool.Ping(ctx) })
	})
	return g.Wait()
}

// startAgency starts one agency with its certificate from tr, or else the
// configured API keys and the token it presents when pushing to the engine,
// and its decision mode.
func startAgency(ctx context.Context, cfg config.Config, name string, pool *pgxpool.Pool, addr string, tr *Transport, tracing *telemetry.Tracing) (*agency.Server, error) {
	keys := map[string]string{cfg.AgencyAPIKey: "engine", cfg.AgencyAdminKey: agency.AdminClient}
	var tlsSource *pki.Source
	if !tr.plaintext() {
		if tlsSource = tr.agencies[name]; tlsSource == nil {
			return nil, fmt.Errorf("starting agency %s: no certificate for it", name)
		}
		// Over TLS the certificate names the engine; the admin key stays,
		// for the mocks' AdminService.
		keys = map[string]string{cfg.AgencyAdminKey: agency.AdminClient}
	}
	token := cfg.CallbackToken
	if token == "" && tlsSource == nil {
		var err error
		token, err = auth.Issue(cfg.TokenKeyBytes(), auth.Claims{Subject: "agency-" + name, Role: auth.RoleAgency, Agency: name}, 10*365*24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("issuing %s callback token: %w", name, err)
		}
	}
	mode := agencyv1.DecisionMode_DECISION_MODE_AUTO
	if cfg.AgencyMode == "manual" {
		mode = agencyv1.DecisionMode_DECISION_MODE_MANUAL
	}
	srv, err := agency.Start(ctx, agency.Options{
		Name:          name,
		ListenAddr:    addr,
		Pool:          pool,
		APIKeys:       keys,
		TLS:           tlsSource,
		CallbackAddr:  cfg.CallbackAddr,
		CallbackToken: token,
		Mode:          mode,
		Auto: &agencyv1.AutoDecider{
			MinDelay: durationpb.New(cfg.AgencyMinDelay),
			MaxDelay: durationpb.New(cfg.AgencyMaxDelay),
		},
		Seed:       cfg.AgencySeed,
		SeedPeople: cfg.SeedPeople,
		Logger:     NewLogger(cfg).With("component", "agency"),
		Tracing:    tracing,
	})
	if err != nil {
		return nil, fmt.Errorf("starting agency %s on %s: %w", name, addr, err)
	}
	return srv, nil
}

// startMailSink serves the mock mail relay on --smtp-addr.
func startMailSink(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) (*agency.MailServer, error) {
	sink, err := agency.StartMailSink(ctx, agency.MailSinkOptions{ListenAddr: cfg.SMTPAddr, Pool: pool,
		Domain: "mail.lienthong.local", Logger: NewLogger(cfg).With("component", "agency")})
	if err != nil {
		return nil, fmt.Errorf("starting the mail sink on %s (--smtp-addr): %w", cfg.SMTPAddr, err)
	}
	return sink, nil
}

// waitHTTP polls url with c until it answers 200.
func waitHTTP(ctx context.Context, c *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s answered %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready within %s: %w", timeout, last)
}
