// Package config owns lienthong's one typed configuration: every flag, its
// LIENTHONG_* environment variable, its default and its validation. Secrets
// can also come from files (LIENTHONG_X_FILE), so images never hold them.
// It must not import any other lienthong package.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is everything a lienthong process may need; each subcommand reads its part.
type Config struct {
	DataDir   string
	Ephemeral bool
	// Demo fills a dev stack with past and live dossiers (dev only).
	Demo bool
	// DemoLive, with Demo, also submits live dossiers and steers the mock
	// agencies; without it only the finished history is written.
	DemoLive  bool
	LogLevel  string
	LogFormat string

	// DatabaseURL is lienthong's own PostgreSQL; empty under dev starts a private one.
	DatabaseURL string

	TemporalAddress   string
	TemporalNamespace string
	// Embedded server (dev, temporal).
	TemporalPort   int
	TemporalUIPort int
	// TemporalMetricsPort serves the `temporal` subcommand's server metrics.
	TemporalMetricsPort int
	// TemporalDB is sqlite, memory or postgres.
	TemporalDB     string
	TemporalDBURL  string
	TemporalShards int
	// Temporal's own two databases on that server.
	TemporalDBName           string
	TemporalVisibilityDBName string

	// ListenIP is where dev and the embedded server bind; loopback by default.
	ListenIP string

	APIGRPCAddr string
	APIHTTPAddr string
	// WorkerHTTPAddr serves the worker's /healthz, /readyz and /metrics.
	WorkerHTTPAddr string
	// AgencyHTTPAddr serves an agency process's /healthz and /metrics.
	AgencyHTTPAddr string

	// AgencyName is justice, police, insurance, portal, sms, mail or all (agency subcommand).
	AgencyName    string
	JusticeAddr   string
	PoliceAddr    string
	InsuranceAddr string
	PortalAddr    string
	// SMSAddr is the SMS gateway the worker notifies applicants through;
	// dev and the agency subcommand serve the mock gateway there.
	SMSAddr string
	// SMTPAddr is the mail relay the worker sends e-mail notifications to;
	// dev and the agency subcommand serve the mock sink there.
	SMTPAddr string
	// MailFrom is the notifications' sender; its domain names their Message-IDs.
	MailFrom string
	// NotifyMaxBackoff caps the wait before a notification is sent again.
	NotifyMaxBackoff time.Duration
	// CallbackAddr is the engine API's gRPC address agencies push case changes to.
	CallbackAddr string
	// AgencyAPIKey is the credential the engine presents to agencies.
	AgencyAPIKey string
	// AgencyAdminKey is the credential for the agencies' AdminService (modes, faults).
	AgencyAdminKey string
	// CallbackToken is the credential agencies present to the engine's callback API.
	CallbackToken string
	// AgencySeed makes the mocks' seed data and faults reproducible.
	AgencySeed int64
	// AgencyMode is auto or manual at start-up; it can be switched at run time.
	AgencyMode string
	// AgencyDelay bounds the auto decider's delay.
	AgencyMinDelay time.Duration
	AgencyMaxDelay time.Duration
	// SeedPeople is the size of the seeded population.
	SeedPeople int

	// CodecKey encrypts Temporal payloads (AES-256-GCM): 32 bytes, base64.
	CodecKey string
	// CodecOldKeys are earlier codec keys, comma-separated base64, kept after
	// a rotation so running dossiers' histories still decrypt. They never
	// encrypt.
	CodecOldKeys string
	// CodecEndpoint serves Temporal's codec protocol on the API's HTTP
	// address, so the Web UI shows histories decrypted to supervisors.
	CodecEndpoint bool
	// CodecCORSOrigins are the Web UI origins allowed to call the codec
	// endpoint from a browser, comma-separated.
	CodecCORSOrigins string
	// TokenKey signs API tokens (HMAC-SHA256), at least 32 bytes.
	TokenKey string
	// SessionSecret keys the console's CSRF tokens and sealed cookies, at
	// least 32 bytes; every API replica has the same.
	SessionSecret string
	// PublicURL is the console's address as browsers reach it.
	PublicURL string
	// DevTokens keeps people's HS256 tokens beside the provider's (test clusters).
	DevTokens bool

	// OIDC* sign people in through an OpenID Connect provider.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	// OIDCAudience must be among an API token's audiences; empty is the client id.
	OIDCAudience     string
	OIDCScopes       string
	OIDCProviderName string
	// OIDCRoleMap maps provider role or group names to lienthong roles.
	OIDCRoleMap       string
	OIDCRoleClaim     string
	OIDCCommuneClaim  string
	OIDCProvinceClaim string
	OIDCAgencyClaim   string
	OIDCNameClaim     string

	// TLSCertFile and TLSKeyFile are this process's certificate (PEM, with
	// any intermediates) and key: the engine's for api and worker, an
	// agency's for agency. It serves every gRPC listener and is presented
	// on every call to another part. In an agency process that runs several
	// agencies, AgencyPlaceholder in the paths stands for each one's name.
	// The files are re-read when they change.
	TLSCertFile string
	TLSKeyFile  string
	// TLSCAFile holds the CA certificates that issue lienthong's parts'
	// certificates: peers are verified against them, in both directions.
	TLSCAFile string
	// HTTPTLSCertFile and HTTPTLSKeyFile, when set, serve the API's HTTP
	// listener (console, REST) with a certificate browsers trust, instead of
	// the service certificate.
	HTTPTLSCertFile string
	HTTPTLSKeyFile  string
	// InsecurePlaintext runs without TLS, trusting API keys and tokens
	// alone: for dev and a trusted test network only.
	InsecurePlaintext bool
	// TemporalTLS connects to the Temporal frontend over TLS, verified
	// against TemporalTLSCAFile or else the system's roots, presenting
	// TemporalTLSCertFile when the cluster wants client certificates.
	// Naming any of the files turns it on.
	TemporalTLS           bool
	TemporalTLSCAFile     string
	TemporalTLSCertFile   string
	TemporalTLSKeyFile    string
	TemporalTLSServerName string

	// OTLPEndpoint is the OpenTelemetry collector that traces go to, as a
	// URL. Empty leaves it to the standard OTEL_EXPORTER_OTLP_* variables;
	// with neither, tracing is off.
	OTLPEndpoint string
	// TrustedProxies are the load balancers in front of the API's HTTP port,
	// comma-separated CIDRs: behind one, a client is the address it
	// forwards in X-Forwarded-For (for the look-up throttle).
	TrustedProxies string
	// LookupFloor is the least time the citizen look-up takes to answer
	// anything but the dossier (a wrong phone, an unknown code, a refusal),
	// so that timing does not tell them apart.
	LookupFloor time.Duration
	// TraceURL is where the console links a dossier's trace, with {trace_id}
	// standing for its id, e.g. a Jaeger or Grafana Tempo page.
	TraceURL string

	// WorkerRate caps calls per second to each agency task queue.
	WorkerRate float64

	// DrillStepDeadline, under dev only, makes every step due this long
	// after it is sent, so lateness (the apology, the new date) can be
	// practised in minutes.
	DrillStepDeadline time.Duration
}

type field struct {
	name, env, usage string
	secret           bool
	set              func(string) error
	get              func() string
}

// Loader binds a Config to flags and environment variables.
type Loader struct {
	cfg    *Config
	fields []field
	fs     *flag.FlagSet
}

// Defaults returns the configuration of a fresh one-machine install.
func Defaults() Config {
	return Config{ //nolint:gosec // G101: the dev agency keys are documented demo values, replaced outside dev
		DataDir:                  ".lienthong",
		LogLevel:                 "info",
		LogFormat:                "text",
		TemporalAddress:          "127.0.0.1:7233",
		TemporalNamespace:        "lienthong",
		TemporalPort:             7233,
		TemporalUIPort:           8233,
		TemporalMetricsPort:      7497,
		TemporalDB:               "sqlite",
		TemporalShards:           4,
		TemporalDBName:           "temporal",
		TemporalVisibilityDBName: "temporal_visibility",
		ListenIP:                 "127.0.0.1",
		APIGRPCAddr:              "127.0.0.1:7400",
		APIHTTPAddr:              "127.0.0.1:7480",
		WorkerHTTPAddr:           "127.0.0.1:7490",
		AgencyHTTPAddr:           "127.0.0.1:7495",
		AgencyName:               "all",
		JusticeAddr:              "127.0.0.1:7401",
		PoliceAddr:               "127.0.0.1:7402",
		InsuranceAddr:            "127.0.0.1:7403",
		PortalAddr:               "127.0.0.1:7404",
		SMSAddr:                  "127.0.0.1:7405",
		SMTPAddr:                 "127.0.0.1:7406",
		MailFrom:                 "no-reply@lienthong.local",
		NotifyMaxBackoff:         time.Minute,
		LookupFloor:              300 * time.Millisecond,
		CallbackAddr:             "127.0.0.1:7400",
		AgencyAPIKey:             "dev-engine-key",
		AgencyAdminKey:           "dev-admin-key",
		AgencySeed:               6301,
		AgencyMode:               "auto",
		AgencyMinDelay:           200 * time.Millisecond,
		AgencyMaxDelay:           2 * time.Second,
		SeedPeople:               12000,
		WorkerRate:               200,
		DemoLive:                 true,
		CodecEndpoint:            true,
		OIDCScopes:               "openid profile",
		OIDCRoleClaim:            "roles",
		OIDCCommuneClaim:         "commune",
		OIDCProvinceClaim:        "province",
		OIDCAgencyClaim:          "agency",
		OIDCNameClaim:            "name",
	}
}

// NewLoader registers every setting on fs.
func NewLoader(fs *flag.FlagSet, cfg *Config) *Loader {
	l := &Loader{cfg: cfg, fs: fs}
	l.str("data-dir", "DATA_DIR", &cfg.DataDir, "directory for the embedded server, private PostgreSQL and dev keys", false)
	l.boolean("ephemeral", "EPHEMERAL", &cfg.Ephemeral, "keep Temporal in memory and throw the data away on exit")
	l.boolean("demo", "DEMO", &cfg.Demo, "fill the dev stack with four weeks of past dossiers and a few live ones, once per data directory (dev only)")
	l.boolean("demo-live", "DEMO_LIVE", &cfg.DemoLive, "with --demo, also submit live dossiers and set the mock agencies' modes; false writes the finished history only")
	l.str("log-level", "LOG_LEVEL", &cfg.LogLevel, "debug, info, warn or error", false)
	l.str("log-format", "LOG_FORMAT", &cfg.LogFormat, "text or json", false)
	l.str("database-url", "DATABASE_URL", &cfg.DatabaseURL, "PostgreSQL URL for lienthong's data (also read from DATABASE_URL)", true)
	l.str("temporal-address", "TEMPORAL_ADDRESS", &cfg.TemporalAddress, "Temporal frontend host:port", false)
	l.str("temporal-namespace", "TEMPORAL_NAMESPACE", &cfg.TemporalNamespace, "Temporal namespace", false)
	l.integer("temporal-port", "TEMPORAL_PORT", &cfg.TemporalPort, "embedded Temporal frontend port")
	l.integer("temporal-ui-port", "TEMPORAL_UI_PORT", &cfg.TemporalUIPort, "embedded Temporal Web UI port, 0 for none")
	l.integer("temporal-metrics-port", "TEMPORAL_METRICS_PORT", &cfg.TemporalMetricsPort, "port of the temporal subcommand's server metrics (/metrics), 0 for none")
	l.str("db", "TEMPORAL_DB", &cfg.TemporalDB, "embedded Temporal persistence: sqlite, memory or postgres", false)
	l.str("temporal-db-url", "TEMPORAL_DB_URL", &cfg.TemporalDBURL, "PostgreSQL URL for Temporal's own databases (with --db postgres); defaults to --database-url", true)
	l.str("temporal-db-name", "TEMPORAL_DB_NAME", &cfg.TemporalDBName, "Temporal's main database (with --db postgres)", false)
	l.str("temporal-visibility-db-name", "TEMPORAL_VISIBILITY_DB_NAME", &cfg.TemporalVisibilityDBName, "Temporal's visibility database (with --db postgres)", false)
	l.integer("temporal-shards", "TEMPORAL_SHARDS", &cfg.TemporalShards, "history shards of a new PostgreSQL-backed Temporal; fixed forever once created")
	l.str("listen-ip", "LISTEN_IP", &cfg.ListenIP, "IP the embedded servers bind on", false)
	l.str("api-grpc-addr", "API_GRPC_ADDR", &cfg.APIGRPCAddr, "engine API gRPC listen address", false)
	l.str("api-http-addr", "API_HTTP_ADDR", &cfg.APIHTTPAddr, "engine REST gateway, console, health and metrics listen address", false)
	l.str("worker-http-addr", "WORKER_HTTP_ADDR", &cfg.WorkerHTTPAddr, "worker health and metrics listen address", false)
	l.str("agency-http-addr", "AGENCY_HTTP_ADDR", &cfg.AgencyHTTPAddr, "agency process health and metrics listen address", false)
	l.str("name", "AGENCY_NAME", &cfg.AgencyName, "agency to run: justice, police, insurance, portal, sms (the SMS gateway), mail (the SMTP sink) or all", false)
	l.str("justice-addr", "JUSTICE_ADDR", &cfg.JusticeAddr, "Justice service host:port", false)
	l.str("police-addr", "POLICE_ADDR", &cfg.PoliceAddr, "Police service host:port", false)
	l.str("insurance-addr", "INSURANCE_ADDR", &cfg.InsuranceAddr, "Insurance service host:port", false)
	l.str("portal-addr", "PORTAL_ADDR", &cfg.PortalAddr, "Portal service host:port", false)
	l.str("sms-addr", "SMS_ADDR", &cfg.SMSAddr, "SMS gateway host:port that notifications are sent through (the mock gateway listens there under dev and agency)", false)
	l.str("smtp-addr", "SMTP_ADDR", &cfg.SMTPAddr, "SMTP relay host:port that e-mail notifications are sent to (the mock sink listens there under dev and agency)", false)
	l.str("mail-from", "MAIL_FROM", &cfg.MailFrom, "sender address of e-mail notifications", false)
	l.duration("notify-max-backoff", "NOTIFY_MAX_BACKOFF", &cfg.NotifyMaxBackoff, "longest wait before a notification that failed is sent again")
	l.str("callback-addr", "CALLBACK_ADDR", &cfg.CallbackAddr, "engine API gRPC address that agencies push case changes to", false)
	l.str("agency-api-key", "AGENCY_API_KEY", &cfg.AgencyAPIKey, "credential the engine presents to agencies", true)
	l.str("agency-admin-key", "AGENCY_ADMIN_KEY", &cfg.AgencyAdminKey, "credential for the agencies' AdminService (decision modes, faults)", true)
	l.str("callback-token", "CALLBACK_TOKEN", &cfg.CallbackToken, "token agencies present to the engine; derived from --token-key when empty", true)
	l.int64("agency-seed", "AGENCY_SEED", &cfg.AgencySeed, "seed for the mocks' population and faults")
	l.str("agency-mode", "AGENCY_MODE", &cfg.AgencyMode, "auto or manual decisions at start-up", false)
	l.duration("agency-min-delay", "AGENCY_MIN_DELAY", &cfg.AgencyMinDelay, "shortest auto decision delay")
	l.duration("agency-max-delay", "AGENCY_MAX_DELAY", &cfg.AgencyMaxDelay, "longest auto decision delay")
	l.integer("seed-people", "SEED_PEOPLE", &cfg.SeedPeople, "people in the seeded population (at least 10000)")
	l.str("codec-key", "CODEC_KEY", &cfg.CodecKey, "base64 of 32 bytes: AES-256-GCM key for Temporal payloads", true)
	l.str("codec-old-keys", "CODEC_OLD_KEYS", &cfg.CodecOldKeys, "comma-separated base64 keys retired by a rotation: they decrypt, never encrypt", true)
	l.boolean("codec-endpoint", "CODEC_ENDPOINT", &cfg.CodecEndpoint, "serve the codec endpoint (/codec/decode, /codec/encode) on the API's HTTP address")
	l.str("codec-cors-origins", "CODEC_CORS_ORIGINS", &cfg.CodecCORSOrigins, "comma-separated Web UI origins allowed to call the codec endpoint, e.g. https://temporal.example.gov.vn", false)
	l.str("token-key", "TOKEN_KEY", &cfg.TokenKey, "base64 of at least 32 bytes: HMAC key signing API tokens", true)
	l.str("session-secret", "SESSION_SECRET", &cfg.SessionSecret, "base64 of at least 32 bytes: keys the console's CSRF tokens and sealed cookies; the same on every API replica (required with --oidc-issuer outside dev)", true)
	l.str("public-url", "PUBLIC_URL", &cfg.PublicURL, "the console's address as browsers reach it, e.g. https://lienthong.example.gov.vn (the sign-in callback and the return from logout are under it)", false)
	l.boolean("dev-tokens", "DEV_TOKENS", &cfg.DevTokens, "with --oidc-issuer, still accept people's HS256 tokens signed by --token-key: dev and test clusters only")
	l.str("oidc-issuer", "OIDC_ISSUER", &cfg.OIDCIssuer, "OpenID Connect provider's issuer URL, e.g. https://sso.example.gov.vn/realms/lienthong; set, people sign in through it", false)
	l.str("oidc-client-id", "OIDC_CLIENT_ID", &cfg.OIDCClientID, "the console's client id at the provider (for `token --client-credentials`, the CLI's)", false)
	l.str("oidc-client-secret", "OIDC_CLIENT_SECRET", &cfg.OIDCClientSecret, "the client's secret at the provider", true)
	l.str("oidc-audience", "OIDC_AUDIENCE", &cfg.OIDCAudience, "audience the API's tokens must carry; empty is --oidc-client-id", false)
	l.str("oidc-scopes", "OIDC_SCOPES", &cfg.OIDCScopes, "scopes asked for at sign-in, space-separated (add offline_access where the provider gives refresh tokens only then)", false)
	l.str("oidc-provider-name", "OIDC_PROVIDER_NAME", &cfg.OIDCProviderName, "the provider's name on the sign-in page (\"Đăng nhập bằng <name>\"); empty is the issuer's host", false)
	l.str("oidc-role-claim", "OIDC_ROLE_CLAIM", &cfg.OIDCRoleClaim, "claim holding the role (a string or a list; dots walk into objects, e.g. realm_access.roles)", false)
	l.str("oidc-role-map", "OIDC_ROLE_MAP", &cfg.OIDCRoleMap, "provider role or group names to lienthong roles, e.g. lt-clerks=clerk,lt-supervisors=supervisor; empty takes lienthong's names", false)
	l.str("oidc-commune-claim", "OIDC_COMMUNE_CLAIM", &cfg.OIDCCommuneClaim, "claim holding a clerk's 5-digit commune code", false)
	l.str("oidc-province-claim", "OIDC_PROVINCE_CLAIM", &cfg.OIDCProvinceClaim, "claim holding a supervisor's (or clerk's) 3-digit province code", false)
	l.str("oidc-agency-claim", "OIDC_AGENCY_CLAIM", &cfg.OIDCAgencyClaim, "claim holding an officer's agency: justice, police, insurance or portal", false)
	l.str("oidc-name-claim", "OIDC_NAME_CLAIM", &cfg.OIDCNameClaim, "claim holding the name the console shows", false)
	l.str("tls-cert-file", "TLS_CERT_FILE", &cfg.TLSCertFile, "this process's TLS certificate (PEM), served and presented on every hop; "+AgencyPlaceholder+" stands for each agency's name in an agency process running several (generated under dev)", false)
	l.str("tls-key-file", "TLS_KEY_FILE", &cfg.TLSKeyFile, "the TLS certificate's private key (PEM); "+AgencyPlaceholder+" as in --tls-cert-file", false)
	l.str("tls-ca-file", "TLS_CA_FILE", &cfg.TLSCAFile, "CA certificates (PEM) that issue lienthong's parts' certificates; every peer is verified against them", false)
	l.str("http-tls-cert-file", "HTTP_TLS_CERT_FILE", &cfg.HTTPTLSCertFile, "certificate (PEM) of the API's HTTP listener (console, REST) when browsers should see another than the service certificate", false)
	l.str("http-tls-key-file", "HTTP_TLS_KEY_FILE", &cfg.HTTPTLSKeyFile, "the HTTP listener certificate's private key (PEM)", false)
	l.boolean("insecure-plaintext", "INSECURE_PLAINTEXT", &cfg.InsecurePlaintext, "run without TLS, trusting API keys and tokens alone (dev and trusted test networks only)")
	l.boolean("temporal-tls", "TEMPORAL_TLS", &cfg.TemporalTLS, "connect to the Temporal frontend over TLS (on when any --temporal-tls-* file is named)")
	l.str("temporal-tls-ca-file", "TEMPORAL_TLS_CA_FILE", &cfg.TemporalTLSCAFile, "CA certificates (PEM) the Temporal frontend is verified against (default: the system's roots)", false)
	l.str("temporal-tls-cert-file", "TEMPORAL_TLS_CERT_FILE", &cfg.TemporalTLSCertFile, "client certificate (PEM) presented to the Temporal frontend", false)
	l.str("temporal-tls-key-file", "TEMPORAL_TLS_KEY_FILE", &cfg.TemporalTLSKeyFile, "the Temporal client certificate's private key (PEM)", false)
	l.str("temporal-tls-server-name", "TEMPORAL_TLS_SERVER_NAME", &cfg.TemporalTLSServerName, "name the Temporal frontend's certificate must carry (default: the host of --temporal-address)", false)
	l.str("otlp-endpoint", "OTLP_ENDPOINT", &cfg.OTLPEndpoint, "OpenTelemetry collector for traces, e.g. http://otel-collector:4317 (default: the OTEL_EXPORTER_OTLP_* variables; neither: tracing off)", false)
	l.str("trusted-proxies", "TRUSTED_PROXIES", &cfg.TrustedProxies, "comma-separated CIDRs of the load balancers in front of the API, whose X-Forwarded-For names the client, e.g. 10.0.0.0/8", false)
	l.duration("lookup-floor", "LOOKUP_FLOOR", &cfg.LookupFloor, "least time the citizen look-up takes to answer a wrong phone, an unknown code or a refusal, so they cannot be told apart by timing")
	l.str("trace-url", "TRACE_URL", &cfg.TraceURL, "the console's link to a dossier's trace, with {trace_id}, e.g. http://jaeger:16686/trace/{trace_id}", false)
	l.duration("drill-step-deadline", "DRILL_STEP_DEADLINE", &cfg.DrillStepDeadline, "dev only: every step is due this long after it is sent, for lateness drills (0: the legal limits)")
	l.float("worker-rate", "WORKER_RATE", &cfg.WorkerRate, "calls per second allowed to each agency's task queue")
	return l
}

// Load parses args, filling anything not given on the command line from the
// environment. A bad value is reported with its flag and what was expected.
func (l *Loader) Load(args []string, getenv func(string) string) error {
	if err := l.fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, f := range l.fields {
		if given[f.name] {
			continue
		}
		v, ok, err := lookupEnv(f, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := f.set(v); err != nil {
			errs = append(errs, fmt.Errorf("--%s (from %s): %w", f.name, envName(f), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return l.cfg.Validate()
}

func envName(f field) string { return "LIENTHONG_" + f.env }

func lookupEnv(f field, getenv func(string) string) (string, bool, error) {
	if v := getenv(envName(f)); v != "" {
		return v, true, nil
	}
	if f.name == "database-url" {
		if v := getenv("DATABASE_URL"); v != "" {
			return v, true, nil
		}
	}
	if f.secret {
		if path := getenv(envName(f) + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", false, fmt.Errorf("--%s (from %s_FILE): reading %s: %w", f.name, envName(f), path, err)
			}
			return strings.TrimSpace(string(b)), true, nil
		}
	}
	return "", false, nil
}

// Fields lists every setting, for docs and for the deploy drift test.
func (l *Loader) Fields() []struct{ Flag, Env, Usage, Default string } {
	out := make([]struct{ Flag, Env, Usage, Default string }, 0, len(l.fields))
	for _, f := range l.fields {
		d := f.get()
		if f.secret && d != "" {
			d = "(set)"
		}
		out = append(out, struct{ Flag, Env, Usage, Default string }{f.name, envName(f), f.usage, d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Flag < out[j].Flag })
	return out
}

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate checks every value; errors name the flag and what is expected.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flagName}, args...)...))
	}
	oneOf := func(flagName, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(flagName, "got %q, expected one of %s", v, strings.Join(allowed, ", "))
	}
	hostPort := func(flagName, v string) {
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			bad(flagName, "got %q, expected host:port", v)
			return
		}
		_ = host
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad(flagName, "got %q, expected a port from 0 to 65535", v)
		}
	}
	portNum := func(flagName string, p int, allowZero bool) {
		if p < 0 || p > 65535 || (p == 0 && !allowZero) {
			bad(flagName, "got %d, expected a port from 1 to 65535", p)
		}
	}

	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	oneOf("log-level", c.LogLevel, "debug", "info", "warn", "error")
	oneOf("log-format", c.LogFormat, "text", "json")
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("database-url", "expected a postgres:// URL")
		}
	}
	if c.TemporalDBURL != "" {
		if u, err := url.Parse(c.TemporalDBURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("temporal-db-url", "expected a postgres:// URL")
		}
	}
	hostPort("temporal-address", c.TemporalAddress)
	if c.TemporalNamespace == "" {
		bad("temporal-namespace", "must not be empty")
	}
	portNum("temporal-port", c.TemporalPort, false)
	portNum("temporal-ui-port", c.TemporalUIPort, true)
	portNum("temporal-metrics-port", c.TemporalMetricsPort, true)
	oneOf("db", c.TemporalDB, "sqlite", "memory", "postgres")
	for _, d := range []struct{ name, v string }{{"temporal-db-name", c.TemporalDBName}, {"temporal-visibility-db-name", c.TemporalVisibilityDBName}} {
		if !dbName.MatchString(d.v) {
			bad(d.name, "got %q, expected a database name of letters, digits and underscores", d.v)
		}
	}
	if c.TemporalDBName == c.TemporalVisibilityDBName {
		bad("temporal-visibility-db-name", "must differ from --temporal-db-name")
	}
	if c.TemporalShards < 1 || c.TemporalShards > 16384 {
		bad("temporal-shards", "got %d, expected 1 to 16384", c.TemporalShards)
	}
	if net.ParseIP(c.ListenIP) == nil {
		bad("listen-ip", "got %q, expected an IP address", c.ListenIP)
	}
	for _, a := range []struct{ name, v string }{
		{"api-grpc-addr", c.APIGRPCAddr}, {"api-http-addr", c.APIHTTPAddr},
		{"worker-http-addr", c.WorkerHTTPAddr}, {"agency-http-addr", c.AgencyHTTPAddr},
		{"justice-addr", c.JusticeAddr}, {"police-addr", c.PoliceAddr},
		{"insurance-addr", c.InsuranceAddr}, {"portal-addr", c.PortalAddr},
		{"sms-addr", c.SMSAddr}, {"smtp-addr", c.SMTPAddr},
		{"callback-addr", c.CallbackAddr},
	} {
		hostPort(a.name, a.v)
	}
	oneOf("name", c.AgencyName, "justice", "police", "insurance", "portal", "sms", "mail", "all")
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		bad("mail-from", "got %q, expected an e-mail address such as no-reply@example.gov.vn", c.MailFrom)
	}
	if c.NotifyMaxBackoff < time.Second {
		bad("notify-max-backoff", "got %s, expected at least 1s", c.NotifyMaxBackoff)
	}
	oneOf("agency-mode", c.AgencyMode, "auto", "manual")
	if c.LookupFloor < 100*time.Millisecond || c.LookupFloor > 10*time.Second {
		bad("lookup-floor", "got %s, expected 100ms to 10s: longer than the slowest failed look-up", c.LookupFloor)
	}
	if c.AgencyMinDelay < 0 {
		bad("agency-min-delay", "got %s, expected zero or more", c.AgencyMinDelay)
	}
	if c.AgencyMaxDelay < c.AgencyMinDelay {
		bad("agency-max-delay", "got %s, expected at least --agency-min-delay (%s)", c.AgencyMaxDelay, c.AgencyMinDelay)
	}
	if c.SeedPeople < 10000 || c.SeedPeople > 5_000_000 {
		bad("seed-people", "got %d, expected 10000 to 5000000", c.SeedPeople)
	}
	if c.CodecKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.CodecKey); err != nil || len(k) != 32 {
			bad("codec-key", "expected base64 of exactly 32 bytes")
		}
	}
	for i, k := range splitList(c.CodecOldKeys) {
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
			bad("codec-old-keys", "key %d: expected base64 of exactly 32 bytes", i+1)
		}
	}
	if c.CodecOldKeys != "" && c.CodecKey == "" {
		bad("codec-old-keys", "needs --codec-key, the key that encrypts")
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("otlp-endpoint", "got %q, expected a URL such as http://otel-collector:4317", c.OTLPEndpoint)
		}
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		bad("trusted-proxies", "%v", err)
	}
	if c.TraceURL != "" {
		if u, err := url.Parse(strings.ReplaceAll(c.TraceURL, "{trace_id}", "0")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(c.TraceURL, "{trace_id}") {
			bad("trace-url", "got %q, expected an http(s) URL with {trace_id} in it, e.g. http://jaeger:16686/trace/{trace_id}", c.TraceURL)
		}
	}
	for _, o := range splitList(c.CodecCORSOrigins) {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("codec-cors-origins", "got %q, expected an origin such as https://temporal.example.gov.vn", o)
		}
	}
	if c.TokenKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.TokenKey); err != nil || len(k) < 32 {
			bad("token-key", "expected base64 of at least 32 bytes")
		}
	}
	if c.SessionSecret != "" {
		if k, err := base64.StdEncoding.DecodeString(c.SessionSecret); err != nil || len(k) < 32 {
			bad("session-secret", "expected base64 of at least 32 bytes")
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			bad("public-url", "got %q, expected the console's origin, such as https://lienthong.example.gov.vn", c.PublicURL)
		}
	}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("oidc-issuer", "got %q, expected the provider's issuer URL, such as https://sso.example.gov.vn/realms/lienthong", c.OIDCIssuer)
		}
		if c.OIDCClientID == "" {
			bad("oidc-client-id", "required with --oidc-issuer")
		}
		for _, f := range []struct{ name, v string }{{"oidc-role-claim", c.OIDCRoleClaim}, {"oidc-commune-claim", c.OIDCCommuneClaim},
			{"oidc-province-claim", c.OIDCProvinceClaim}, {"oidc-agency-claim", c.OIDCAgencyClaim}} {
			if strings.TrimSpace(f.v) == "" {
				bad(f.name, "must not be empty with --oidc-issuer")
			}
		}
	}
	if c.WorkerRate <= 0 {
		bad("worker-rate", "got %g, expected more than 0", c.WorkerRate)
	}
	c.validateTLS(bad)
	return errors.Join(errs...)
}

// AgencyPlaceholder stands for each agency's name in --tls-cert-file and
// --tls-key-file when one agency process runs several.
const AgencyPlaceholder = "{agency}"

func (c *Config) validateTLS(bad func(flagName, format string, args ...any)) {
	pair := func(certFlag, cert, keyFlag, key string) {
		switch {
		case cert != "" && key == "":
			bad(keyFlag, "required with --%s", certFlag)
		case cert == "" && key != "":
			bad(certFlag, "required with --%s", keyFlag)
		}
	}
	pair("tls-cert-file", c.TLSCertFile, "tls-key-file", c.TLSKeyFile)
	pair("http-tls-cert-file", c.HTTPTLSCertFile, "http-tls-key-file", c.HTTPTLSKeyFile)
	pair("temporal-tls-cert-file", c.TemporalTLSCertFile, "temporal-tls-key-file", c.TemporalTLSKeyFile)
	if c.TLSCertFile != "" && c.TLSCAFile == "" {
		bad("tls-ca-file", "required with --tls-cert-file: every hop is mutual, and peers are verified against this CA")
	}
	if strings.Contains(c.TLSCertFile, AgencyPlaceholder) != strings.Contains(c.TLSKeyFile, AgencyPlaceholder) {
		bad("tls-key-file", "%s must appear in both --tls-cert-file and --tls-key-file, or in neither", AgencyPlaceholder)
	}
	for _, f := range []struct{ name, v string }{
		{"tls-ca-file", c.TLSCAFile}, {"http-tls-cert-file", c.HTTPTLSCertFile}, {"http-tls-key-file", c.HTTPTLSKeyFile},
		{"temporal-tls-ca-file", c.TemporalTLSCAFile}, {"temporal-tls-cert-file", c.TemporalTLSCertFile}, {"temporal-tls-key-file", c.TemporalTLSKeyFile},
	} {
		if strings.Contains(f.v, AgencyPlaceholder) {
			bad(f.name, "%s is understood only in --tls-cert-file and --tls-key-file", AgencyPlaceholder)
		}
	}
	if c.InsecurePlaintext && c.TLSCertFile != "" {
		bad("insecure-plaintext", "contradicts --tls-cert-file: choose TLS or plaintext")
	}
}

// TLSConfigured says this process has a certificate of its own.
func (c *Config) TLSConfigured() bool { return c.TLSCertFile != "" }

// TemporalTLSEnabled says the Temporal frontend is reached over TLS.
func (c *Config) TemporalTLSEnabled() bool {
	return c.TemporalTLS || c.TemporalTLSCAFile != "" || c.TemporalTLSCertFile != "" || c.TemporalTLSServerName != ""
}

// RequireTransport is for the parts outside dev: they run over TLS unless
// --insecure-plaintext says otherwise, out loud.
func (c *Config) RequireTransport() error {
	if c.TLSConfigured() || c.InsecurePlaintext {
		return nil
	}
	return errors.New("--tls-cert-file, --tls-key-file and --tls-ca-file (or LIENTHONG_TLS_CERT_FILE, ..._KEY_FILE, ..._CA_FILE): required outside dev, " +
		"since every hop between the engine and the agencies is mutual TLS (docs/deploy.md); " +
		"--insecure-plaintext runs without TLS, on API keys and tokens alone, for a trusted test network only")
}

// RequireDatabase is for the parts that never start a private PostgreSQL.
func (c *Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("--database-url (or DATABASE_URL / LIENTHONG_DATABASE_URL): required, e.g. postgres://user@host:5432/lienthong")
	}
	return nil
}

// RequireSecrets is for parts outside dev, where keys are never generated.
func (c *Config) RequireSecrets() error {
	var errs []error
	if c.CodecKey == "" {
		errs = append(errs, errors.New("--codec-key (or LIENTHONG_CODEC_KEY / LIENTHONG_CODEC_KEY_FILE): required outside dev, base64 of 32 bytes"))
	}
	if c.TokenKey == "" {
		errs = append(errs, errors.New("--token-key (or LIENTHONG_TOKEN_KEY / LIENTHONG_TOKEN_KEY_FILE): required outside dev, base64 of at least 32 bytes"))
	}
	return errors.Join(errs...)
}

// CodecKeyBytes decodes the validated codec key.
func (c *Config) CodecKeyBytes() []byte {
	k, _ := base64.StdEncoding.DecodeString(c.CodecKey)
	return k
}

// CodecKeys decodes the validated codec keys, the encrypting one first.
func (c *Config) CodecKeys() [][]byte {
	keys := [][]byte{c.CodecKeyBytes()}
	for _, k := range splitList(c.CodecOldKeys) {
		b, _ := base64.StdEncoding.DecodeString(k)
		keys = append(keys, b)
	}
	return keys
}

// CORSOrigins lists the validated codec endpoint origins.
func (c *Config) CORSOrigins() []string {
	out := splitList(c.CodecCORSOrigins)
	for i, o := range out {
		out[i] = strings.TrimSuffix(o, "/")
	}
	return out
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// SessionSecretBytes decodes the validated session secret; nil when unset.
func (c *Config) SessionSecretBytes() []byte {
	if c.SessionSecret == "" {
		return nil
	}
	k, _ := base64.StdEncoding.DecodeString(c.SessionSecret)
	return k
}

// RequireOIDC is for the api command with a provider: what sign-in needs
// outside dev, where nothing is generated or guessed.
func (c *Config) RequireOIDC() error {
	var errs []error
	if c.SessionSecret == "" {
		errs = append(errs, errors.New("--session-secret (or LIENTHONG_SESSION_SECRET / LIENTHONG_SESSION_SECRET_FILE): required with --oidc-issuer, base64 of at least 32 bytes, the same on every API replica"))
	}
	if c.OIDCClientSecret == "" {
		errs = append(errs, errors.New("--oidc-client-secret (or LIENTHONG_OIDC_CLIENT_SECRET / LIENTHONG_OIDC_CLIENT_SECRET_FILE): required with --oidc-issuer"))
	}
	if c.PublicURL == "" {
		errs = append(errs, errors.New("--public-url: required with --oidc-issuer, the console's address, e.g. https://lienthong.example.gov.vn"))
	}
	for _, u := range []struct{ name, v string }{{"oidc-issuer", c.OIDCIssuer}, {"public-url", c.PublicURL}} {
		if p, err := url.Parse(u.v); err == nil && p.Scheme == "http" && !loopbackHost(p.Hostname()) {
			errs = append(errs, fmt.Errorf("--%s: got %q; outside this machine, sign-in goes over https", u.name, u.v))
		}
	}
	return errors.Join(errs...)
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// TokenKeyBytes decodes the validated token key.
func (c *Config) TokenKeyBytes() []byte {
	k, _ := base64.StdEncoding.DecodeString(c.TokenKey)
	return k
}

func (l *Loader) add(f field, def string) {
	l.fields = append(l.fields, f)
	l.fs.Func(f.name, f.usage+" (env "+envName(f)+")", f.set)
	_ = def
}

func (l *Loader) str(name, env string, p *string, usage string, secret bool) {
	l.add(field{name: name, env: env, usage: usage, secret: secret,
		set: func(s string) error { *p = s; return nil },
		get: func() string { return *p }}, *p)
}

func (l *Loader) boolean(name, env string, p *bool, usage string) {
	l.fs.BoolVar(p, name, *p, usage+" (env LIENTHONG_"+env+")")
	l.fields = append(l.fields, field{name: name, env: env, usage: usage,
		set: func(s string) error {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("got %q, expected true or false", s)
			}
			*p = v
			return nil
		},
		get: func() string { return strconv.FormatBool(*p) }})
}

func (l *Loader) integer(name, env string, p *int, usage string) {
	l.add(field{name: name, env: env, usage: usage,
		set: func(s string) error {
			v, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("got %q, expected a whole number", s)
			}
			*p = v
			return nil
		},
		get: func() string { return strconv.Itoa(*p) }}, "")
}

func (l *Loader) int64(name, env string, p *int64, usage string) {
	l.add(field{name: name, env: env, usage: usage,
		set: func(s string) error {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("got %q, expected a whole number", s)
			}
			*p = v
			return nil
		},
		get: func() string { return strconv.FormatInt(*p, 10) }}, "")
}

func (l *Loader) float(name, env string, p *float64, usage string) {
	l.add(field{name: name, env: env, usage: usage,
		set: func(s string) error {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("got %q, expected a number", s)
			}
			*p = v
			return nil
		},
		get: func() string { return strconv.FormatFloat(*p, 'g', -1, 64) }}, "")
}

func (l *Loader) duration(name, env string, p *time.Duration, usage string) {
	l.add(field{name: name, env: env, usage: usage,
		set: func(s string) error {
			v, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("got %q, expected a duration such as 500ms or 2s", s)
			}
			*p = v
			return nil
		},
		get: func() string { return p.String() }}, "")
}

// TrustedProxyPrefixes parses --trusted-proxies.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitList(c.TrustedProxies) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("got %q, expected a CIDR such as 10.0.0.0/8", p)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}
