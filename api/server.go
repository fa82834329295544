// Package api is the engine's front door: the clerk, agency callback,
// supervisor and citizen services over gRPC, the same services as REST/JSON
// through the generated gateway, the OpenAPI document, the web console,
// health, readiness and metrics. It validates input, enforces each role's
// scope, records who read personal data, stores submissions and starts,
// signals and updates the dossier workflows; the workflows do the rest.
//
// It may import store, workflows (names and inputs), auth, console, notify,
// civil, calendar, dossier, pki and telemetry; nothing imports it but cmd.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/console"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/pki"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/telemetry"
	"github.com/lienthong/lienthong/workflows"
)

// openAPI is the generated OpenAPI document, a copy of
// docs/openapi/lienthong.swagger.json kept equal by a test.
//
//go:embed openapi.json
var openAPI []byte

// Options are what the API server needs; New wires nothing else.
type Options struct {
	Store *store.Store
	// Temporal is already configured with the payload codec.
	Temporal client.Client
	// Calendar counts working days; nil means calendar.Default().
	Calendar *calendar.Calendar
	// TokenKey verifies lienthong's own bearer tokens (HMAC-SHA256, at least
	// 32 bytes): every role's without OIDC (dev), and with it only the
	// agencies' systems' unless DevTokens.
	TokenKey []byte
	// SessionSecret keys the console's CSRF tokens and sealed cookies (at
	// least 32 bytes); every replica must have the same. Nil derives it from
	// TokenKey, for dev stacks and tests only.
	SessionSecret []byte
	// OIDC signs people in through an OpenID Connect provider and accepts
	// its tokens; nil accepts lienthong's HS256 tokens only.
	OIDC *OIDCOptions
	// DevTokens, with OIDC, still accepts people's HS256 tokens (dev and
	// test clusters).
	DevTokens bool
	// GRPCAddr and HTTPAddr are listen addresses; port 0 picks a free one.
	GRPCAddr string
	HTTPAddr string
	Logger   *slog.Logger
	// Registry receives the API's metrics; nil makes a new one with the Go
	// and process collectors.
	Registry *prometheus.Registry
	// DevSamples (group -> submit request JSON) prefill the console in dev; nil elsewhere.
	DevSamples map[string]json.RawMessage
	// DemoUsers are offered on the console's sign-in page; nil outside dev,
	// where people sign in through the identity provider.
	DemoUsers []DemoUser
	// SecureCookies marks the session cookie Secure: set it whenever the
	// console is served over HTTPS (always, outside dev).
	SecureCookies bool
	// Agencies are the agencies' services, for the desk, extracts and
	// operations; a dev stack may give them later with UseAgencies.
	Agencies *AgencyClients
	// Codec, when set, serves the codec endpoint at CodecPath.
	Codec *CodecOptions
	// Tracing traces the gRPC services and the REST gateway; nil is off.
	Tracing *telemetry.Tracing
	// TraceURL links a dossier's trace in the tracing UI, with {trace_id}
	// standing for its id; empty shows the id alone.
	TraceURL string
	// DrillStepDeadline, set only by dev, makes every step of new dossiers
	// due this long after it is sent (workflows.Limits.DrillStepDeadline).
	DrillStepDeadline time.Duration
	// Retry shapes the backoff of new dossiers' failed calls
	// (workflows.Timing's RetryMax and HeldMax); zero fields keep the
	// workflows' defaults.
	Retry workflows.Timing
	// TLS, when set, is the engine's certificate, key and CA: the gRPC
	// listener serves TLS only, verifies client certificates that callers
	// present, and the agency callback takes nothing but an agency's
	// certificate (people's tools and the gateway still bring tokens).
	// Nil serves plaintext (dev only).
	TLS *pki.Source
	// HTTPTLS, when set, serves the HTTP listener (console, REST, health,
	// metrics) over TLS with its certificate; nil serves plain HTTP.
	HTTPTLS *pki.Source
	// TrustedProxies are the load balancers in front of the REST gateway:
	// a request from one of them is attributed to the address it forwarded
	// (X-Forwarded-For), for the citizen look-up's throttle.
	TrustedProxies []netip.Prefix
	// LookupFloor is the least time the citizen look-up takes to answer
	// anything but the dossier; zero answers as fast as it can (tests).
	// lienthong api and dev set it from --lookup-floor.
	LookupFloor time.Duration
}

// Intervals of the background loops.
const (
	sweepEvery   = 30 * time.Second
	refreshEvery = 30 * time.Second
	// unstartedAge is how old a dossier without a workflow must be before the
	// sweeper starts it, so it never races the submission that is starting it.
	unstartedAge = time.Minute
	sweepBatch   = 100
	// contactRetention is how long an ended dossier keeps the applicant's
	// phone and e-mail for notifications (docs/domain.md, "Notifications").
	contactRetention = 30 * 24 * time.Hour
	maxRequestBody   = 1 << 20
)

// Server serves the engine API.
type Server struct {
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	cal      *calendar.Calendar
	key      []byte
	tokens   auth.Tokens
	keys     sessionKeys
	oidc     *oidcClient
	now      func() time.Time
	metrics  *metrics
	agencies atomic.Pointer[AgencyClients]

	demoUsers         []DemoUser
	secureCookies     bool
	traceURL          string
	drillStepDeadline time.Duration
	retry             workflows.Timing
	trustedProxies    []netip.Prefix
	lookupFloor       time.Duration
	// gatewayKey marks the REST gateway's own calls, so that only they may
	// name the client they serve.
	gatewayKey string
	// Intervals and timeouts; tests shorten or stretch them.
	sweepEvery, refreshEvery, startTimeout time.Duration
	// calendarWarned is the day each missing calendar year was last logged:
	// refreshLoop, its only user, logs each once a day.
	calendarWarned map[int]string

	// starts queues workflow starts after the submission's commit
	// (starter.go); nil while the server is not serving.
	startsMu sync.RWMutex
	starts   chan pendingStart

	grpcLis net.Listener
	httpLis net.Listener
	grpc    *grpc.Server
	health  *health.Server
	http    *http.Server
	gwConn  *grpc.ClientConn
}

// New builds the server and listens on both addresses at once, so addresses
// with port 0 resolve before Serve.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Store == nil || opts.Temporal == nil {
		return nil, errors.New("api: Store and Temporal are required")
	}
	if len(opts.TokenKey) < auth.MinKeyLength {
		return nil, fmt.Errorf("api: the token key must be at least %d bytes", auth.MinKeyLength)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Calendar == nil {
		opts.Calendar = calendar.Default()
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{
		log:      opts.Logger,
		store:    opts.Store,
		temporal: opts.Temporal,
		cal:      opts.Calendar,
		key:      opts.TokenKey,
		now:      time.Now,

		demoUsers:         opts.DemoUsers,
		secureCookies:     opts.SecureCookies,
		traceURL:          opts.TraceURL,
		drillStepDeadline: opts.DrillStepDeadline,
		retry:             opts.Retry,
		trustedProxies:    opts.TrustedProxies,
		lookupFloor:       opts.LookupFloor,
		gatewayKey:        rand.Text(),

		sweepEvery:   sweepEvery,
		refreshEvery: refreshEvery,
		startTimeout: startTimeout,

		calendarWarned: map[int]string{},
	}
	if err := s.setUpSessions(opts); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if opts.Agencies != nil {
		s.UseAgencies(*opts.Agencies)
	}

	var lc net.ListenConfig
	s.grpcLis, err = lc.Listen(ctx, "tcp", opts.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("api: listening for gRPC on %s: %w", opts.GRPCAddr, err)
	}
	s.httpLis, err = lc.Listen(ctx, "tcp", opts.HTTPAddr)
	if err != nil {
		_ = s.grpcLis.Close()
		return nil, fmt.Errorf("api: listening for HTTP on %s: %w", opts.HTTPAddr, err)
	}

	serverOpts, gatewayCreds, err := transport(opts)
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.grpc = grpc.NewServer(append(serverOpts,
		grpc.MaxRecvMsgSize(maxRequestBody),
		grpc.ChainUnaryInterceptor(
			s.metrics.interceptor(),
			recoveryInterceptor(s.log),
			errorInterceptor(s.log),
			// Agencies by their certificates, everyone else by token.
			auth.CertificateInterceptor(auth.EnginePolicy(), opts.TLS != nil,
				auth.UnaryInterceptor(s.tokens, auth.EnginePolicy())),
		))...,
	)
	enginev1.RegisterClerkServiceServer(s.grpc, &clerkService{s: s})
	enginev1.RegisterAgencyCallbackServiceServer(s.grpc, &callbackService{s: s})
	enginev1.RegisterSupervisorServiceServer(s.grpc, &supervisorService{s: s})
	enginev1.RegisterCitizenServiceServer(s.grpc, &citizenService{s: s})
	enginev1.RegisterReferenceServiceServer(s.grpc, referenceService{})
	enginev1.RegisterSessionServiceServer(s.grpc, &sessionService{s: s})
	enginev1.RegisterDeskServiceServer(s.grpc, &deskService{s: s})
	enginev1.RegisterOperationsServiceServer(s.grpc, &operationsService{s: s})
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	// The gateway calls the gRPC server like any client, so REST requests
	// pass the same interceptors: authentication, errors, metrics.
	s.gwConn, err = grpc.NewClient(dialTarget(s.grpcLis.Addr()),
		append(opts.Tracing.DialOptions(), grpc.WithTransportCredentials(gatewayCreds))...)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("api: connecting the gateway: %w", err)
	}
	gw := runtime.NewServeMux(runtime.WithForwardResponseOption(s.forwardSession),
		runtime.WithMetadata(s.forwardClient))
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		enginev1.RegisterClerkServiceHandler,
		enginev1.RegisterAgencyCallbackServiceHandler,
		enginev1.RegisterSupervisorServiceHandler,
		enginev1.RegisterCitizenServiceHandler,
		enginev1.RegisterReferenceServiceHandler,
		enginev1.RegisterSessionServiceHandler,
		enginev1.RegisterDeskServiceHandler,
		enginev1.RegisterOperationsServiceHandler,
	} {
		if err := register(ctx, gw, s.gwConn); err != nil {
			s.closeListeners()
			_ = s.gwConn.Close()
			return nil, fmt.Errorf("api: registering the gateway: %w", err)
		}
	}

	mux := http.NewServeMux()
	if s.oidc != nil {
		mux.HandleFunc("GET "+OIDCStartPath, s.serveOIDCStart)
		mux.HandleFunc("GET "+OIDCCallbackPath, s.serveOIDCCallback)
	}
	mux.Handle("/v1/", http.MaxBytesHandler(s.withSession(opts.Tracing.HTTP(gw, "rest")), maxRequestBody))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	if opts.Codec != nil {
		mux.Handle(CodecPath+"/", s.codecHandler(*opts.Codec))
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	mux.Handle("/", console.Handler(console.Options{DevSamples: opts.DevSamples}))
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if opts.HTTPTLS != nil {
		if s.http.TLSConfig, err = opts.HTTPTLS.ServerConfig(tls.NoClientCert, "h2", "http/1.1"); err != nil {
			s.closeListeners()
			_ = s.gwConn.Close()
			return nil, fmt.Errorf("api: the HTTP listener's TLS: %w", err)
		}
	}
	return s, nil
}

// setUpSessions chooses how callers are verified and keys the console's
// sessions.
func (s *Server) setUpSessions(opts Options) error {
	s.tokens = auth.Tokens{Key: opts.TokenKey}
	secret := opts.SessionSecret
	if secret == nil {
		secret = opts.TokenKey
	} else if len(secret) < auth.MinKeyLength {
		return fmt.Errorf("api: the session secret must be at least %d bytes", auth.MinKeyLength)
	}
	keys, err := newSessionKeys(secret)
	if err != nil {
		return fmt.Errorf("api: keying sessions: %w", err)
	}
	s.keys = keys
	if opts.OIDC == nil {
		return nil
	}
	if opts.SessionSecret == nil || bytes.Equal(opts.SessionSecret, opts.TokenKey) {
		return errors.New("api: with OIDC, a session secret of its own is required, not the token key")
	}
	if s.oidc, err = newOIDCClient(*opts.OIDC); err != nil {
		return err
	}
	// Agencies' systems push with lienthong's HS256 callback token; people
	// sign in through the provider, unless this is a dev or test cluster.
	s.tokens = auth.Tokens{OIDC: opts.OIDC.Tokens, Key: opts.TokenKey, HS256Roles: []auth.Role{auth.RoleAgency}, DevTokens: opts.DevTokens}
	return nil
}

// transport is how the gRPC listener is served and how the gateway reaches
// it: TLS with the engine's certificate, which the gateway pins, or
// plaintext.
func transport(opts Options) ([]grpc.ServerOption, credentials.TransportCredentials, error) {
	serverOpts := opts.Tracing.ServerOptions()
	if opts.TLS == nil {
		return serverOpts, insecure.NewCredentials(), nil
	}
	if got := opts.TLS.Identity(); got != pki.Engine() {
		return nil, nil, fmt.Errorf("api: the TLS certificate %s names %q, not %s", opts.TLS.Files().Cert, got.String(), pki.Engine().URI())
	}
	// People's tools connect without a certificate and bring a token;
	// agencies present theirs, and the callback wants it.
	cfg, err := opts.TLS.ServerConfig(tls.VerifyClientCertIfGiven, "h2")
	if err != nil {
		return nil, nil, fmt.Errorf("api: %w", err)
	}
	return append(serverOpts, grpc.Creds(credentials.NewTLS(cfg))), credentials.NewTLS(opts.TLS.SelfClientConfig()), nil
}

func (s *Server) closeListeners() {
	_ = s.grpcLis.Close()
	_ = s.httpLis.Close()
}

// dialTarget is how this process reaches its own listener: a wildcard bind
// is reached through loopback.
func dialTarget(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// GRPCAddr is the gRPC listener's address.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the HTTP listener's address (REST, console, health, metrics).
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// Serve serves until ctx is done, then stops gracefully: the HTTP server and
// gRPC server finish the requests in flight.
func (s *Server) Serve(ctx context.Context) error {
	started := s.runStarters()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := s.grpc.Serve(s.grpcLis); err != nil {
			return fmt.Errorf("serving gRPC: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		serve := func() error { return s.http.Serve(s.httpLis) }
		if s.http.TLSConfig != nil {
			serve = func() error { return s.http.ServeTLS(s.httpLis, "", "") }
		}
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving HTTP: %w", err)
		}
		return nil
	})
	g.Go(func() error { s.sweepLoop(gctx); return nil })
	g.Go(func() error { s.refreshLoop(gctx); return nil })
	g.Go(func() error {
		<-gctx.Done()
		s.shutdown()
		s.closeStarts()
		started.Wait()
		return nil
	})
	s.log.Info("engine api serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr())
	return g.Wait()
}

func (s *Server) shutdown() {
	s.health.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("stopping HTTP server", "error", err)
		_ = s.http.Close()
	}
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
	_ = s.gwConn.Close()
	s.log.Info("engine api stopped")
}

// sweepLoop starts workflows that a submission stored but could not start
// (Temporal was down, or the process died in between).
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	if n, err := s.store.PurgeContacts(ctx, s.now().Add(-contactRetention), sweepBatch); err != nil {
		s.log.Warn("sweeper: purging notification contacts", "error", err)
	} else if n > 0 {
		s.log.Info("sweeper: forgot the contacts of ended dossiers", "dossiers", n)
	}
	if n, err := s.store.PruneThrottle(ctx, s.now(), lookupPairPolicy.Window, lookupThrottleRows); err != nil {
		s.log.Warn("sweeper: pruning the look-up throttle", "error", err)
	} else if n > 0 {
		s.log.Debug("sweeper: pruned the look-up throttle", "rows", n)
	}
	codes, err := s.store.UnstartedDossiers(ctx, unstartedAge, sweepBatch)
	if err != nil {
		s.log.Warn("sweeper: listing unstarted dossiers", "error", err)
		return
	}
	for _, code := range codes {
		snap, err := s.store.Dossier(ctx, code)
		if err == nil {
			err = s.ensureWorkflow(ctx, snap)
		}
		if err != nil {
			s.log.WarnContext(ctx, "sweeper: starting workflow", "dossier_id", code, "error", err)
			continue
		}
		s.metrics.swept.Inc()
		s.log.InfoContext(ctx, "sweeper: started workflow", "dossier_id", code)
	}
}

// refreshLoop keeps the read-model gauges current.
func (s *Server) refreshLoop(ctx context.Context) {
	s.refreshGauges(ctx)
	t := time.NewTicker(s.refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.refreshGauges(ctx)
		}
	}
}

func (s *Server) refreshGauges(ctx context.Context) {
	now := s.now()
	s.logCalendarWarnings(now)
	if n, err := s.store.CountOverdue(ctx, now); err == nil {
		s.metrics.overdue.Set(float64(n))
	} else if ctx.Err() == nil {
		s.log.Warn("refreshing overdue gauge", "error", err)
	}
	if n, err := s.store.CountStuckSteps(ctx, defaultStuckFilter(now)); err == nil {
		s.metrics.stuck.Set(float64(n))
	} else if ctx.Err() == nil {
		s.log.Warn("refreshing stuck gauge", "error", err)
	}
	for _, r := range stuckRuleLabels {
		f := defaultStuckFilter(now)
		f.Rules = r.rules
		if n, err := s.store.CountStuckSteps(ctx, f); err == nil {
			s.metrics.stuckBy.WithLabelValues(r.label).Set(float64(n))
		} else if ctx.Err() == nil {
			s.log.Warn("refreshing stuck gauge", "rule", r.label, "error", err)
		}
	}
	if counts, err := s.store.CountByGroupStatus(ctx); err == nil {
		// Every group and status reads 0 until counted, so a status no
		// dossier holds any more drops to 0 and dashboards always have a series.
		for _, g := range []dossier.Group{dossier.GroupBirth, dossier.GroupDeath} {
			for _, st := range allStatuses {
				s.metrics.dossiers.WithLabelValues(string(g), string(st)).Set(0)
			}
		}
		for _, c := range counts {
			s.metrics.dossiers.WithLabelValues(string(c.Group), string(c.Status)).Set(float64(c.Count))
		}
	} else if ctx.Err() == nil {
		s.log.Warn("refreshing dossier gauge", "error", err)
	}
}

// calendarWarnings are the years the calendar needs now and has no holiday file for.
func (s *Server) calendarWarnings(now time.Time) []*enginev1.CalendarWarning {
	var out []*enginev1.CalendarWarning
	for _, y := range s.cal.MissingYears(now) {
		out = append(out, &enginev1.CalendarWarning{Year: int32(y), //nolint:gosec // a calendar year
			Message: fmt.Sprintf("the holiday file for %d is missing: deadlines in %d count plain Monday-to-Friday weeks until an operator adds calendar/data/%d.json from the Government's notice", y, y, y)})
	}
	return out
}

// logCalendarWarnings logs each missing calendar year once a day.
func (s *Server) logCalendarWarnings(now time.Time) {
	day := now.In(civil.Zone).Format(time.DateOnly)
	for _, w := range s.calendarWarnings(now) {
		if s.calendarWarned[int(w.GetYear())] == day {
			continue
		}
		s.calendarWarned[int(w.GetYear())] = day
		s.log.Warn("calendar: holiday file missing", "year", w.GetYear(), "detail", w.GetMessage())
	}
}

var allStatuses = []dossier.Status{
	dossier.StatusReceived, dossier.StatusInProgress, dossier.StatusNeedsSupplement, dossier.StatusCompleted,
	dossier.StatusPartiallyCompleted, dossier.StatusRejected, dossier.StatusCancelled,
}

// stuckRuleLabels are the stuck rules, one gauge series each.
var stuckRuleLabels = []struct {
	label string
	rules store.StuckRules
}{
	{"overdue", store.StuckRules{Overdue: true}},
	{"idle", store.StuckRules{Idle: true}},
	{"retries_failing", store.StuckRules{RetriesFailing: true}},
	{"late_id_number", store.StuckRules{LateIDNumber: true}},
	{"awaiting_supplement", store.StuckRules{AwaitingSupplement: true}},
}

// workerSeen is how recently a worker must have polled for the API to be ready.
const workerSeen = time.Minute

// serveReady answers 200 only when Temporal answers, PostgreSQL pings, and a
// worker polled the dossier task queue within the last minute.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	fail := func(name string, err error) {
		ready = false
		checks[name] = err.Error()
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		fail("temporal", err)
	} else {
		checks["temporal"] = "ok"
	}
	if err := s.store.Pool().Ping(ctx); err != nil {
		fail("postgres", err)
	} else {
		checks["postgres"] = "ok"
	}
	if err := s.workerPolling(ctx); err != nil {
		fail("worker", err)
	} else {
		checks["worker"] = "ok"
	}
	if s.oidc != nil {
		if err := s.oidc.opts.Tokens.Ready(ctx); err != nil {
			fail("identity_provider", err)
		} else {
			checks["identity_provider"] = "ok"
		}
	}
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": ready, "checks": checks})
}

func (s *Server) workerPolling(ctx context.Context) error {
	resp, err := s.temporal.DescribeTaskQueue(ctx, workflows.TaskQueueDossiers, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return err
	}
	cutoff := s.now().Add(-workerSeen)
	for _, p := range resp.GetPollers() {
		if p.GetLastAccessTime() != nil && p.GetLastAccessTime().AsTime().After(cutoff) {
			return nil
		}
	}
	return fmt.Errorf("no worker polled %s in the last minute", workflows.TaskQueueDossiers)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
