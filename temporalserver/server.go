// Package temporalserver runs a Temporal server inside the lienthong process,
// for `lienthong dev` and `lienthong temporal`. It owns the server's
// persistence choice (SQLite file, a scratch SQLite file, or PostgreSQL), the
// optional embedded Web UI. Registering the namespace is package
// temporalserver/namespace's, which links no server. It must not import lienthong's workflows,
// activities or stores: the server knows nothing of dossiers.
package temporalserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"

	"github.com/lienthong/lienthong/internal/freeport"
)

const clusterName = "lienthong"

// Options say where the server listens and what it persists to.
type Options struct {
	// IP the server binds on; loopback unless an operator widens it.
	IP string
	// Port of the frontend gRPC service (7233 by convention).
	Port int
	// UIPort, when non-zero, serves the Temporal Web UI on IP:UIPort.
	UIPort int
	// SQLiteFile persists to that file. Empty with Postgres nil keeps
	// nothing: the server writes to a scratch file it removes when it stops
	// (see sqliteConfig).
	SQLiteFile string
	// Postgres, when set, persists to PostgreSQL instead of SQLite.
	Postgres *PostgresOptions
	// UICodecEndpoint, when set, is the codec endpoint the Web UI decodes
	// payloads through (lienthong's /codec), so histories read as plaintext.
	// The browser calls it, so it must be reachable from where the UI is opened.
	UICodecEndpoint string
	// MetricsPort, when non-zero, serves the server's own Prometheus metrics
	// (task queue backlogs, persistence latency, …) at IP:MetricsPort/metrics.
	MetricsPort int
	// HistoryShards is fixed for the life of a PostgreSQL-backed cluster.
	HistoryShards int32
	// TLS, when set, serves the frontend and the services between
	// themselves over mutual TLS; nil is plaintext.
	TLS    *TLS
	Logger *slog.Logger
}

// TLS is the server's certificate and key, the CA its clients' (and its
// own services') certificates come from, and the name its certificate
// carries that its own services verify it by. The server re-reads the
// files every minute.
type TLS struct {
	CertFile, KeyFile, CAFile string
	ServerName                string
}

// Server is a running embedded Temporal server.
type Server struct {
	server temporal.Server
	ui     *uiserver.Server
	opts   Options
	// scratch is the directory of the scratch SQLite file, removed at Stop.
	scratch string
}

// Start builds and starts the server; it returns once the frontend accepts calls.
func Start(opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Port == 0 {
		return nil, errors.New("temporal server: port is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HistoryShards == 0 {
		opts.HistoryShards = 1
	}
	var scratch string
	if opts.Postgres == nil && opts.SQLiteFile == "" {
		dir, err := os.MkdirTemp("", "lienthong-temporal-")
		if err != nil {
			return nil, fmt.Errorf("creating temporal's scratch directory: %w", err)
		}
		scratch = dir
	}
	started := false
	defer func() {
		if !started && scratch != "" {
			_ = os.RemoveAll(scratch)
		}
	}()
	conf, err := buildConfig(opts, scratch)
	if err != nil {
		return nil, err
	}
	logger := slogLogger{log: opts.Logger.With("component", "temporal")}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("creating authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("creating claim mapper: %w", err)
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.MatchingService, primitives.HistoryService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8192,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 200,
		// Dossier workflows are small; let the single-host server move fast.
		dynamicconfig.FrontendMaxNamespaceRPSPerInstance.Key(): 5000,
		// A single host refreshes cheaply; new search attributes become usable in a second.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): time.Second,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("building temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("starting temporal server: %w", err)
	}
	started = true
	s := &Server{server: srv, opts: opts, scratch: scratch}
	if opts.UIPort != 0 {
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(uiConfig(opts, s.Address())))
		go func() {
			// The UI is a convenience: its failure must not take the engine down.
			if err := s.ui.Start(); err != nil {
				opts.Logger.Warn("temporal web ui stopped", "error", err)
			}
		}()
	}
	return s, nil
}

// uiConfig is the embedded Web UI's configuration. The UI has no sign-in
// here, so it has no access token to pass to the codec endpoint; the
// endpoint instead trusts the UI's own origin under dev (see api.CodecOptions).
func uiConfig(opts Options, frontend string) *uiconfig.Config {
	c := &uiconfig.Config{
		Host:                opts.IP,
		Port:                opts.UIPort,
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}
	c.Codec.Endpoint = opts.UICodecEndpoint
	if t := opts.TLS; t != nil {
		c.TLS = uiconfig.TLS{CaFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, EnableHostVerification: true}
	}
	return c
}

// Address is the frontend's host:port.
func (s *Server) Address() string {
	return net.JoinHostPort(s.opts.IP, strconv.Itoa(s.opts.Port))
}

// UIAddress is the Web UI's URL, or empty when the UI is off. It is also the
// origin the UI's requests to the codec endpoint carry.
func (s *Server) UIAddress() string {
	if s.ui == nil {
		return ""
	}
	return "http://" + net.JoinHostPort(s.opts.IP, strconv.Itoa(s.opts.UIPort))
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	if err := s.server.Stop(); err != nil {
		s.opts.Logger.Warn("stopping temporal server", "error", err)
	}
	if s.scratch != "" {
		if err := os.RemoveAll(s.scratch); err != nil {
			s.opts.Logger.Warn("removing temporal's scratch database", "error", err)
		}
	}
}

// buildConfig is the server's configuration; scratch is the directory of
// the scratch SQLite file when nothing is to be kept.
func buildConfig(opts Options, scratch string) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.NumHistoryShards = opts.HistoryShards
	if opts.MetricsPort != 0 {
		conf.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{
			Framework:     metrics.FrameworkOpentelemetry,
			ListenAddress: net.JoinHostPort(opts.IP, strconv.Itoa(opts.MetricsPort)),
			HandlerPath:   "/metrics",
		}}
	}

	if opts.Postgres != nil {
		stores, err := opts.Postgres.dataStores()
		if err != nil {
			return nil, err
		}
		conf.Persistence.DefaultStore = "default"
		conf.Persistence.VisibilityStore = "visibility"
		conf.Persistence.DataStores = stores
	} else {
		file, synced := opts.SQLiteFile, true
		if file == "" {
			file, synced = filepath.Join(scratch, "temporal.db"), false
		}
		sqlConf, err := sqliteConfig(file, synced)
		if err != nil {
			return nil, err
		}
		conf.Persistence.DefaultStore = "sqlite"
		conf.Persistence.VisibilityStore = "sqlite"
		conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	}

	httpPort, err := freeport.On(opts.IP)
	if err != nil {
		return nil, err
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port)),
				HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(httpPort)),
				// A fixed id: the cluster is this process, restarted on the same data.
				ClusterID: "6c69656e-7468-6f6e-6700-000000000001",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = opts.IP
		if name == "frontend" {
			svc.RPC.GRPCPort = opts.Port
			svc.RPC.HTTPPort = httpPort
		} else {
			p, err := freeport.On(opts.IP)
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))
	if t := opts.TLS; t != nil {
		server := config.ServerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile, ClientCAFiles: []string{t.CAFile}, RequireClientAuth: true}
		client := config.ClientTLS{ServerName: t.ServerName, RootCAFiles: []string{t.CAFile}}
		conf.Global.TLS = config.RootTLS{
			Internode:       config.GroupTLS{Server: server, Client: client},
			Frontend:        config.GroupTLS{Server: server, Client: client},
			SystemWorker:    config.WorkerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile, Client: client},
			RefreshInterval: time.Minute,
		}
	}
	return &conf, nil
}

// sqliteConfig persists to file, in write-ahead-log mode. A synced file
// keeps every commit through a crash; a scratch file, which nothing needs
// to outlive, is never synced.
//
// A scratch file is used rather than SQLite's in-memory database. That one
// keeps its rollback journal in 1 KiB chunks of memory, which the pure-Go
// SQLite's allocator maps on each write transaction and unmaps at its
// commit: in `lienthong bench`, allocating and freeing those chunks took
// 17 % of the whole process's CPU (docs/BENCHMARKS.md). A file in WAL mode
// appends each commit to its log instead.
func sqliteConfig(file string, synced bool) (*config.SQL, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return nil, fmt.Errorf("creating temporal data directory: %w", err)
	}
	sync := "0"
	if synced {
		sync = "2"
	}
	// setup=true creates the schema on first start and is a no-op afterwards,
	// so stopping and restarting dev resumes in-flight dossiers.
	return &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{"mode": "rwc", "setup": "true", "journal_mode": "wal", "synchronous": sync},
		DatabaseName:      file,
	}, nil
}
