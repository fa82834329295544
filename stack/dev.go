package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/demo"
	"github.com/lienthong/lienthong/forms"
	"github.com/lienthong/lienthong/notify"
	"github.com/lienthong/lienthong/pgserver"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/telemetry"
	"github.com/lienthong/lienthong/temporalserver/namespace"
	"github.com/lienthong/lienthong/workflows"
)

// DevOptions let tests observe and vary the stack.
type DevOptions struct {
	// Temporal starts the embedded Temporal server: embedded.Temporal.
	Temporal EmbeddedTemporal
	// Ready receives the running stack's addresses once everything answers.
	Ready func(Addrs)
	// NoWorker leaves the worker out, for tests that start and kill their own.
	NoWorker bool
	// Tracing replaces tracing from the environment, e.g. with an in-memory exporter.
	Tracing *telemetry.Tracing
}

// RunDev starts the whole system in one process and runs it until ctx is
// done: embedded Temporal, a private PostgreSQL unless DATABASE_URL is set,
// the four mock agencies, the mock SMS gateway and mail sink, the worker
// with its notification dispatcher, the API and the console. Stopping it
// stops everything it started. It writes the ready banner to out.
func RunDev(ctx context.Context, cfg config.Config, out io.Writer, opts DevOptions) error {
	if opts.Temporal == nil {
		return errors.New("RunDev needs DevOptions.Temporal, the embedded Temporal server (embedded.Temporal)")
	}
	logger := NewLogger(cfg)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	if err := devSecrets(&cfg); err != nil {
		return err
	}
	// Mutual TLS on every hop, with certificates dev makes itself.
	tr, err := devTransport(&cfg, logger)
	if err != nil {
		return err
	}

	// PostgreSQL: the configured one, or a private one in the data directory.
	databaseNote := "configured (DATABASE_URL)"
	if cfg.DatabaseURL == "" {
		pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(cfg.DataDir, "postgres"), Logger: logger.With("component", "postgres")})
		if err != nil {
			return err
		}
		defer pg.Stop()
		cfg.DatabaseURL = pg.URL()
		databaseNote = "private, in " + filepath.Join(cfg.DataDir, "postgres")
	}
	pool, err := OpenPool(ctx, cfg.DatabaseURL, 40)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		return err
	}

	// Temporal, embedded.
	sqliteFile := filepath.Join(cfg.DataDir, "temporal.db")
	if cfg.Ephemeral || cfg.TemporalDB == "memory" {
		sqliteFile = ""
	}
	ts, err := opts.Temporal(EmbeddedOptions{
		IP: cfg.ListenIP, Port: cfg.TemporalPort, UIPort: cfg.TemporalUIPort,
		SQLiteFile: sqliteFile, Logger: quietLogger(cfg).With("component", "temporal"),
		UICodecEndpoint: devCodecEndpoint(cfg),
	})
	if err != nil {
		return fmt.Errorf("%w (is another lienthong or Temporal already using port %d? set --temporal-port)", err, cfg.TemporalPort)
	}
	defer ts.Stop()
	cfg.TemporalAddress = ts.Address()
	if err := namespace.Ensure(ctx, cfg.TemporalAddress, nil, cfg.TemporalNamespace, workflows.SearchAttributes()); err != nil {
		return err
	}

	// The API listens first, so agencies have somewhere to push to.
	tracing := opts.Tracing
	if tracing == nil {
		var stopTracing func()
		if tracing, stopTracing, err = startTracing(ctx, cfg, "lienthong-dev", logger); err != nil {
			return err
		}
		defer stopTracing()
	}
	// One registry for the whole process: the SDK's series and lienthong's
	// come out of the API's /metrics together.
	reg := NewRegistry()
	tc, lat, err := NewWorkerClient(ctx, cfg, logger, reg, tracing)
	if err != nil {
		return err
	}
	defer tc.Close()
	users := demoUsers()
	tokens, err := demoTokens(cfg, users)
	if err != nil {
		return err
	}
	samples, err := devSamples(cfg)
	if err != nil {
		return err
	}
	codec, err := devCodec(cfg, ts.UIAddress())
	if err != nil {
		return err
	}
	cfg.PublicURL = devPublicURL(cfg)
	signIn, err := oidcOptions(cfg)
	if err != nil {
		return err
	}
	st := store.New(pool)
	apiSrv, err := api.New(ctx, api.Options{
		Store: st, Temporal: tc, Calendar: calendar.Default(), TokenKey: cfg.TokenKeyBytes(),
		SessionSecret: cfg.SessionSecretBytes(), OIDC: signIn, DevTokens: true,
		GRPCAddr: cfg.APIGRPCAddr, HTTPAddr: cfg.APIHTTPAddr, Logger: logger.With("component", "api"),
		Registry: reg, DevSamples: samples, DemoUsers: users, Codec: codec, Tracing: tracing,
		TraceURL: cfg.TraceURL, DrillStepDeadline: cfg.DrillStepDeadline, LookupFloor: cfg.LookupFloor,
		TLS: tr.engine, HTTPTLS: tr.http, Retry: workflows.Timing{RetryMax: cfg.RetryMax, HeldMax: cfg.HeldMax},
	})
	if err != nil {
		return err
	}
	cfg.CallbackAddr = apiSrv.GRPCAddr()

	// The four agencies and the SMS gateway, each on its own port with its
	// own schema, and the mail sink.
	agencyAddrs := map[string]string{}
	for _, name := range agency.Servers() {
		srv, err := startAgency(ctx, cfg, name, pool, addrFor(cfg, name), tr, tracing)
		if err != nil {
			return err
		}
		defer srv.Stop()
		agencyAddrs[name] = srv.Addr()
	}
	cfg.JusticeAddr, cfg.PoliceAddr = agencyAddrs["justice"], agencyAddrs["police"]
	cfg.InsuranceAddr, cfg.PortalAddr = agencyAddrs["insurance"], agencyAddrs["portal"]
	cfg.SMSAddr = agencyAddrs[agency.SMSGateway]
	sink, err := startMailSink(ctx, cfg, pool)
	if err != nil {
		return err
	}
	defer sink.Stop()
	cfg.SMTPAddr = sink.Addr()

	// The worker.
	agencies, desk, closeAgencies, err := dialAllAgencies(cfg, tr, tracing)
	if err != nil {
		return err
	}
	defer closeAgencies()
	apiSrv.UseAgencies(desk)
	acts := &activities.Activities{Store: st, Agencies: agencies, Logger: logger.With("component", "worker"), Metrics: activities.NewMetrics(reg),
		Availability: &activities.Availability{}}
	var dispatcher *notify.Dispatcher
	if !opts.NoWorker {
		ws := NewWorkers(tc, acts, cfg.WorkerRate)
		if err := StartWorkers(ws); err != nil {
			return err
		}
		defer StopWorkers(ws)
		defer StartPortalFeed(acts)()
		defer StartResumeSweep(tc, lat, cfg.TemporalNamespace, acts, cfg.ResumeRate)()
		var closeDispatcher func()
		if dispatcher, closeDispatcher, err = newDispatcher(cfg, tr, st, reg, logger, tracing); err != nil {
			return err
		}
		defer closeDispatcher()
	}

	addrs := Addrs{
		API: apiSrv.GRPCAddr(), HTTP: apiSrv.HTTPAddr(), HTTPScheme: httpScheme(tr), Temporal: cfg.TemporalAddress, UI: ts.UIAddress(),
		Agencies: agencyAddrs, SMTP: cfg.SMTPAddr, Database: RedactURL(cfg.DatabaseURL), DatabaseNote: databaseNote, Tokens: tokens,
		Config: cfg,
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return apiSrv.Serve(gctx) })
	if dispatcher != nil {
		g.Go(func() error { return dispatcher.Run(gctx) })
	}
	g.Go(func() error {
		// Without its own worker the API is not ready until a test starts one.
		if !opts.NoWorker {
			if err := waitHTTP(gctx, selfClient(tr), addrs.HTTPScheme+"://"+apiSrv.HTTPAddr()+"/readyz", 60*time.Second); err != nil {
				return err
			}
		}
		printReady(out, cfg, addrs)
		if opts.Ready != nil {
			opts.Ready(addrs)
		}
		if cfg.Demo {
			opts, closeDemo, err := demoOptions(cfg, pool, addrs, desk, users, logger)
			if err != nil {
				return err
			}
			g.Go(func() error {
				defer closeDemo()
				demo.Run(gctx, opts)
				return nil
			})
		}
		return nil
	})
	err = g.Wait()
	logger.Info("stopping")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// demoOptions hand --demo the running stack: a connection to the API, the
// demo clerks' tokens by commune, and the agencies' admin services.
// Closing closes the connection.
func demoOptions(cfg config.Config, pool *pgxpool.Pool, a Addrs, desk api.AgencyClients, users []api.DemoUser, logger *slog.Logger) (demo.Options, func(), error) {
	clerks := map[string]string{}
	for _, u := range users {
		if u.Claims.Role == auth.RoleClerk {
			clerks[u.Claims.Commune] = a.Tokens[string(u.Claims.Role)+" "+u.ID]
		}
	}
	creds, err := APICredentials(cfg)
	if err != nil {
		return demo.Options{}, nil, err
	}
	conn, err := grpc.NewClient(a.API, grpc.WithTransportCredentials(creds))
	if err != nil {
		return demo.Options{}, nil, fmt.Errorf("dialling the engine API: %w", err)
	}
	return demo.Options{
		Pool: pool, Seed: cfg.AgencySeed, People: cfg.SeedPeople, Calendar: calendar.Default(),
		Clerk: enginev1.NewClerkServiceClient(conn), ClerkTokens: clerks, Admins: desk.Admin, HistoryOnly: !cfg.DemoLive,
		Logger: logger.With("component", "demo"),
	}, func() { _ = conn.Close() }, nil
}

// devCodecEndpoint is the codec endpoint the embedded Web UI's browser
// calls: the API's HTTP address, known before the API listens unless its
// port is chosen at random (tests), when the UI goes without.
func devCodecEndpoint(cfg config.Config) string {
	host, port, err := net.SplitHostPort(cfg.APIHTTPAddr)
	if !cfg.CodecEndpoint || err != nil || port == "0" {
		return ""
	}
	scheme := "http"
	if devServesHTTPS(cfg) {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(dialHost(host), port) + api.CodecPath
}

// devCodec serves the codec endpoint under dev. The embedded UI has no
// sign-in, so it cannot send a token: the endpoint lets the UI's own origin
// decode without one, and only while the UI and the API listen on loopback,
// where only this machine's users reach them. Each such decode is audited.
func devCodec(cfg config.Config, uiOrigin string) (*api.CodecOptions, error) {
	if !cfg.CodecEndpoint {
		return nil, nil
	}
	codec, err := newCodec(cfg)
	if err != nil {
		return nil, err
	}
	opts := &api.CodecOptions{Codec: codec, Namespace: cfg.TemporalNamespace, Origins: cfg.CORSOrigins()}
	if uiOrigin != "" && loopback(cfg.ListenIP) && loopback(hostOf(cfg.APIHTTPAddr)) {
		opts.DevUIOrigin = uiOrigin
	}
	return opts, nil
}

func loopback(ip string) bool {
	parsed := net.ParseIP(ip)
	return parsed != nil && parsed.IsLoopback()
}

func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}

// Addrs are where a running dev stack answers.
type Addrs struct {
	API, HTTP, Temporal, UI string
	// HTTPScheme is http or https, as HTTP is served.
	HTTPScheme string
	// Agencies are the agencies' and the SMS gateway's gRPC addresses by name.
	Agencies map[string]string
	// SMTP is the mail sink's address.
	SMTP                   string
	Database, DatabaseNote string
	Tokens                 map[string]string
	// Config is the configuration as resolved, keys and addresses included.
	Config config.Config
}

func addrFor(cfg config.Config, name string) string {
	switch name {
	case "justice":
		return cfg.JusticeAddr
	case "police":
		return cfg.PoliceAddr
	case "insurance":
		return cfg.InsuranceAddr
	case agency.SMSGateway:
		return cfg.SMSAddr
	}
	return cfg.PortalAddr
}

// devSecrets keeps generated keys in the data directory, so a restarted dev
// can still decrypt the histories of the dossiers it left running.
func devSecrets(cfg *config.Config) error {
	path := filepath.Join(cfg.DataDir, "dev-keys.json")
	var keys struct{ CodecKey, TokenKey, SessionSecret string }
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &keys); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	changed := false
	for _, k := range []*string{&keys.CodecKey, &keys.TokenKey, &keys.SessionSecret} {
		if *k == "" {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			*k = base64.StdEncoding.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		b, _ := json.MarshalIndent(keys, "", "  ") //nolint:gosec // G117: the dev keys file holds the dev stack's generated secrets on purpose, 0600
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if cfg.CodecKey == "" {
		cfg.CodecKey = keys.CodecKey
	}
	if cfg.TokenKey == "" {
		cfg.TokenKey = keys.TokenKey
	}
	if cfg.SessionSecret == "" {
		cfg.SessionSecret = keys.SessionSecret
	}
	return cfg.Validate()
}

// TokenKey is --token-key, or else the key a dev stack keeps in its data directory.
func TokenKey(cfg config.Config) ([]byte, error) {
	if cfg.TokenKey != "" {
		return cfg.TokenKeyBytes(), nil
	}
	path := filepath.Join(cfg.DataDir, "dev-keys.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.New("--token-key (or LIENTHONG_TOKEN_KEY / LIENTHONG_TOKEN_KEY_FILE): required; under `lienthong dev` the key is in --data-dir/dev-keys.json")
	}
	var keys struct{ TokenKey string }
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("reading the token key from %s: %w", path, err)
	}
	if keys.TokenKey == "" {
		return nil, fmt.Errorf("%s holds no TokenKey; set --token-key", path)
	}
	key, err := base64.StdEncoding.DecodeString(keys.TokenKey)
	if err != nil || len(key) < auth.MinKeyLength {
		return nil, fmt.Errorf("%s: the token key is not base64 of at least %d bytes", path, auth.MinKeyLength)
	}
	fmt.Fprintf(os.Stderr, "lienthong: using the dev token key from %s\n", path)
	return key, nil
}

// devSamples are the console's sample dossiers, drawn from the population
// the agencies seed, at the demo clerk's commune, so they go through.
func devSamples(cfg config.Config) (map[string]json.RawMessage, error) {
	forms := forms.NewForms(population.Generate(cfg.AgencySeed, cfg.SeedPeople))
	now := time.Now()
	bi, di := forms.IndexIn(demoCommune)
	// The death sample shows every procedure: all four when the deceased left
	// someone to claim the survivor benefit for.
	death, ok := forms.DeathWithSurvivors(di, now, "")
	if !ok {
		death = forms.Death(di, now, "", true)
	}
	out := map[string]json.RawMessage{}
	for group, msg := range map[string]proto.Message{
		"birth": forms.Birth(bi, now, ""),
		"death": death,
	} {
		b, err := protojson.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("making the console's %s sample: %w", group, err)
		}
		out[group] = b
	}
	return out, nil
}

// demoCommune is where the demo clerk works (Phường Ba Đình, Hà Nội).
const demoCommune = "00004"

// demoUsers are the people a dev stack offers on the console's sign-in
// page: a clerk of two communes, two officers of each agency (so a claim
// shows who holds a case), a national and a provincial supervisor, and an
// admin.
func demoUsers() []api.DemoUser {
	officer := func(id, label, agency string) api.DemoUser {
		return api.DemoUser{ID: id, Label: label, Claims: auth.Claims{Subject: id, Role: auth.RoleOfficer, Agency: agency}}
	}
	return []api.DemoUser{
		{ID: "clerk-badinh", Label: "Cán bộ một cửa — Phường Ba Đình, Hà Nội",
			Claims: auth.Claims{Subject: "clerk-badinh", Role: auth.RoleClerk, Commune: demoCommune, Province: "001"}},
		{ID: "clerk-ngocha", Label: "Cán bộ một cửa — Phường Ngọc Hà, Hà Nội",
			Claims: auth.Claims{Subject: "clerk-ngocha", Role: auth.RoleClerk, Commune: "00008", Province: "001"}},
		{ID: "clerk-vinh", Label: "Cán bộ một cửa — Phường Thành Vinh, Nghệ An",
			Claims: auth.Claims{Subject: "clerk-vinh", Role: auth.RoleClerk, Commune: "16681", Province: "040"}},
		officer("tuphap-1", "Công chức tư pháp – hộ tịch 1 (Tư pháp)", "justice"),
		officer("tuphap-2", "Công chức tư pháp – hộ tịch 2 (Tư pháp)", "justice"),
		officer("congan-1", "Cán bộ đăng ký cư trú 1 (Công an)", "police"),
		officer("congan-2", "Cán bộ đăng ký cư trú 2 (Công an)", "police"),
		officer("bhxh-1", "Cán bộ Bảo hiểm xã hội 1", "insurance"),
		officer("bhxh-2", "Cán bộ Bảo hiểm xã hội 2", "insurance"),
		{ID: "supervisor-national", Label: "Giám sát toàn quốc",
			Claims: auth.Claims{Subject: "supervisor-national", Role: auth.RoleSupervisor}},
		{ID: "supervisor-hanoi", Label: "Giám sát — Hà Nội",
			Claims: auth.Claims{Subject: "supervisor-hanoi", Role: auth.RoleSupervisor, Province: "001"}},
		{ID: "admin", Label: "Quản trị hệ thống", Claims: auth.Claims{Subject: "admin", Role: auth.RoleAdmin}},
	}
}

// demoTokens are the demo users' tokens, printed by dev for API callers.
func demoTokens(cfg config.Config, users []api.DemoUser) (map[string]string, error) {
	key := cfg.TokenKeyBytes()
	out := map[string]string{}
	for _, u := range users {
		tok, err := auth.Issue(key, u.Claims, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		out[string(u.Claims.Role)+" "+u.ID] = tok
	}
	return out, nil
}

func printReady(w io.Writer, cfg config.Config, a Addrs) {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "  %-22s %s\n", k, v) }
	b.WriteString("\nlienthong is ready\n\n")
	web := a.HTTPScheme + "://" + a.HTTP
	line("Console", web+"/")
	line("REST API", web+"/v1/  (OpenAPI: /openapi.json)")
	tlsOn := cfg.TLSCAFile != ""
	if tlsOn {
		line("gRPC API", a.API+"   grpcurl -cacert "+cfg.TLSCAFile+" "+a.API+" list")
	} else {
		line("gRPC API", a.API+"   grpcurl -plaintext "+a.API+" list")
	}
	line("Temporal", a.Temporal+"   namespace "+cfg.TemporalNamespace)
	if a.UI != "" {
		line("Temporal Web UI", a.UI)
	}
	for _, n := range agency.Names() {
		if tlsOn {
			line("Agency "+n, a.Agencies[n]+"   (mutual TLS; admin key "+cfg.AgencyAdminKey+")")
		} else {
			line("Agency "+n, a.Agencies[n]+"   (API key "+cfg.AgencyAPIKey+", admin key "+cfg.AgencyAdminKey+")")
		}
	}
	line("SMS gateway (mock)", a.Agencies[agency.SMSGateway]+"   (the same; sent messages in sms.messages)")
	line("Mail sink (SMTP)", a.SMTP+"   (received e-mails in mail.messages)")
	if tlsOn {
		dir := filepath.Dir(cfg.TLSCAFile)
		line("TLS", "every gRPC hop; CA and certificates in "+dir+" (the agencies want the engine's: "+
			"grpcurl -cacert "+cfg.TLSCAFile+" -cert "+cfg.TLSCertFile+" -key "+cfg.TLSKeyFile+" ...)")
	} else {
		line("TLS", "off (--insecure-plaintext): API keys and tokens only")
	}
	line("PostgreSQL", a.Database+"   ("+a.DatabaseNote+")")
	if cfg.CodecEndpoint {
		line("Codec endpoint", web+api.CodecPath+"/decode   (admin or supervisor token; the Web UI uses it)")
	}
	if cfg.OIDCIssuer != "" {
		line("Sign-in (OIDC)", cfg.OIDCIssuer+"   (client "+cfg.OIDCClientID+", callback "+cfg.PublicURL+api.OIDCCallbackPath+"; demo users too)")
	}
	line("Health / metrics", web+"/readyz   "+web+"/metrics")
	line("Data directory", cfg.DataDir)
	b.WriteString("\nDemo tokens (24 h):\n")
	for _, label := range sortedKeys(a.Tokens) {
		fmt.Fprintf(&b, "  %-30s %s\n", label, a.Tokens[label])
	}
	if cfg.Demo {
		b.WriteString("\nDemo data (--demo):\n")
		for _, l := range demo.ReadyLines() {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	} else {
		b.WriteString("\nEmpty so far: run with --demo for a populated console.\n")
	}
	b.WriteString("\nSubmit a first dossier (README.md has more):\n")
	fmt.Fprintf(&b, "  export TOKEN=%s\n", a.Tokens["clerk clerk-badinh"])
	fmt.Fprintf(&b, "  curl -s -H \"Authorization: Bearer $TOKEN\" -d @examples/birth.json %s/v1/dossiers/birth\n", web)
	fmt.Fprintf(&b, "  curl -s -H \"Authorization: Bearer $TOKEN\" %s/v1/dossiers\n\n", web)
	b.WriteString("Press Ctrl-C to stop everything.\n")
	fmt.Fprint(w, b.String())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func RedactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if at := strings.Index(u[i+3:], "@"); at >= 0 {
			cred := u[i+3 : i+3+at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return u[:i+3] + cred[:c] + ":***" + u[i+3+at:]
			}
		}
	}
	return u
}
