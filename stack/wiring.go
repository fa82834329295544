package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/payloadcodec"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/telemetry"
	"github.com/lienthong/lienthong/workflows"
)

// NewTemporalClient dials Temporal with the payload codec, retrying while the
// frontend comes up. With a registry, the SDK's metrics (its own requests,
// and those of every worker built on this client) are exported there, beside
// lienthong's; with tracing, starting a workflow, the workflow and its
// activities join the caller's trace.
func NewTemporalClient(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer, tracing *telemetry.Tracing) (client.Client, error) {
	return newTemporalClient(ctx, cfg, logger, reg, tracing, nil)
}

// NewWorkerClient is NewTemporalClient for a process that runs workers: it
// also keeps the waits of the workflow tasks they take, which the resume
// sweep paces itself by.
func NewWorkerClient(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer, tracing *telemetry.Tracing) (client.Client, *TaskLatency, error) {
	lat := NewTaskLatency()
	c, err := newTemporalClient(ctx, cfg, logger, reg, tracing, lat)
	return c, lat, err
}

func newTemporalClient(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer, tracing *telemetry.Tracing, lat *TaskLatency) (client.Client, error) {
	codec, err := newCodec(cfg)
	if err != nil {
		return nil, err
	}
	tlsConfig, err := temporalTLS(cfg, logger)
	if err != nil {
		return nil, err
	}
	opts := client.Options{
		HostPort:          cfg.TemporalAddress,
		Namespace:         cfg.TemporalNamespace,
		DataConverter:     codec.DataConverter(),
		Logger:            sdklog.NewStructuredLogger(logger.With("component", "temporal-client")),
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig},
	}
	if reg != nil {
		if opts.MetricsHandler, err = sdkMetrics(reg, logger); err != nil {
			return nil, err
		}
	}
	if lat != nil {
		opts.MetricsHandler = lat.watch(opts.MetricsHandler)
	}
	if opts.Interceptors, err = tracing.TemporalInterceptors(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("connecting to temporal at %s (--temporal-address): %w", cfg.TemporalAddress, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// startTracing exports this process's traces over OTLP when --otlp-endpoint
// or the standard OTEL_EXPORTER_OTLP_* variables name an endpoint; otherwise tracing is off
// (nil) and costs nothing. stop flushes what is still buffered.
func startTracing(ctx context.Context, cfg config.Config, service string, logger *slog.Logger) (tracing *telemetry.Tracing, stop func(), err error) {
	tracing, err = telemetry.FromEnv(ctx, service, cfg.OTLPEndpoint, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	if tracing != nil {
		logger.Info("exporting traces over OTLP", "service", service)
	}
	return tracing, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(sctx); err != nil {
			logger.Warn("flushing traces", "error", err)
		}
	}, nil
}

// newCodec is the payload codec of the configured keys: --codec-key
// encrypts, --codec-old-keys still decrypt.
func newCodec(cfg config.Config) (*payloadcodec.Codec, error) {
	codec, err := payloadcodec.New(cfg.CodecKeys()...)
	if err != nil {
		return nil, fmt.Errorf("--codec-key, --codec-old-keys: %w", err)
	}
	return codec, nil
}

// newDispatcher is the worker's notification dispatcher: the outbox in st,
// SMS through the gateway at --sms-addr (mutual TLS, or the engine's agency
// key), e-mail to the relay at --smtp-addr. With a registry it counts its
// sends there. Closing closes its gateway connection.
func newDispatcher(cfg config.Config, tr *Transport, st *store.Store, reg prometheus.Registerer, logger *slog.Logger, tracing *telemetry.Tracing) (*notify.Dispatcher, func(), error) {
	conn, err := tr.DialAgency(cfg.SMSAddr, agency.SMSGateway, cfg.AgencyAPIKey, false, tracing)
	if err != nil {
		return nil, nil, fmt.Errorf("--sms-addr: %w", err)
	}
	d := &notify.Dispatcher{
		Outbox:     st,
		SMS:        agencyv1.NewSmsGatewayServiceClient(conn),
		Mail:       &notify.Mailer{Addr: cfg.SMTPAddr, From: cfg.MailFrom},
		Logger:     logger.With("component", "notify"),
		MaxBackoff: cfg.NotifyMaxBackoff,
	}
	if reg != nil {
		d.Metrics = notify.NewMetrics(reg)
	}
	return d, func() { _ = conn.Close() }, nil
}

// DialAgencies makes the gRPC clients of the four agencies.
func DialAgencies(cfg config.Config, tr *Transport, tracing *telemetry.Tracing) (activities.Agencies, func(), error) {
	var conns []*grpc.ClientConn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}
	dial := func(addr, name string) (*grpc.ClientConn, error) {
		c, err := tr.DialAgency(addr, name, cfg.AgencyAPIKey, false, tracing)
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
		return c, nil
	}
	out := activities.Agencies{Cases: map[string]agencyv1.CaseServiceClient{}}
	for _, a := range []struct {
		name, addr string
	}{{dossier.AgencyJustice, cfg.JusticeAddr}, {dossier.AgencyPolice, cfg.PoliceAddr}, {dossier.AgencyInsurance, cfg.InsuranceAddr}, {dossier.AgencyPortal, cfg.PortalAddr}} {
		conn, err := dial(a.addr, a.name)
		if err != nil {
			closeAll()
			return out, nil, fmt.Errorf("--%s-addr: %w", a.name, err)
		}
		switch a.name {
		case dossier.AgencyJustice:
			out.Justice = agencyv1.NewJusticeServiceClient(conn)
		case dossier.AgencyPolice:
			out.Police = agencyv1.NewPoliceServiceClient(conn)
		case dossier.AgencyInsurance:
			out.Insurance = agencyv1.NewInsuranceServiceClient(conn)
		case dossier.AgencyPortal:
			out.Portal = agencyv1.NewPortalServiceClient(conn)
		}
		if a.name != dossier.AgencyPortal {
			out.Cases[a.name] = agencyv1.NewCaseServiceClient(conn)
		}
	}
	return out, closeAll, nil
}

// dialAllAgencies makes both sets of agency clients: the worker's and the
// API's. Closing closes both.
func dialAllAgencies(cfg config.Config, tr *Transport, tracing *telemetry.Tracing) (activities.Agencies, api.AgencyClients, func(), error) {
	agencies, closeAgencies, err := DialAgencies(cfg, tr, tracing)
	if err != nil {
		return agencies, api.AgencyClients{}, nil, err
	}
	desk, closeDesk, err := apiAgencies(cfg, tr, agencies, tracing)
	if err != nil {
		closeAgencies()
		return agencies, desk, nil, err
	}
	return agencies, desk, func() { closeDesk(); closeAgencies() }, nil
}

// apiAgencies are the agency services the API's desk, extract and
// operations pages call: the engine's case and civil-status clients, and
// each agency's admin service with the admin credential.
func apiAgencies(cfg config.Config, tr *Transport, a activities.Agencies, tracing *telemetry.Tracing) (api.AgencyClients, func(), error) {
	out := api.AgencyClients{Cases: a.Cases, Justice: a.Justice, Admin: map[string]agencyv1.AdminServiceClient{}}
	var conns []*grpc.ClientConn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}
	for name, addr := range map[string]string{
		dossier.AgencyJustice: cfg.JusticeAddr, dossier.AgencyPolice: cfg.PoliceAddr,
		dossier.AgencyInsurance: cfg.InsuranceAddr, dossier.AgencyPortal: cfg.PortalAddr,
		agency.SMSGateway: cfg.SMSAddr,
	} {
		c, err := tr.DialAgency(addr, name, cfg.AgencyAdminKey, true, tracing)
		if err != nil {
			closeAll()
			return out, nil, fmt.Errorf("--%s-addr: %w", name, err)
		}
		conns = append(conns, c)
		out.Admin[name] = agencyv1.NewAdminServiceClient(c)
	}
	return out, closeAll, nil
}

// NewWorkers builds one worker for the dossier workflows and one per agency
// task queue, each agency queue rate-limited so a slow agency never starves
// the others.
func NewWorkers(c client.Client, acts *activities.Activities, rate float64) []worker.Worker {
	wf := worker.New(c, workflows.TaskQueueDossiers, WorkflowWorkerOptions())
	workflows.Register(wf)
	// Local activities (the read-model sync) run in the workflow worker.
	wf.RegisterActivity(acts)
	ws := []worker.Worker{wf}
	for _, q := range []string{workflows.TaskQueueJustice, workflows.TaskQueuePolice, workflows.TaskQueueInsurance, workflows.TaskQueuePortal} {
		w := worker.New(c, q, AgencyWorkerOptions(rate))
		w.RegisterActivity(acts)
		ws = append(ws, w)
	}
	return ws
}

// WorkflowWorkerOptions and AgencyWorkerOptions are the one definition of
// how lienthong's workers are tuned; the benchmark's bare workers use them
// too, so the comparison stays fair.
func WorkflowWorkerOptions() worker.Options { return worker.Options{} }

func AgencyWorkerOptions(rate float64) worker.Options {
	return worker.Options{
		TaskQueueActivitiesPerSecond:       rate,
		MaxConcurrentActivityExecutionSize: 200,
	}
}

func StartWorkers(ws []worker.Worker) error {
	for i, w := range ws {
		if err := w.Start(); err != nil {
			for _, started := range ws[:i] {
				started.Stop()
			}
			return fmt.Errorf("starting worker: %w", err)
		}
	}
	return nil
}

func StopWorkers(ws []worker.Worker) {
	for _, w := range ws {
		w.Stop()
	}
}

// NewRegistry is a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveHealth serves /healthz, /readyz and /metrics until ctx is done,
// over TLS with src unless it is nil.
func serveHealth(ctx context.Context, addr string, reg *prometheus.Registry, src *pki.Source, ready func(context.Context) error) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(rctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	serve := func() error { return srv.Serve(l) }
	if src != nil {
		if srv.TLSConfig, err = src.ServerConfig(tls.NoClientCert, "h2", "http/1.1"); err != nil {
			_ = l.Close()
			return err
		}
		serve = func() error { return srv.ServeTLS(l, "", "") }
	}
	go func() { //nolint:gosec // G118: shutdown must outlive the cancelled context
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// StartPortalFeed publishes the read model to the portal (activities.PortalFeed)
// until the returned stop is called; stop waits for the feed to finish. Every
// worker runs one: they share the feed safely.
func StartPortalFeed(acts *activities.Activities) (stop func()) {
	feed := &activities.PortalFeed{Store: acts.Store, Portal: acts.Agencies.Portal, Metrics: acts.Metrics, Logger: acts.Logger}
	if feed.Logger != nil {
		feed.Logger = feed.Logger.With("component", "portal-feed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = feed.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
