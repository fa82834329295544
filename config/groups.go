package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The settings come in groups, one struct each, so that a subcommand
// declares exactly the settings it reads by embedding the groups it needs.
// A field's tags are its whole description: the flag (name), its
// environment variables (env), its default, its help, `secret` when it may
// also come from a file named by its variable with _FILE added, and `unset`
// for what an empty value means. Each group checks its own values.

// Log is how a process logs.
type Log struct {
	LogLevel  string `name:"log-level" env:"LIENTHONG_LOG_LEVEL" default:"info" help:"debug, info, warn or error"`
	LogFormat string `name:"log-format" env:"LIENTHONG_LOG_FORMAT" default:"text" help:"text or json (for machines)"`
}

func (g *Log) check(p *problems) {
	p.oneOf("log-level", g.LogLevel, "debug", "info", "warn", "error")
	p.oneOf("log-format", g.LogFormat, "text", "json")
}

// Data is the directory a one-machine install keeps its state in.
type Data struct {
	DataDir string `name:"data-dir" env:"LIENTHONG_DATA_DIR" default:".lienthong" help:"directory for the embedded server, private PostgreSQL, dev keys and certificates"`
}

func (g *Data) check(p *problems) {
	if g.DataDir == "" {
		p.bad("data-dir", "must not be empty")
	}
}

// Database is lienthong's own PostgreSQL.
type Database struct {
	// DatabaseURL is lienthong's own PostgreSQL; empty under dev starts a private one.
	DatabaseURL string `name:"database-url" env:"LIENTHONG_DATABASE_URL,DATABASE_URL" secret:"" unset:"a private PostgreSQL under dev" help:"PostgreSQL URL for lienthong's data, e.g. postgres://user@host:5432/lienthong"`
}

func (g *Database) check(p *problems) {
	p.postgresURL("database-url", g.DatabaseURL)
}

// Temporal is how a client reaches the Temporal frontend.
type Temporal struct {
	TemporalAddress string `name:"temporal-address" env:"LIENTHONG_TEMPORAL_ADDRESS" default:"127.0.0.1:7233" help:"Temporal frontend host:port"`
	Namespace
}

func (g *Temporal) check(p *problems) {
	p.hostPort("temporal-address", g.TemporalAddress)
}

// Namespace is the Temporal namespace lienthong's workflows run in.
type Namespace struct {
	TemporalNamespace string `name:"temporal-namespace" env:"LIENTHONG_TEMPORAL_NAMESPACE" default:"lienthong" help:"Temporal namespace"`
}

func (g *Namespace) check(p *problems) {
	if g.TemporalNamespace == "" {
		p.bad("temporal-namespace", "must not be empty")
	}
}

// TemporalTLSOptions connect to the Temporal frontend over TLS, verified
// against TemporalTLSCAFile or else the system's roots, presenting
// TemporalTLSCertFile when the cluster wants client certificates. Naming
// any of the files turns it on.
type TemporalTLSOptions struct {
	TemporalTLS           bool   `name:"temporal-tls" env:"LIENTHONG_TEMPORAL_TLS" help:"connect to the Temporal frontend over TLS (on when any --temporal-tls-* setting is given)"`
	TemporalTLSCAFile     string `name:"temporal-tls-ca-file" env:"LIENTHONG_TEMPORAL_TLS_CA_FILE" unset:"the system's roots" help:"CA certificates (PEM) the Temporal frontend is verified against"`
	TemporalTLSCertFile   string `name:"temporal-tls-cert-file" env:"LIENTHONG_TEMPORAL_TLS_CERT_FILE" unset:"no client certificate" help:"client certificate (PEM) presented to a Temporal frontend that wants one, re-read when it changes"`
	TemporalTLSKeyFile    string `name:"temporal-tls-key-file" env:"LIENTHONG_TEMPORAL_TLS_KEY_FILE" help:"the Temporal client certificate's private key (PEM)"`
	TemporalTLSServerName string `name:"temporal-tls-server-name" env:"LIENTHONG_TEMPORAL_TLS_SERVER_NAME" unset:"the host of --temporal-address" help:"name the Temporal frontend's certificate must carry"`
}

func (g *TemporalTLSOptions) check(p *problems) {
	p.pair("temporal-tls-cert-file", g.TemporalTLSCertFile, "temporal-tls-key-file", g.TemporalTLSKeyFile)
	p.noPlaceholder("temporal-tls-ca-file", g.TemporalTLSCAFile)
	p.noPlaceholder("temporal-tls-cert-file", g.TemporalTLSCertFile)
	p.noPlaceholder("temporal-tls-key-file", g.TemporalTLSKeyFile)
}

// TemporalTLSEnabled says the Temporal frontend is reached over TLS.
func (g *TemporalTLSOptions) TemporalTLSEnabled() bool {
	return g.TemporalTLS || g.TemporalTLSCAFile != "" || g.TemporalTLSCertFile != "" || g.TemporalTLSServerName != ""
}

// Embedded is the Temporal server that dev and the temporal subcommand run
// inside themselves, and where they listen.
type Embedded struct {
	Ephemeral bool `name:"ephemeral" env:"LIENTHONG_EPHEMERAL" help:"keep Temporal's data in a scratch file and throw it away on exit"`
	// ListenIP is where dev and the embedded server bind; loopback by default.
	ListenIP       string `name:"listen-ip" env:"LIENTHONG_LISTEN_IP" default:"127.0.0.1" help:"IP the embedded servers bind on"`
	TemporalPort   int    `name:"temporal-port" env:"LIENTHONG_TEMPORAL_PORT" default:"7233" help:"embedded Temporal frontend port"`
	TemporalUIPort int    `name:"temporal-ui-port" env:"LIENTHONG_TEMPORAL_UI_PORT" default:"8233" help:"embedded Temporal Web UI port, 0 for none"`
	// TemporalDB is sqlite, memory or postgres.
	TemporalDB string `name:"db" env:"LIENTHONG_TEMPORAL_DB" default:"sqlite" help:"embedded Temporal persistence: sqlite (a file in the data directory), memory (a scratch file removed on exit) or postgres (postgres under the temporal subcommand only)"`
}

func (g *Embedded) check(p *problems) {
	if net.ParseIP(g.ListenIP) == nil {
		p.bad("listen-ip", "got %q, expected an IP address", g.ListenIP)
	}
	p.port("temporal-port", g.TemporalPort, false)
	p.port("temporal-ui-port", g.TemporalUIPort, true)
	p.oneOf("db", g.TemporalDB, "sqlite", "memory", "postgres")
}

// TemporalServer is the rest of the temporal subcommand's server: its
// metrics, and its databases when it keeps them in PostgreSQL.
type TemporalServer struct {
	// TemporalMetricsPort serves the `temporal` subcommand's server metrics.
	TemporalMetricsPort int    `name:"temporal-metrics-port" env:"LIENTHONG_TEMPORAL_METRICS_PORT" default:"7497" help:"port of the server's metrics (/metrics), 0 for none"`
	TemporalDBURL       string `name:"temporal-db-url" env:"LIENTHONG_TEMPORAL_DB_URL" secret:"" unset:"--database-url" help:"PostgreSQL URL for Temporal's own databases (with --db postgres)"`
	TemporalShards      int    `name:"temporal-shards" env:"LIENTHONG_TEMPORAL_SHARDS" default:"4" help:"history shards of a new PostgreSQL-backed Temporal; fixed forever once created"`
	// Temporal's own two databases on that server.
	TemporalDBName           string `name:"temporal-db-name" env:"LIENTHONG_TEMPORAL_DB_NAME" default:"temporal" help:"Temporal's main database (with --db postgres)"`
	TemporalVisibilityDBName string `name:"temporal-visibility-db-name" env:"LIENTHONG_TEMPORAL_VISIBILITY_DB_NAME" default:"temporal_visibility" help:"Temporal's visibility database (with --db postgres)"`
}

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (g *TemporalServer) check(p *problems) {
	p.port("temporal-metrics-port", g.TemporalMetricsPort, true)
	p.postgresURL("temporal-db-url", g.TemporalDBURL)
	for _, d := range []struct{ name, v string }{{"temporal-db-name", g.TemporalDBName}, {"temporal-visibility-db-name", g.TemporalVisibilityDBName}} {
		if !dbName.MatchString(d.v) {
			p.bad(d.name, "got %q, expected a database name of letters, digits and underscores", d.v)
		}
	}
	if g.TemporalDBName == g.TemporalVisibilityDBName {
		p.bad("temporal-visibility-db-name", "must differ from --temporal-db-name")
	}
	if g.TemporalShards < 1 || g.TemporalShards > 16384 {
		p.bad("temporal-shards", "got %d, expected 1 to 16384", g.TemporalShards)
	}
}

// AgencyPlaceholder stands for each agency's name in --tls-cert-file and
// --tls-key-file when one agency process runs several.
const AgencyPlaceholder = "{agency}"

// TLS is this process's certificate (PEM, with any intermediates) and key:
// the engine's for api and worker, an agency's for agency, Temporal's for
// temporal. It serves every gRPC listener and is presented on every call to
// another part. In an agency process that runs several agencies,
// AgencyPlaceholder in the paths stands for each one's name. The files are
// re-read when they change.
type TLS struct {
	TLSCertFile string `name:"tls-cert-file" env:"LIENTHONG_TLS_CERT_FILE" unset:"made under dev; outside it, required or --insecure-plaintext" help:"this process's TLS certificate (PEM), served and presented on every hop and re-read when it changes: the engine's (lienthong://engine) for api and worker, an agency's (lienthong://agency/justice, ...) for agency, Temporal's (lienthong://temporal) for temporal; {agency} in the path stands for each agency's name in an agency process running several"`
	TLSKeyFile  string `name:"tls-key-file" env:"LIENTHONG_TLS_KEY_FILE" unset:"made under dev" help:"the TLS certificate's private key (PEM); {agency} as in --tls-cert-file"`
	// TLSCAFile holds the CA certificates that issue lienthong's parts'
	// certificates: peers are verified against them, in both directions.
	TLSCAFile string `name:"tls-ca-file" env:"LIENTHONG_TLS_CA_FILE" unset:"made under dev" help:"CA certificates (PEM) that issue lienthong's parts' certificates; every peer is verified against them, both ways"`
	// InsecurePlaintext runs without TLS, trusting API keys and tokens
	// alone: for dev and a trusted test network only.
	InsecurePlaintext bool `name:"insecure-plaintext" env:"LIENTHONG_INSECURE_PLAINTEXT" help:"run without TLS, trusting API keys and tokens alone (dev and trusted test networks only)"`
}

func (g *TLS) check(p *problems) {
	p.pair("tls-cert-file", g.TLSCertFile, "tls-key-file", g.TLSKeyFile)
	if g.TLSCertFile != "" && g.TLSCAFile == "" {
		p.bad("tls-ca-file", "required with --tls-cert-file: every hop is mutual, and peers are verified against this CA")
	}
	if strings.Contains(g.TLSCertFile, AgencyPlaceholder) != strings.Contains(g.TLSKeyFile, AgencyPlaceholder) {
		p.bad("tls-key-file", "%s must appear in both --tls-cert-file and --tls-key-file, or in neither", AgencyPlaceholder)
	}
	p.noPlaceholder("tls-ca-file", g.TLSCAFile)
	if g.InsecurePlaintext && g.TLSCertFile != "" {
		p.bad("insecure-plaintext", "contradicts --tls-cert-file: choose TLS or plaintext")
	}
}

// TLSConfigured says this process has a certificate of its own.
func (g *TLS) TLSConfigured() bool { return g.TLSCertFile != "" }

// HTTPTLS is the certificate that, when set, serves the API's HTTP listener (console, REST) with a
// certificate browsers trust, instead of the service certificate.
type HTTPTLS struct {
	HTTPTLSCertFile string `name:"http-tls-cert-file" env:"LIENTHONG_HTTP_TLS_CERT_FILE" unset:"the service certificate (dev: plain HTTP on loopback)" help:"certificate (PEM) of the API's HTTP listener (console, REST) when browsers should see another than the service certificate"`
	HTTPTLSKeyFile  string `name:"http-tls-key-file" env:"LIENTHONG_HTTP_TLS_KEY_FILE" help:"the HTTP listener certificate's private key (PEM)"`
}

func (g *HTTPTLS) check(p *problems) {
	p.pair("http-tls-cert-file", g.HTTPTLSCertFile, "http-tls-key-file", g.HTTPTLSKeyFile)
	p.noPlaceholder("http-tls-cert-file", g.HTTPTLSCertFile)
	p.noPlaceholder("http-tls-key-file", g.HTTPTLSKeyFile)
}

// APIGRPC is the engine API's gRPC address: where it listens, and where the
// operator commands reach it.
type APIGRPC struct {
	APIGRPCAddr string `name:"api-grpc-addr" env:"LIENTHONG_API_GRPC_ADDR" default:"127.0.0.1:7400" help:"engine API gRPC address"`
}

func (g *APIGRPC) check(p *problems) { p.hostPort("api-grpc-addr", g.APIGRPCAddr) }

// API is where the engine API listens.
type API struct {
	APIGRPC
	APIHTTPAddr string `name:"api-http-addr" env:"LIENTHONG_API_HTTP_ADDR" default:"127.0.0.1:7480" help:"engine REST gateway, console, health and metrics listen address"`
}

func (g *API) check(p *problems) { p.hostPort("api-http-addr", g.APIHTTPAddr) }

// Console is what the API serves people beyond the RPCs: the citizen
// look-up, the links to traces, the load balancers in front of it.
type Console struct {
	// TrustedProxies are the load balancers in front of the API's HTTP port,
	// comma-separated CIDRs: behind one, a client is the address it
	// forwards in X-Forwarded-For (for the look-up throttle).
	TrustedProxies string `name:"trusted-proxies" env:"LIENTHONG_TRUSTED_PROXIES" help:"comma-separated CIDRs of the load balancers in front of the API, whose X-Forwarded-For names the client, e.g. 10.0.0.0/8"`
	// LookupFloor is the least time the citizen look-up takes to answer
	// anything but the dossier (a wrong phone, an unknown code, a refusal),
	// so that timing does not tell them apart.
	LookupFloor time.Duration `name:"lookup-floor" env:"LIENTHONG_LOOKUP_FLOOR" default:"300ms" help:"least time the citizen look-up takes to answer a wrong phone, an unknown code or a refusal, so they cannot be told apart by timing (100ms to 10s)"`
	// TraceURL is where the console links a dossier's trace, with {trace_id}
	// standing for its id, e.g. a Jaeger or Grafana Tempo page.
	TraceURL string `name:"trace-url" env:"LIENTHONG_TRACE_URL" help:"the console's link to a dossier's trace, with {trace_id}, e.g. http://jaeger:16686/trace/{trace_id}"`
}

// TrustedProxyPrefixes parses --trusted-proxies.
func (g Console) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitList(g.TrustedProxies) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("got %q, expected a CIDR such as 10.0.0.0/8", p)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}

func (g *Console) check(p *problems) {
	if _, err := g.TrustedProxyPrefixes(); err != nil {
		p.bad("trusted-proxies", "%v", err)
	}
	if g.LookupFloor < 100*time.Millisecond || g.LookupFloor > 10*time.Second {
		p.bad("lookup-floor", "got %s, expected 100ms to 10s: longer than the slowest failed look-up", g.LookupFloor)
	}
	if g.TraceURL != "" {
		if u, err := url.Parse(strings.ReplaceAll(g.TraceURL, "{trace_id}", "0")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(g.TraceURL, "{trace_id}") {
			p.bad("trace-url", "got %q, expected an http(s) URL with {trace_id} in it, e.g. http://jaeger:16686/trace/{trace_id}", g.TraceURL)
		}
	}
}

// Tracing is where a process sends its traces.
type Tracing struct {
	// OTLPEndpoint is the OpenTelemetry collector that traces go to, as a
	// URL. Empty leaves it to the standard OTEL_EXPORTER_OTLP_* variables;
	// with neither, tracing is off.
	OTLPEndpoint string `name:"otlp-endpoint" env:"LIENTHONG_OTLP_ENDPOINT" unset:"the OTEL_EXPORTER_OTLP_* variables; with neither, tracing is off" help:"OpenTelemetry collector for traces (OTLP/gRPC), e.g. http://otel-collector:4317"`
}

func (g *Tracing) check(p *problems) {
	if g.OTLPEndpoint != "" {
		if u, err := url.Parse(g.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.bad("otlp-endpoint", "got %q, expected a URL such as http://otel-collector:4317", g.OTLPEndpoint)
		}
	}
}

// Agencies is how the engine reaches the agencies' services and the SMS
// gateway, which is reached like an agency; dev and the agency subcommand
// serve their mocks at these addresses.
type Agencies struct {
	JusticeAddr   string `name:"justice-addr" env:"LIENTHONG_JUSTICE_ADDR" default:"127.0.0.1:7401" help:"Justice service host:port"`
	PoliceAddr    string `name:"police-addr" env:"LIENTHONG_POLICE_ADDR" default:"127.0.0.1:7402" help:"Police service host:port"`
	InsuranceAddr string `name:"insurance-addr" env:"LIENTHONG_INSURANCE_ADDR" default:"127.0.0.1:7403" help:"Insurance service host:port"`
	PortalAddr    string `name:"portal-addr" env:"LIENTHONG_PORTAL_ADDR" default:"127.0.0.1:7404" help:"Portal service host:port"`
	// SMSAddr is the SMS gateway the worker notifies applicants through.
	SMSAddr string `name:"sms-addr" env:"LIENTHONG_SMS_ADDR" default:"127.0.0.1:7405" help:"SMS gateway host:port (gRPC, mutual TLS like an agency) that notifications are sent through; dev and agency serve the mock gateway there"`
	AgencyKeys
}

func (g *Agencies) check(p *problems) {
	p.hostPort("justice-addr", g.JusticeAddr)
	p.hostPort("police-addr", g.PoliceAddr)
	p.hostPort("insurance-addr", g.InsuranceAddr)
	p.hostPort("portal-addr", g.PortalAddr)
	p.hostPort("sms-addr", g.SMSAddr)
}

// AgencyKeys are the credentials between the engine and the agencies when
// they run without TLS, and for the mocks' AdminService.
type AgencyKeys struct {
	// AgencyAPIKey is the credential the engine presents to agencies.
	AgencyAPIKey string `name:"agency-api-key" env:"LIENTHONG_AGENCY_API_KEY" secret:"" default:"dev-engine-key" help:"credential the engine presents to agencies (plaintext only: over TLS its certificate names it)"`
	// AgencyAdminKey is the credential for the agencies' AdminService (modes, faults).
	AgencyAdminKey string `name:"agency-admin-key" env:"LIENTHONG_AGENCY_ADMIN_KEY" secret:"" default:"dev-admin-key" help:"credential for the mock agencies' AdminService (decision modes, faults)"`
}

// Mail is the mail relay e-mail notifications are sent to; dev and the
// agency subcommand serve a mock sink there.
type Mail struct {
	// SMTPAddr is the mail relay the worker sends e-mail notifications to.
	SMTPAddr string `name:"smtp-addr" env:"LIENTHONG_SMTP_ADDR" default:"127.0.0.1:7406" help:"SMTP relay host:port (no auth: a private network) that e-mail notifications are sent to; dev and agency serve the mock sink there"`
}

func (g *Mail) check(p *problems) { p.hostPort("smtp-addr", g.SMTPAddr) }

// Notify is how the worker tells applicants of their dossiers: by SMS
// through the gateway in Agencies, and by e-mail.
type Notify struct {
	Mail
	// MailFrom is the notifications' sender; its domain names their Message-IDs.
	MailFrom string `name:"mail-from" env:"LIENTHONG_MAIL_FROM" default:"no-reply@lienthong.local" help:"sender address of e-mail notifications; its domain names their Message-IDs"`
	// NotifyMaxBackoff caps the wait before a notification is sent again.
	NotifyMaxBackoff time.Duration `name:"notify-max-backoff" env:"LIENTHONG_NOTIFY_MAX_BACKOFF" default:"1m" help:"longest wait before a notification that failed is sent again (from 1s, doubling)"`
}

func (g *Notify) check(p *problems) {
	if a, err := mail.ParseAddress(g.MailFrom); err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		p.bad("mail-from", "got %q, expected an e-mail address such as no-reply@example.gov.vn", g.MailFrom)
	}
	if g.NotifyMaxBackoff < time.Second {
		p.bad("notify-max-backoff", "got %s, expected at least 1s", g.NotifyMaxBackoff)
	}
}

// MockAgency is an agency process: which mocks it runs and how they reach
// the engine.
type MockAgency struct {
	// AgencyName is justice, police, insurance, portal, sms, mail or all.
	AgencyName string `name:"name" env:"LIENTHONG_AGENCY_NAME" default:"all" help:"agency to run: justice, police, insurance, portal, sms (the SMS gateway), mail (the SMTP sink) or all"`
	// AgencyHTTPAddr serves an agency process's /healthz and /metrics.
	AgencyHTTPAddr string `name:"agency-http-addr" env:"LIENTHONG_AGENCY_HTTP_ADDR" default:"127.0.0.1:7495" help:"agency process health and metrics listen address"`
	Callback
}

func (g *MockAgency) check(p *problems) {
	p.oneOf("name", g.AgencyName, "justice", "police", "insurance", "portal", "sms", "mail", "all")
	p.hostPort("agency-http-addr", g.AgencyHTTPAddr)
}

// Callback is how agencies push case changes to the engine.
type Callback struct {
	// CallbackAddr is the engine API's gRPC address agencies push case changes to.
	CallbackAddr string `name:"callback-addr" env:"LIENTHONG_CALLBACK_ADDR" default:"127.0.0.1:7400" help:"engine API gRPC address that agencies push case changes to"`
	// CallbackToken is the credential agencies present to the engine's callback API.
	CallbackToken string `name:"callback-token" env:"LIENTHONG_CALLBACK_TOKEN" secret:"" unset:"minted from --token-key" help:"token agencies present to the engine, plaintext only: over TLS the callback takes nothing but the agency's certificate"`
}

func (g *Callback) check(p *problems) { p.hostPort("callback-addr", g.CallbackAddr) }

// Decider is how the mock agencies decide on their own.
type Decider struct {
	// AgencyMode is auto or manual at start-up; it can be switched at run time.
	AgencyMode string `name:"agency-mode" env:"LIENTHONG_AGENCY_MODE" default:"auto" help:"auto or manual decisions at start-up"`
	// AgencyMinDelay and AgencyMaxDelay bound the auto decider's delay.
	AgencyMinDelay time.Duration `name:"agency-min-delay" env:"LIENTHONG_AGENCY_MIN_DELAY" default:"200ms" help:"shortest auto decision delay"`
	AgencyMaxDelay time.Duration `name:"agency-max-delay" env:"LIENTHONG_AGENCY_MAX_DELAY" default:"2s" help:"longest auto decision delay"`
}

func (g *Decider) check(p *problems) {
	p.oneOf("agency-mode", g.AgencyMode, "auto", "manual")
	if g.AgencyMinDelay < 0 {
		p.bad("agency-min-delay", "got %s, expected zero or more", g.AgencyMinDelay)
	}
	if g.AgencyMaxDelay < g.AgencyMinDelay {
		p.bad("agency-max-delay", "got %s, expected at least --agency-min-delay (%s)", g.AgencyMaxDelay, g.AgencyMinDelay)
	}
}

// Population is the mock agencies' seeded population, which the load
// generator draws people from too.
type Population struct {
	// AgencySeed makes the mocks' seed data and faults reproducible.
	AgencySeed int64 `name:"agency-seed" env:"LIENTHONG_AGENCY_SEED" default:"6301" help:"seed for the mocks' population and faults"`
	// SeedPeople is the size of the seeded population.
	SeedPeople int `name:"seed-people" env:"LIENTHONG_SEED_PEOPLE" default:"12000" help:"people in the seeded population (10000 to 5000000)"`
}

func (g *Population) check(p *problems) {
	if g.SeedPeople < 10000 || g.SeedPeople > 5_000_000 {
		p.bad("seed-people", "got %d, expected 10000 to 5000000", g.SeedPeople)
	}
}

// Codec encrypts Temporal payloads.
type Codec struct {
	// CodecKey encrypts Temporal payloads (AES-256-GCM): 32 bytes, base64.
	CodecKey string `name:"codec-key" env:"LIENTHONG_CODEC_KEY" secret:"" unset:"generated under dev; outside it, required" help:"base64 of 32 bytes: AES-256-GCM key that encrypts Temporal payloads"`
	// CodecOldKeys are earlier codec keys, comma-separated base64, kept after
	// a rotation so running dossiers' histories still decrypt. They never
	// encrypt.
	CodecOldKeys string `name:"codec-old-keys" env:"LIENTHONG_CODEC_OLD_KEYS" secret:"" help:"comma-separated base64 keys retired by a rotation: they decrypt, never encrypt"`
}

func (g *Codec) check(p *problems) {
	if g.CodecKey != "" {
		if k, err := base64.StdEncoding.DecodeString(g.CodecKey); err != nil || len(k) != 32 {
			p.bad("codec-key", "expected base64 of exactly 32 bytes")
		}
	}
	for i, k := range splitList(g.CodecOldKeys) {
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
			p.bad("codec-old-keys", "key %d: expected base64 of exactly 32 bytes", i+1)
		}
	}
	if g.CodecOldKeys != "" && g.CodecKey == "" {
		p.bad("codec-old-keys", "needs --codec-key, the key that encrypts")
	}
}

// CodecKeyBytes decodes the validated codec key.
func (g *Codec) CodecKeyBytes() []byte {
	k, _ := base64.StdEncoding.DecodeString(g.CodecKey)
	return k
}

// CodecKeys decodes the validated codec keys, the encrypting one first.
func (g *Codec) CodecKeys() [][]byte {
	keys := [][]byte{g.CodecKeyBytes()}
	for _, k := range splitList(g.CodecOldKeys) {
		b, _ := base64.StdEncoding.DecodeString(k)
		keys = append(keys, b)
	}
	return keys
}

// CodecServer serves Temporal's codec protocol on the API's HTTP address,
// so the Web UI shows histories decrypted to supervisors.
type CodecServer struct {
	CodecEndpoint bool `name:"codec-endpoint" env:"LIENTHONG_CODEC_ENDPOINT" default:"true" help:"serve the codec endpoint (/codec/decode, /codec/encode) on the API's HTTP address"`
	// CodecCORSOrigins are the Web UI origins allowed to call the codec
	// endpoint from a browser, comma-separated.
	CodecCORSOrigins string `name:"codec-cors-origins" env:"LIENTHONG_CODEC_CORS_ORIGINS" unset:"none (dev adds its own Web UI)" help:"comma-separated Web UI origins allowed to call the codec endpoint, e.g. https://temporal.example.gov.vn"`
}

func (g *CodecServer) check(p *problems) {
	for _, o := range splitList(g.CodecCORSOrigins) {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			p.bad("codec-cors-origins", "got %q, expected an origin such as https://temporal.example.gov.vn", o)
		}
	}
}

// CORSOrigins lists the validated codec endpoint origins.
func (g *CodecServer) CORSOrigins() []string {
	out := splitList(g.CodecCORSOrigins)
	for i, o := range out {
		out[i] = strings.TrimSuffix(o, "/")
	}
	return out
}

// Tokens signs lienthong's own API tokens.
type Tokens struct {
	// TokenKey signs API tokens (HMAC-SHA256), at least 32 bytes.
	TokenKey string `name:"token-key" env:"LIENTHONG_TOKEN_KEY" secret:"" unset:"generated under dev; outside it, required" help:"base64 of at least 32 bytes: HMAC key signing API tokens"`
}

func (g *Tokens) check(p *problems) {
	if g.TokenKey != "" {
		if k, err := base64.StdEncoding.DecodeString(g.TokenKey); err != nil || len(k) < 32 {
			p.bad("token-key", "expected base64 of at least 32 bytes")
		}
	}
}

// TokenKeyBytes decodes the validated token key.
func (g *Tokens) TokenKeyBytes() []byte {
	k, _ := base64.StdEncoding.DecodeString(g.TokenKey)
	return k
}

// Session is the console's sign-in: its cookies, its address, and which
// tokens the API accepts beside the provider's.
type Session struct {
	// SessionSecret keys the console's CSRF tokens and sealed cookies, at
	// least 32 bytes; every API replica has the same.
	SessionSecret string `name:"session-secret" env:"LIENTHONG_SESSION_SECRET" secret:"" unset:"generated under dev" help:"base64 of at least 32 bytes: keys the console's CSRF tokens and sealed cookies, the same on every API replica (required with --oidc-issuer outside dev)"`
	// PublicURL is the console's address as browsers reach it.
	PublicURL string `name:"public-url" env:"LIENTHONG_PUBLIC_URL" unset:"under dev, the API's HTTP address" help:"the console's address as browsers reach it (https outside dev), e.g. https://lienthong.example.gov.vn; the sign-in callback and the return from logout are under it"`
	// DevTokens keeps people's HS256 tokens beside the provider's (test clusters).
	DevTokens bool `name:"dev-tokens" env:"LIENTHONG_DEV_TOKENS" help:"with --oidc-issuer, still accept people's HS256 tokens signed by --token-key: dev and test clusters only (on under dev)"`
}

func (g *Session) check(p *problems) {
	if g.SessionSecret != "" {
		if k, err := base64.StdEncoding.DecodeString(g.SessionSecret); err != nil || len(k) < 32 {
			p.bad("session-secret", "expected base64 of at least 32 bytes")
		}
	}
	if g.PublicURL != "" {
		if u, err := url.Parse(g.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			p.bad("public-url", "got %q, expected the console's origin, such as https://lienthong.example.gov.vn", g.PublicURL)
		}
	}
}

// SessionSecretBytes decodes the validated session secret; nil when unset.
func (g *Session) SessionSecretBytes() []byte {
	if g.SessionSecret == "" {
		return nil
	}
	k, _ := base64.StdEncoding.DecodeString(g.SessionSecret)
	return k
}

// OIDCClient is a client of an OpenID Connect provider: the console's, or
// the service account the token command asks for the CLI's token.
type OIDCClient struct {
	OIDCIssuer       string `name:"oidc-issuer" env:"LIENTHONG_OIDC_ISSUER" unset:"lienthong's own HS256 tokens only" help:"OpenID Connect provider's issuer URL, e.g. https://sso.example.gov.vn/realms/lienthong; set, people sign in through it and the API accepts its RS256/ES256 tokens"`
	OIDCClientID     string `name:"oidc-client-id" env:"LIENTHONG_OIDC_CLIENT_ID" help:"the console's client id at the provider (for token --client-credentials, the CLI's service account)"`
	OIDCClientSecret string `name:"oidc-client-secret" env:"LIENTHONG_OIDC_CLIENT_SECRET" secret:"" help:"the client's secret at the provider"`
}

func (g *OIDCClient) check(p *problems) {
	if g.OIDCIssuer == "" {
		return
	}
	if u, err := url.Parse(g.OIDCIssuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.bad("oidc-issuer", "got %q, expected the provider's issuer URL, such as https://sso.example.gov.vn/realms/lienthong", g.OIDCIssuer)
	}
	if g.OIDCClientID == "" {
		p.bad("oidc-client-id", "required with --oidc-issuer")
	}
}

// OIDC signs people in through an OpenID Connect provider and reads their
// role and scope from its tokens' claims.
type OIDC struct {
	OIDCClient
	// OIDCAudience must be among an API token's audiences; empty is the client id.
	OIDCAudience     string `name:"oidc-audience" env:"LIENTHONG_OIDC_AUDIENCE" unset:"--oidc-client-id" help:"audience every API token must carry"`
	OIDCScopes       string `name:"oidc-scopes" env:"LIENTHONG_OIDC_SCOPES" default:"openid profile" help:"scopes asked for at sign-in, space-separated (add offline_access where the provider gives refresh tokens only then)"`
	OIDCProviderName string `name:"oidc-provider-name" env:"LIENTHONG_OIDC_PROVIDER_NAME" unset:"the issuer's host" help:"the provider's name on the sign-in page (\"Đăng nhập bằng <name>\")"`
	OIDCRoleClaim    string `name:"oidc-role-claim" env:"LIENTHONG_OIDC_ROLE_CLAIM" default:"roles" help:"claim holding the role (a string or a list; dots walk into objects, e.g. realm_access.roles)"`
	// OIDCRoleMap maps provider role or group names to lienthong roles.
	OIDCRoleMap       string `name:"oidc-role-map" env:"LIENTHONG_OIDC_ROLE_MAP" unset:"lienthong's own role names" help:"provider role or group names to lienthong roles, e.g. lt-clerks=clerk,lt-supervisors=supervisor"`
	OIDCCommuneClaim  string `name:"oidc-commune-claim" env:"LIENTHONG_OIDC_COMMUNE_CLAIM" default:"commune" help:"claim holding a clerk's 5-digit commune code"`
	OIDCProvinceClaim string `name:"oidc-province-claim" env:"LIENTHONG_OIDC_PROVINCE_CLAIM" default:"province" help:"claim holding a supervisor's (or clerk's) 3-digit province code"`
	OIDCAgencyClaim   string `name:"oidc-agency-claim" env:"LIENTHONG_OIDC_AGENCY_CLAIM" default:"agency" help:"claim holding an officer's agency: justice, police, insurance or portal"`
	OIDCNameClaim     string `name:"oidc-name-claim" env:"LIENTHONG_OIDC_NAME_CLAIM" default:"name" help:"claim holding the name the console shows"`
}

func (g *OIDC) check(p *problems) {
	if g.OIDCIssuer == "" {
		return
	}
	for _, f := range []struct{ name, v string }{{"oidc-role-claim", g.OIDCRoleClaim}, {"oidc-commune-claim", g.OIDCCommuneClaim},
		{"oidc-province-claim", g.OIDCProvinceClaim}, {"oidc-agency-claim", g.OIDCAgencyClaim}} {
		if strings.TrimSpace(f.v) == "" {
			p.bad(f.name, "must not be empty with --oidc-issuer")
		}
	}
}

// Worker is the workflow and activity worker's own.
type Worker struct {
	// WorkerHTTPAddr serves the worker's /healthz, /readyz and /metrics.
	WorkerHTTPAddr string `name:"worker-http-addr" env:"LIENTHONG_WORKER_HTTP_ADDR" default:"127.0.0.1:7490" help:"worker health and metrics listen address"`
	Rate
}

func (g *Worker) check(p *problems) { p.hostPort("worker-http-addr", g.WorkerHTTPAddr) }

// Rate caps the worker's calls to the agencies.
type Rate struct {
	// WorkerRate caps calls per second to each agency task queue.
	WorkerRate float64 `name:"worker-rate" env:"LIENTHONG_WORKER_RATE" default:"200" help:"calls per second allowed to each agency's task queue"`
	// ResumeRate paces the resume sweep: when an agency answers again after
	// an outage, the dossiers held on it are woken at most this many a
	// second, so the backlog does not bury the read model's writes.
	ResumeRate float64 `name:"resume-rate" env:"LIENTHONG_RESUME_RATE" default:"25" help:"at most this many dossiers a second woken when an agency answers again after an outage, fewer while the workers are behind (the resume sweep)"`
}

func (g *Rate) check(p *problems) {
	if g.WorkerRate <= 0 {
		p.bad("worker-rate", "got %g, expected more than 0", g.WorkerRate)
	}
	if g.ResumeRate <= 0 {
		p.bad("resume-rate", "got %g, expected more than 0", g.ResumeRate)
	}
}

// Retry shapes the waits between failed calls to an agency, for the
// dossiers the API starts from now on (they keep them for life).
type Retry struct {
	// RetryMax caps the doubling backoff between failed calls to an agency.
	RetryMax time.Duration `name:"retry-max" env:"LIENTHONG_RETRY_MAX" default:"5m" help:"longest wait between failed calls to an agency, the backoff doubling from 1s up to it"`
	// HeldMax bounds the wait of a step whose backoff has reached RetryMax:
	// it calls again when the agency is seen to answer (the resume sweep),
	// or after this long at the latest.
	HeldMax time.Duration `name:"held-max" env:"LIENTHONG_HELD_MAX" default:"30m" help:"once the backoff has reached --retry-max, a step calls again when its agency answers again, or after this long at the latest"`
}

func (g *Retry) check(p *problems) {
	if g.RetryMax <= 0 {
		p.bad("retry-max", "got %s, expected more than 0", g.RetryMax)
	}
	if g.HeldMax < g.RetryMax {
		p.bad("held-max", "got %s, expected at least --retry-max (%s)", g.HeldMax, g.RetryMax)
	}
}

// DevDemo fills a dev stack with past and live dossiers.
type DevDemo struct {
	Demo bool `name:"demo" env:"LIENTHONG_DEMO" help:"fill the dev stack with four weeks of past dossiers and a few live ones, once per data directory"`
	// DemoLive, with Demo, also submits live dossiers and steers the mock
	// agencies; without it only the finished history is written.
	DemoLive bool `name:"demo-live" env:"LIENTHONG_DEMO_LIVE" default:"true" help:"with --demo, also submit live dossiers and set the mock agencies' modes; false writes the finished history only"`
}

// Drill makes lateness quick to practise.
type Drill struct {
	// DrillStepDeadline, under dev only, makes every step due this long
	// after it is sent, so lateness (the apology, the new date) can be
	// practised in minutes.
	DrillStepDeadline time.Duration `name:"drill-step-deadline" env:"LIENTHONG_DRILL_STEP_DEADLINE" unset:"the legal limits" help:"dev only: every step is due this long after it is sent, for lateness drills (apology, new date) in minutes"`
}
