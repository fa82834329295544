// Package embedded runs a Temporal server inside lienthong's own process:
// the one `lienthong dev` starts beside everything else (Temporal, handed to
// stack.RunDev), and `lienthong temporal` on its own (Run). Of lienthong's
// packages only this one and the tests link the Temporal server; the rest
// of the system reaches Temporal through the SDK.
//
// It may import stack and temporalserver; stack must not import it.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/temporalserver"
	"github.com/lienthong/lienthong/temporalserver/namespace"
	"github.com/lienthong/lienthong/workflows"
)

// Temporal starts a dev stack's Temporal server (stack.EmbeddedTemporal).
func Temporal(o stack.EmbeddedOptions) (stack.TemporalServer, error) {
	srv, err := temporalserver.Start(temporalserver.Options{
		IP: o.IP, Port: o.Port, UIPort: o.UIPort, SQLiteFile: o.SQLiteFile,
		Logger: o.Logger, UICodecEndpoint: o.UICodecEndpoint,
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// Run runs the embedded Temporal server on its own, for multi-process
// set-ups: it prepares the persistence, starts the server, registers the
// namespace and search attributes, and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config) error {
	// Start tags the server's own lines; these are the set-up's.
	logger := stack.NewLogger(cfg)
	frontend, selfTLS, err := stack.TemporalServerTLS(cfg, logger)
	if err != nil {
		return err
	}

	opts := temporalserver.Options{
		IP:            cfg.ListenIP,
		Port:          cfg.TemporalPort,
		UIPort:        cfg.TemporalUIPort,
		MetricsPort:   cfg.TemporalMetricsPort,
		HistoryShards: int32(cfg.TemporalShards),
		Logger:        logger,
	}
	if frontend != nil {
		opts.TLS = &temporalserver.TLS{CertFile: frontend.CertFile, KeyFile: frontend.KeyFile, CAFile: frontend.CAFile, ServerName: frontend.ServerName}
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
	if err := namespace.Ensure(nsCtx, address, selfTLS, cfg.TemporalNamespace, workflows.SearchAttributes()); err != nil {
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
