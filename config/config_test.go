package config_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/config"
)

// commands stands for lienthong's: each declares only the groups it reads.
type commands struct {
	Token struct {
		config.Data
		config.Tokens
		config.OIDCClient
		Role string        `help:"clerk, agency, officer, supervisor, citizen or admin"`
		TTL  time.Duration `name:"ttl" default:"24h" help:"how long the token is valid"`
	} `cmd:"" help:"issue an API token"`
	Temporal struct {
		config.Log
		config.Data
		config.Database
		config.Namespace
		config.TLS
		config.Embedded
		config.TemporalServer
	} `cmd:"" help:"run the embedded Temporal server alone"`
	// All takes every setting, as the shared wiring does.
	All struct {
		config.Config
	} `cmd:"" help:"every setting"`
}

// exit is how kong, asked for help, stops the parse in these tests.
type exit int

// parse runs args and env through kong as lienthong does and returns what
// was parsed and what was printed.
func parse(t *testing.T, args []string, env map[string]string) (*commands, string, error) {
	t.Helper()
	var cli commands
	var out bytes.Buffer
	k, err := kong.New(&cli, kong.Name("lienthong"), kong.Writers(&out, &out),
		kong.Exit(func(code int) { panic(exit(code)) }),
		config.Options(func(k string) string { return env[k] }))
	require.NoError(t, err)
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(exit); !ok {
					panic(r)
				}
			}
		}()
		_, err = k.Parse(args)
		return err
	}()
	return &cli, out.String(), err
}

// all parses the command that takes every setting.
func all(t *testing.T, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	cli, _, err := parse(t, append([]string{"all"}, args...), env)
	return cli.All.Config, err
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	t.Run("are valid", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		require.NoError(t, cfg.Validate())
	})
	t.Run("come from the tags", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		require.Equal(t, 4, cfg.TemporalShards)
		require.Equal(t, "127.0.0.1:7400", cfg.APIGRPCAddr)
		require.Equal(t, 300*time.Millisecond, cfg.LookupFloor)
		require.Equal(t, 200.0, cfg.WorkerRate)
		require.True(t, cfg.CodecEndpoint)
		require.Empty(t, cfg.DatabaseURL)
		parsed, err := all(t, nil, nil)
		require.NoError(t, err)
		require.Equal(t, cfg, parsed)
	})
}

func TestHelpShowsOnlyTheCommandsSettingsWithDefaults(t *testing.T) {
	t.Parallel()
	_, out, _ := parse(t, []string{"token", "-h"}, nil)
	out = strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"--data-dir=DIR",
		"(env LIENTHONG_DATA_DIR; default: .lienthong)",
		"(env LIENTHONG_TOKEN_KEY or LIENTHONG_TOKEN_KEY_FILE; default: generated under dev",
		"--oidc-issuer=URL",
		"how long the token is valid (default: 24h)",
	} {
		require.Contains(t, out, want)
	}
	for _, not := range []string{"--seed-people", "--temporal-shards", "--log-level", "--database-url"} {
		require.NotContains(t, out, not)
	}

	_, out, _ = parse(t, []string{"temporal", "--help"}, nil)
	out = strings.Join(strings.Fields(out), " ")
	require.Contains(t, out, "(env LIENTHONG_TEMPORAL_SHARDS; default: 4)")
	require.Contains(t, out, "(env LIENTHONG_DATABASE_URL or DATABASE_URL or LIENTHONG_DATABASE_URL_FILE; default: a private PostgreSQL under dev)")
	require.Contains(t, out, "--insecure-plaintext")
	require.Contains(t, out, "(env LIENTHONG_INSECURE_PLAINTEXT; default: false)")
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("a bad value for a setting the command does not declare is no matter", func(t *testing.T) {
		t.Parallel()
		cli, _, err := parse(t, []string{"token", "--role", "clerk"}, map[string]string{
			"LIENTHONG_SEED_PEOPLE": "many", "LIENTHONG_TEMPORAL_SHARDS": "0", "LIENTHONG_TOKEN_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})
		require.NoError(t, err)
		require.Len(t, cli.Token.TokenKeyBytes(), 32)
	})
	t.Run("the command that declares it stops, naming the flag and the variable", func(t *testing.T) {
		t.Parallel()
		_, _, err := parse(t, []string{"temporal"}, map[string]string{"LIENTHONG_TEMPORAL_SHARDS": "many"})
		require.EqualError(t, err, `--temporal-shards: LIENTHONG_TEMPORAL_SHARDS: got "many", expected a whole number`)
		_, _, err = parse(t, []string{"temporal"}, map[string]string{"LIENTHONG_TEMPORAL_SHARDS": "0"})
		require.EqualError(t, err, "--temporal-shards: got 0, expected 1 to 16384")
	})
	t.Run("DATABASE_URL is honoured, after LIENTHONG_DATABASE_URL", func(t *testing.T) {
		t.Parallel()
		cli, _, err := parse(t, []string{"temporal"}, map[string]string{"DATABASE_URL": "postgres://u@h:5432/db"})
		require.NoError(t, err)
		require.Equal(t, "postgres://u@h:5432/db", cli.Temporal.DatabaseURL)
		cli, _, err = parse(t, []string{"temporal"}, map[string]string{"DATABASE_URL": "postgres://u@h:5432/db", "LIENTHONG_DATABASE_URL": "postgres://own@h/lt"})
		require.NoError(t, err)
		require.Equal(t, "postgres://own@h/lt", cli.Temporal.DatabaseURL)
	})
	t.Run("flags win over the environment", func(t *testing.T) {
		t.Parallel()
		cfg, err := all(t, []string{"--temporal-namespace", "flag", "--codec-endpoint=false"},
			map[string]string{"LIENTHONG_TEMPORAL_NAMESPACE": "env", "LIENTHONG_CODEC_ENDPOINT": "true"})
		require.NoError(t, err)
		require.Equal(t, "flag", cfg.TemporalNamespace)
		require.False(t, cfg.CodecEndpoint)
	})
	t.Run("an empty variable is unset", func(t *testing.T) {
		t.Parallel()
		cfg, err := all(t, nil, map[string]string{"LIENTHONG_TEMPORAL_PORT": "", "LIENTHONG_LOG_LEVEL": ""})
		require.NoError(t, err)
		require.Equal(t, 7233, cfg.TemporalPort)
		require.Equal(t, "info", cfg.LogLevel)
	})
	t.Run("secrets from files", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/key"
		key := strings.Repeat("A", 43) + "="
		require.NoError(t, writeFile(path, key+"\n"))
		cfg, err := all(t, nil, map[string]string{"LIENTHONG_CODEC_KEY_FILE": path})
		require.NoError(t, err)
		require.Equal(t, key, cfg.CodecKey)
		require.Len(t, cfg.CodecKeyBytes(), 32)

		require.NoError(t, writeFile(path, "postgres://u@db:5432/lt\n"))
		cli, _, err := parse(t, []string{"temporal"}, map[string]string{"LIENTHONG_DATABASE_URL_FILE": path})
		require.NoError(t, err)
		require.Equal(t, "postgres://u@db:5432/lt", cli.Temporal.DatabaseURL)
	})
	t.Run("a setting that is not a secret is never read from a file", func(t *testing.T) {
		t.Parallel()
		cfg, err := all(t, nil, map[string]string{"LIENTHONG_TEMPORAL_NAMESPACE_FILE": "/nonexistent"})
		require.NoError(t, err)
		require.Equal(t, "lienthong", cfg.TemporalNamespace)
	})
	t.Run("old codec keys from a file follow the current key", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/old"
		cur, old1, old2 := strings.Repeat("A", 43)+"=", strings.Repeat("B", 43)+"=", strings.Repeat("C", 43)+"="
		require.NoError(t, writeFile(path, old1+", "+old2+"\n"))
		cfg, err := all(t, []string{"--codec-key", cur}, map[string]string{"LIENTHONG_CODEC_OLD_KEYS_FILE": path})
		require.NoError(t, err)
		keys := cfg.CodecKeys()
		require.Len(t, keys, 3)
		require.Equal(t, cfg.CodecKeyBytes(), keys[0])
		require.NotEqual(t, keys[1], keys[2])
	})
	t.Run("the codec endpoint is on unless turned off", func(t *testing.T) {
		t.Parallel()
		cfg, err := all(t, nil, map[string]string{"LIENTHONG_CODEC_ENDPOINT": "false", "LIENTHONG_CODEC_CORS_ORIGINS": "https://ui.example/, http://127.0.0.1:8233"})
		require.NoError(t, err)
		require.False(t, cfg.CodecEndpoint)
		require.Equal(t, []string{"https://ui.example", "http://127.0.0.1:8233"}, cfg.CORSOrigins())
	})
}

func TestBadValuesNameTheFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"log level", []string{"--log-level", "loud"}, nil, "--log-level: got \"loud\", expected one of debug, info, warn, error"},
		{"log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"session secret", []string{"--session-secret", "c2hvcnQ="}, nil, "--session-secret: expected base64 of at least 32 bytes"},
		{"public url with a path", []string{"--public-url", "https://x.gov.vn/console"}, nil, "--public-url: got \"https://x.gov.vn/console\", expected the console's origin"},
		{"oidc issuer", []string{"--oidc-issuer", "sso.gov.vn", "--oidc-client-id", "c"}, nil, "--oidc-issuer: got \"sso.gov.vn\""},
		{"oidc client id", []string{"--oidc-issuer", "https://sso.gov.vn"}, nil, "--oidc-client-id: required with --oidc-issuer"},
		{"oidc empty claim", []string{"--oidc-issuer", "https://sso.gov.vn", "--oidc-client-id", "c", "--oidc-commune-claim", " "}, nil, "--oidc-commune-claim: must not be empty"},
		{"database url scheme", []string{"--database-url", "mysql://x"}, nil, "--database-url: expected a postgres:// URL"},
		{"temporal address", []string{"--temporal-address", "nohost"}, nil, "--temporal-address: got \"nohost\", expected host:port"},
		{"temporal port", []string{"--temporal-port", "70000"}, nil, "--temporal-port: got 70000"},
		{"temporal port not a number", []string{"--temporal-port", "abc"}, nil, "--temporal-port: got \"abc\", expected a whole number"},
		{"persistence", []string{"--db", "mongo"}, nil, "--db: got \"mongo\", expected one of sqlite, memory, postgres"},
		{"shards", []string{"--temporal-shards", "0"}, nil, "--temporal-shards: got 0, expected 1 to 16384"},
		{"listen ip", []string{"--listen-ip", "localhost"}, nil, "--listen-ip: got \"localhost\", expected an IP address"},
		{"api address", []string{"--api-grpc-addr", "7400"}, nil, "--api-grpc-addr"},
		{"agency name", []string{"--name", "tax"}, nil, "--name: got \"tax\""},
		{"agency mode", []string{"--agency-mode", "lazy"}, nil, "--agency-mode"},
		{"delays", []string{"--agency-min-delay", "2s", "--agency-max-delay", "1s"}, nil, "--agency-max-delay: got 1s, expected at least --agency-min-delay (2s)"},
		{"duration syntax", []string{"--agency-min-delay", "soon"}, nil, "--agency-min-delay: got \"soon\", expected a duration such as 500ms or 2s"},
		{"boolean syntax", []string{"--demo=maybe"}, nil, "--demo: got \"maybe\", expected true or false"},
		{"population", []string{"--seed-people", "50"}, nil, "--seed-people: got 50, expected 10000 to 5000000"},
		{"codec key", []string{"--codec-key", "c2hvcnQ="}, nil, "--codec-key: expected base64 of exactly 32 bytes"},
		{"old codec key", []string{"--codec-key", strings.Repeat("A", 43) + "=", "--codec-old-keys", strings.Repeat("B", 43) + "=,c2hvcnQ="}, nil, "--codec-old-keys: key 2: expected base64 of exactly 32 bytes"},
		{"old codec keys alone", []string{"--codec-old-keys", strings.Repeat("B", 43) + "="}, nil, "--codec-old-keys: needs --codec-key"},
		{"codec origin", []string{"--codec-cors-origins", "https://ui.example,ui.example"}, nil, "--codec-cors-origins: got \"ui.example\""},
		{"otlp endpoint", []string{"--otlp-endpoint", "collector:4317"}, nil, "--otlp-endpoint: got \"collector:4317\""},
		{"trace url", []string{"--trace-url", "http://jaeger:16686/trace/"}, nil, "--trace-url: got"},
		{"trusted proxies", []string{"--trusted-proxies", "10.0.0.0/8,lb.internal"}, nil, "--trusted-proxies: got \"lb.internal\""},
		{"lookup floor", []string{"--lookup-floor", "10ms"}, nil, "--lookup-floor: got 10ms, expected 100ms to 10s"},
		{"token key", []string{"--token-key", "!!"}, nil, "--token-key"},
		{"worker rate", []string{"--worker-rate", "0"}, nil, "--worker-rate: got 0, expected more than 0"},
		{"resume rate", []string{"--resume-rate", "0"}, nil, "--resume-rate: got 0, expected more than 0"},
		{"retry max", []string{"--retry-max", "0s"}, nil, "--retry-max: got 0s, expected more than 0"},
		{"held max below retry max", []string{"--retry-max", "1h"}, nil, "--held-max: got 30m0s, expected at least --retry-max (1h0m0s)"},
		{"tls key without its certificate", []string{"--tls-key-file", "k.pem", "--tls-ca-file", "ca.pem"}, nil, "--tls-cert-file: required with --tls-key-file"},
		{"tls certificate without a CA", []string{"--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"}, nil, "--tls-ca-file: required with --tls-cert-file"},
		{"http certificate without its key", []string{"--http-tls-cert-file", "c.pem"}, nil, "--http-tls-key-file: required with --http-tls-cert-file"},
		{"temporal key without its certificate", nil, map[string]string{"LIENTHONG_TEMPORAL_TLS_KEY_FILE": "k.pem"}, "--temporal-tls-cert-file: required"},
		{"agency placeholder in one path", []string{"--tls-cert-file", "/tls/{agency}.crt", "--tls-key-file", "/tls/k.pem", "--tls-ca-file", "ca.pem"}, nil, "--tls-key-file: {agency} must appear in both"},
		{"agency placeholder in the CA", []string{"--tls-ca-file", "/tls/{agency}/ca.crt"}, nil, "--tls-ca-file: {agency} is understood only in"},
		{"plaintext and TLS at once", []string{"--insecure-plaintext", "--tls-cert-file", "c.pem", "--tls-key-file", "k.pem", "--tls-ca-file", "ca.pem"}, nil, "--insecure-plaintext: contradicts --tls-cert-file"},
		{"from the environment", nil, map[string]string{"LIENTHONG_TEMPORAL_PORT": "x"}, "--temporal-port: LIENTHONG_TEMPORAL_PORT: got \"x\", expected a whole number"},
		{"secret file missing", nil, map[string]string{"LIENTHONG_CODEC_KEY_FILE": "/nonexistent/key"}, "--codec-key: LIENTHONG_CODEC_KEY_FILE: open /nonexistent/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := all(t, tc.args, tc.env)
			require.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("several bad values are all reported", func(t *testing.T) {
		t.Parallel()
		_, err := all(t, []string{"--log-level", "x", "--db", "y", "--worker-rate", "0"}, nil)
		require.ErrorContains(t, err, "--log-level")
		require.ErrorContains(t, err, "--db")
		require.ErrorContains(t, err, "--worker-rate")
	})
}

func TestRequirements(t *testing.T) {
	t.Parallel()
	t.Run("parts outside dev need a database and secrets", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		require.ErrorContains(t, cfg.RequireDatabase(), "--database-url")
		require.ErrorContains(t, cfg.RequireSecrets(), "--codec-key")
		require.ErrorContains(t, cfg.RequireSecrets(), "--token-key")
	})
	t.Run("parts outside dev need TLS, or plaintext asked for by name", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		require.ErrorContains(t, cfg.RequireTransport(), "--tls-cert-file, --tls-key-file and --tls-ca-file")
		cfg, err := all(t, []string{"--insecure-plaintext"}, nil)
		require.NoError(t, err)
		require.NoError(t, cfg.RequireTransport())
		cfg, err = all(t, nil, map[string]string{"LIENTHONG_TLS_CERT_FILE": "/tls/{agency}.crt", "LIENTHONG_TLS_KEY_FILE": "/tls/{agency}.key", "LIENTHONG_TLS_CA_FILE": "/tls/ca.crt"})
		require.NoError(t, err)
		require.NoError(t, cfg.RequireTransport())
		require.False(t, cfg.TemporalTLSEnabled())
		cfg, err = all(t, []string{"--temporal-tls-server-name", "temporal.internal"}, nil)
		require.NoError(t, err)
		require.True(t, cfg.TemporalTLSEnabled(), "naming what to verify turns TLS on")
	})
	t.Run("sign-in through a provider", func(t *testing.T) {
		t.Parallel()
		secret := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		cfg, err := all(t, []string{"--oidc-issuer", "https://sso.gov.vn/realms/lt", "--oidc-client-id", "c"}, map[string]string{
			"LIENTHONG_SESSION_SECRET": secret, "LIENTHONG_OIDC_CLIENT_SECRET": "s", "LIENTHONG_PUBLIC_URL": "https://lienthong.gov.vn"})
		require.NoError(t, err)
		require.NoError(t, cfg.RequireOIDC())
		require.Len(t, cfg.SessionSecretBytes(), 32)

		cfg.PublicURL = "http://lienthong.gov.vn"
		require.ErrorContains(t, cfg.RequireOIDC(), "--public-url: got \"http://lienthong.gov.vn\"; outside this machine, sign-in goes over https")
		cfg.PublicURL = "http://127.0.0.1:7480"
		require.NoError(t, cfg.RequireOIDC(), "loopback may be plain http")
		cfg.SessionSecret, cfg.OIDCClientSecret = "", ""
		err = cfg.RequireOIDC()
		require.ErrorContains(t, err, "--session-secret")
		require.ErrorContains(t, err, "--oidc-client-secret")
	})
}

func TestFromKeepsTheDefaultsOfWhatACommandDoesNotDeclare(t *testing.T) {
	t.Parallel()
	cli, _, err := parse(t, []string{"temporal", "--temporal-namespace", "ns", "--temporal-shards", "8"},
		map[string]string{"LIENTHONG_WORKER_RATE": "5"})
	require.NoError(t, err)
	cfg := config.From(&cli.Temporal)
	require.Equal(t, "ns", cfg.TemporalNamespace)
	require.Equal(t, 8, cfg.TemporalShards)
	require.Equal(t, 200.0, cfg.WorkerRate, "the temporal command does not read --worker-rate")
	require.Equal(t, "127.0.0.1:7233", cfg.TemporalAddress)
}

func TestSettings(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range config.Settings() {
		require.False(t, seen[s.Flag], "--%s twice", s.Flag)
		seen[s.Flag] = true
		require.True(t, strings.HasPrefix(s.Env(), "LIENTHONG_"), "--%s: %s", s.Flag, s.Env())
		require.NotEmpty(t, s.Help, "--%s", s.Flag)
	}
	require.Len(t, seen, 80)
}
