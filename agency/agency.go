// Package agency owns the mock government agencies lienthong works with:
// Justice (commune civil status), Police (population database and residence),
// Social Insurance (child cards, funeral allowances) and the national portal's
// status feed. Each is a gRPC server over its own PostgreSQL schema with an
// idempotent case desk, an officers' queue and an auto decider, a
// transactional outbox pushed to the engine's callback endpoint, per-client
// credentials, and faults injected on demand. Beside them it runs the
// outside world's two mocks the engine notifies applicants through: an SMS
// gateway (an agency server without cases) and a mail sink (SMTP).
//
// The engine reaches agencies only over gRPC (and the sink over SMTP): this
// package must not import workflows, activities, store or api, and they must
// not import it.
package agency

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/telemetry"
)

// Options configure one agency server.
type Options struct {
	Name       string // justice|police|insurance|portal|sms
	ListenAddr string // e.g. 127.0.0.1:7401 ("127.0.0.1:0" in tests)
	Pool       *pgxpool.Pool
	// APIKeys maps each accepted key to its client's name; the client named
	// "admin" may also call AdminService. Empty keys are ignored; at least
	// one other is required.
	APIKeys map[string]string
	// CallbackAddr is the engine's gRPC address for ReportCase; empty disables pushes.
	CallbackAddr string
	// CallbackToken authenticates pushes without TLS; over TLS the
	// agency's certificate does, and the token is not sent.
	CallbackToken string
	// TLS, when set, is this agency's certificate, key and CA: the agency
	// serves mutual TLS only, each caller must present a certificate from
	// that CA, and the caller is the identity it names (only the engine
	// may call the agency's services; AdminService also wants the admin
	// key); API keys no longer name anyone. Pushes present the same
	// certificate to the engine, which must present the engine's. Nil
	// serves plaintext and trusts API keys alone: for dev only.
	TLS *pki.Source
	// Mode defaults to auto.
	Mode agencyv1.DecisionMode
	// Auto defaults to a 200 ms–2 s delay that approves everything.
	Auto   *agencyv1.AutoDecider
	Faults *agencyv1.Faults
	// Seed drives the seeded population, the auto decider's choices and, when
	// Faults.seed is zero, the faults.
	Seed int64
	// SeedPeople is the seeded population's size (police, insurance); 0 seeds nobody.
	SeedPeople int
	Logger     *slog.Logger
	// Tracing traces the agency's gRPC calls, served and pushed; nil is off.
	Tracing *telemetry.Tracing
}

// AdminClient is the client name allowed to call AdminService.
const AdminClient = "admin"

// Names lists the agencies in the order they are usually started.
func Names() []string {
	return []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance, dossier.AgencyPortal}
}

// Servers lists what Start can run: the agencies, then the SMS gateway.
func Servers() []string { return append(Names(), SMSGateway) }

// keepsCases says the server has a case desk: the portal and the SMS
// gateway only take messages.
func keepsCases(name string) bool {
	return name == dossier.AgencyJustice || name == dossier.AgencyPolice || name == dossier.AgencyInsurance
}

// Server is one running agency.
type Server struct {
	name string
	log  *slog.Logger
	pool *pgxpool.Pool
	keys apiKeys
	// mutual says callers are known by their certificates, not API keys.
	mutual   bool
	settings *settings
	faults   *faults
	desk     *desk // nil for the portal, which keeps no cases

	lis      net.Listener
	grpc     *grpc.Server
	health   *health.Server
	callback *grpc.ClientConn

	cancel   context.CancelFunc
	stopping chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Start migrates the agency's schema, seeds it, and serves its gRPC services
// with its decider and pusher running. It returns once the server accepts
// connections; ctx bounds start-up only, Stop ends the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("agency", opts.Name)

	mode := opts.Mode
	if mode == agencyv1.DecisionMode_DECISION_MODE_UNSPECIFIED {
		mode = agencyv1.DecisionMode_DECISION_MODE_AUTO
	}
	auto := opts.Auto
	if auto == nil {
		auto = defaultAuto()
	}
	st, err := newSettings(opts.Name, mode, auto)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", opts.Name, err)
	}
	fs, err := newFaults(opts.Seed, opts.Faults)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", opts.Name, err)
	}
	s := &Server{
		name:     opts.Name,
		log:      log,
		pool:     opts.Pool,
		keys:     newAPIKeys(opts.APIKeys),
		settings: st,
		faults:   fs,
		stopping: make(chan struct{}),
	}

	if _, err := Migrate(ctx, opts.Pool, opts.Name); err != nil {
		return nil, err
	}

	serverOpts := opts.Tracing.ServerOptions()
	if opts.TLS != nil {
		cfg, err := opts.TLS.ServerConfig(tls.RequireAndVerifyClientCert, "h2")
		if err != nil {
			return nil, fmt.Errorf("starting %s: %w", opts.Name, err)
		}
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(cfg)))
		s.mutual = true
	}
	s.grpc = grpc.NewServer(append(serverOpts,
		grpc.ChainUnaryInterceptor(s.recoverPanics, s.logCalls, s.authenticate, s.injectFaults, translateErrors))...)
	admin := &adminService{s: s}
	agencyv1.RegisterAdminServiceServer(s.grpc, admin)
	services := []string{agencyv1.AdminService_ServiceDesc.ServiceName}

	if keepsCases(opts.Name) {
		s.desk = newDesk(opts.Pool, opts.Name, opts.Seed, st, log)
		agencyv1.RegisterCaseServiceServer(s.grpc, &caseService{d: s.desk})
		services = append(services, agencyv1.CaseService_ServiceDesc.ServiceName)
	}
	switch opts.Name {
	case dossier.AgencyJustice:
		j, err := newJustice(ctx, s.desk)
		if err != nil {
			return nil, err
		}
		agencyv1.RegisterJusticeServiceServer(s.grpc, j)
		services = append(services, agencyv1.JusticeService_ServiceDesc.ServiceName)
	case dossier.AgencyPolice:
		if err := seedPolice(ctx, opts.Pool, opts.Seed, opts.SeedPeople, log); err != nil {
			return nil, err
		}
		agencyv1.RegisterPoliceServiceServer(s.grpc, newPolice(s.desk))
		services = append(services, agencyv1.PoliceService_ServiceDesc.ServiceName)
	case dossier.AgencyInsurance:
		if err := seedInsurance(ctx, opts.Pool, opts.Seed, opts.SeedPeople, log); err != nil {
			return nil, err
		}
		agencyv1.RegisterInsuranceServiceServer(s.grpc, newInsurance(s.desk))
		services = append(services, agencyv1.InsuranceService_ServiceDesc.ServiceName)
	case dossier.AgencyPortal:
		agencyv1.RegisterPortalServiceServer(s.grpc, &portal{pool: opts.Pool, log: log})
		services = append(services, agencyv1.PortalService_ServiceDesc.ServiceName)
	case SMSGateway:
		agencyv1.RegisterSmsGatewayServiceServer(s.grpc, &smsGateway{pool: opts.Pool, log: log})
		services = append(services, agencyv1.SmsGatewayService_ServiceDesc.ServiceName)
	}

	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	for _, svc := range append(services, "") {
		s.health.SetServingStatus(svc, healthpb.HealthCheckResponse_SERVING)
	}

	var pushes *pusher
	if s.desk != nil && opts.CallbackAddr != "" {
		creds, err := callbackCredentials(opts)
		if err != nil {
			return nil, fmt.Errorf("starting %s: %w", opts.Name, err)
		}
		conn, err := grpc.NewClient(opts.CallbackAddr, append(opts.Tracing.DialOptions(), grpc.WithTransportCredentials(creds))...)
		if err != nil {
			return nil, fmt.Errorf("starting %s: callback address %q: %w", opts.Name, opts.CallbackAddr, err)
		}
		s.callback = conn
		token := opts.CallbackToken
		if opts.TLS != nil {
			token = "" // the certificate says who pushes
		}
		pushes = &pusher{
			d:       s.desk,
			client:  enginev1.NewAgencyCallbackServiceClient(conn),
			token:   token,
			faults:  fs,
			log:     log,
			tracing: opts.Tracing,
		}
	}

	lis, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		if s.callback != nil {
			_ = s.callback.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", opts.Name, err)
	}
	s.lis = lis

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Go(func() {
		if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			log.Error("serving gRPC", "err", err)
		}
	})
	if s.desk != nil {
		s.wg.Go(func() { s.desk.runDecider(runCtx) })
	}
	if pushes != nil {
		s.wg.Go(func() { pushes.run(runCtx) })
	}
	log.Info("agency serving", "addr", lis.Addr().String(), "mode", modeName(mode), "pushes", pushes != nil)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop stops serving, lets calls in flight finish (calls hung by a fault are
// released), and waits for the decider and the pusher.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.health.Shutdown()
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
			<-done
		}
		s.cancel()
		s.wg.Wait()
		if s.callback != nil {
			_ = s.callback.Close()
		}
		s.log.Info("agency stopped")
	})
}

func (o Options) check() error {
	var problems []error
	if !slices.Contains(Servers(), o.Name) {
		problems = append(problems, fmt.Errorf("agency name %q is not one of %v", o.Name, Servers()))
	}
	if o.Pool == nil {
		problems = append(problems, errors.New("a PostgreSQL pool is required"))
	}
	if o.ListenAddr == "" {
		problems = append(problems, errors.New("a listen address is required"))
	}
	if o.TLS != nil {
		if got := o.TLS.Identity(); got != pki.Agency(o.Name) {
			problems = append(problems, fmt.Errorf("the TLS certificate %s names %q, not %s: each agency serves with its own", o.TLS.Files().Cert, got.String(), pki.Agency(o.Name).URI()))
		}
		if !o.TLS.HasRoots() {
			problems = append(problems, errors.New("TLS needs the CA that issues the engine's certificate"))
		}
	}
	keys := 0
	for k, client := range o.APIKeys {
		if k == "" {
			continue // an unset key, e.g. no admin key configured, admits nobody
		}
		if client == "" {
			problems = append(problems, errors.New("every API key needs a client name"))
			break
		}
		keys++
	}
	if keys == 0 && o.TLS == nil {
		problems = append(problems, errors.New("at least one API key is required without TLS: without one every call would be refused"))
	}
	if o.SeedPeople < 0 {
		problems = append(problems, errors.New("seed people must not be negative"))
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("agency options: %w", err)
	}
	return nil
}

// callbackCredentials secure the pushes: over TLS the agency presents its
// certificate and wants the engine's in return.
func callbackCredentials(o Options) (credentials.TransportCredentials, error) {
	if o.TLS == nil {
		return insecure.NewCredentials(), nil
	}
	host, _, err := net.SplitHostPort(o.CallbackAddr)
	if err != nil {
		return nil, fmt.Errorf("callback address %q: %w", o.CallbackAddr, err)
	}
	cfg, err := o.TLS.ClientConfig(dialHost(host), pki.Engine())
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// dialHost is the name a wildcard address is reached by: loopback.
func dialHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}

func defaultAuto() *agencyv1.AutoDecider {
	return &agencyv1.AutoDecider{
		MinDelay: durationpb.New(200 * time.Millisecond),
		MaxDelay: durationpb.New(2 * time.Second),
	}
}
