package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
	"github.com/lienthong/lienthong/temporalserver"
	"github.com/lienthong/lienthong/workflows"
)

// RunTemporal runs the embedded Temporal server on its own, for multi-process
// set-ups: it prepares the persistence, starts the server, registers the
// namespace and search attributes, and serves until ctx ends.
func RunTemporal(ctx context.Context, cfg config.Config) error {
	// Start tags the server's own lines; these are the set-up's.
	logger := NewLogger(cfg)
	serverTLS, selfTLS, err := temporalServerTLS(cfg, logger)
	if err != nil {
		return err
	}

	opts := temporalserver.Options{
		IP:            cfg.ListenIP,
		Port:          cfg.TemporalPort,
		UIPort:        cfg.TemporalUIPort,
		MetricsPort:   cfg.TemporalMetricsPort,
		HistoryShards: int32(cfg.TemporalShards),
		TLS:           serverTLS,
		Logger:        logger,
	}
	db := cfg.TemporalDB
	if cfg.Ephemeral {
		db = "memory"
	}
	switch db {
	case "sqlite":
		opts.SQLiteFile = filepath.Join(cfg.DataDir, "temporal.db")
	case "memory":
	case "postgres":
		pg, err := temporalPostgres(cfg)
		if err != nil {
			return err
		}
		setupCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := temporalserver.SetupPostgres(setupCtx, pg, logger.With("component", "temporal-schema")); err != nil {
			return err
		}
		if err := temporalserver.CheckHistoryShards(setupCtx, pg, opts.HistoryShards); err != nil {
			return err
		}
		opts.Postgres = &pg
	}

	srv, err := temporalserver.Start(opts)
	if err != nil {
		return err
	}
	defer srv.Stop()

	address := dialAddress(cfg.ListenIP, cfg.TemporalPort)
	nsCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := temporalserver.EnsureNamespaceTLS(nsCtx, address, selfTLS, cfg.TemporalNamespace, workflows.SearchAttributes()); err != nil {
		return err
	}

	fmt.Printf("temporal server (%s persistence) listening on %s, namespace %s\n", db, srv.Address(), cfg.TemporalNamespace)
	if ui := srv.UIAddress(); ui != "" {
		fmt.Printf("temporal web ui on %s\n", ui)
	}
	if cfg.TemporalMetricsPort != 0 {
		fmt.Printf("temporal server metrics on http://%s/metrics\n", dialAddress(cfg.ListenIP, cfg.TemporalMetricsPort))
	}
	<-ctx.Done()
	logger.Info("stopping temporal server", "component", "temporal")
	return nil
}

// temporalServerTLS is the frontend's mutual TLS, from --tls-cert-file (a
// certificate naming lienthong://temporal), --tls-key-file and
// --tls-ca-file, the CA its clients' certificates come from; and how this
// process reaches its own frontend. Its services verify each other by the
// certificate's first DNS name (or IP address). Both are nil under
// --insecure-plaintext.
func temporalServerTLS(cfg config.Config, logger *slog.Logger) (*temporalserver.TLS, *tls.Config, error) {
	if cfg.InsecurePlaintext {
		warnPlaintext(logger)
		return nil, nil, nil
	}
	if err := cfg.RequireTransport(); err != nil {
		return nil, nil, err
	}
	src, err := loadSource(cfg, cfg.TLSCertFile, cfg.TLSKeyFile, pki.Temporal(), logger)
	if err != nil {
		return nil, nil, err
	}
	leaf := src.Leaf()
	var name string
	switch {
	case len(leaf.DNSNames) > 0:
		name = leaf.DNSNames[0]
	case len(leaf.IPAddresses) > 0:
		name = leaf.IPAddresses[0].String()
	default:
		return nil, nil, fmt.Errorf("--tls-cert-file %s: the certificate names no DNS name or IP address to be reached by", cfg.TLSCertFile)
	}
	self, err := src.ClientConfig(name, pki.Temporal())
	if err != nil {
		return nil, nil, err
	}
	return &temporalserver.TLS{CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, CAFile: cfg.TLSCAFile, ServerName: name}, self, nil
}

// temporalPostgres reads the server, credentials and connection parameters
// from --temporal-db-url, or else --database-url. The URL's database name is
// ignored: Temporal gets its own two databases, named by --temporal-db-name
// and --temporal-visibility-db-name.
func temporalPostgres(cfg config.Config) (temporalserver.PostgresOptions, error) {
	flagName, raw := "temporal-db-url", cfg.TemporalDBURL
	if raw == "" {
		flagName, raw = "database-url", cfg.DatabaseURL
	}
	if raw == "" {
		return temporalserver.PostgresOptions{}, errors.New("--db postgres: needs --temporal-db-url (LIENTHONG_TEMPORAL_DB_URL) or --database-url (DATABASE_URL)")
	}
	pg, err := temporalserver.PostgresOptionsFromURL(raw)
	if err != nil {
		return pg, fmt.Errorf("--%s: %w", flagName, err)
	}
	pg.Database, pg.VisibilityDatabase = cfg.TemporalDBName, cfg.TemporalVisibilityDBName
	return pg, nil
}

// dialAddress is where a process on this host reaches a server bound on ip:
// a wildcard bind is reached through loopback.
func dialAddress(ip string, port int) string {
	if parsed := net.ParseIP(ip); parsed == nil || parsed.IsUnspecified() {
		ip = "127.0.0.1"
	}
	return net.JoinHostPort(ip, strconv.Itoa(port))
}
