package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/config"
)

func load(t *testing.T, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	cfg := config.Defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := config.NewLoader(fs, &cfg).Load(args, func(k string) string { return env[k] })
	return cfg, err
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil, nil)
	require.NoError(t, err)
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
		{"temporal port not a number", []string{"--temporal-port", "abc"}, nil, "expected a whole number"},
		{"persistence", []string{"--db", "mongo"}, nil, "--db: got \"mongo\", expected one of sqlite, memory, postgres"},
		{"shards", []string{"--temporal-shards", "0"}, nil, "--temporal-shards"},
		{"listen ip", []string{"--listen-ip", "localhost"}, nil, "--listen-ip: got \"localhost\", expected an IP address"},
		{"api address", []string{"--api-grpc-addr", "7400"}, nil, "--api-grpc-addr"},
		{"agency name", []string{"--name", "tax"}, nil, "--name: got \"tax\""},
		{"agency mode", []string{"--agency-mode", "lazy"}, nil, "--agency-mode"},
		{"delays", []string{"--agency-min-delay", "2s", "--agency-max-delay", "1s"}, nil, "--agency-max-delay: got 1s, expected at least --agency-min-delay (2s)"},
		{"duration syntax", []string{"--agency-min-delay", "soon"}, nil, "expected a duration such as 500ms or 2s"},
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
		{"tls key without its certificate", []string{"--tls-key-file", "k.pem", "--tls-ca-file", "ca.pem"}, nil, "--tls-cert-file: required with --tls-key-file"},
		{"tls certificate without a CA", []string{"--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"}, nil, "--tls-ca-file: required with --tls-cert-file"},
		{"http certificate without its key", []string{"--http-tls-cert-file", "c.pem"}, nil, "--http-tls-key-file: required with --http-tls-cert-file"},
		{"temporal key without its certificate", nil, map[string]string{"LIENTHONG_TEMPORAL_TLS_KEY_FILE": "k.pem"}, "--temporal-tls-cert-file: required"},
		{"agency placeholder in one path", []string{"--tls-cert-file", "/tls/{agency}.crt", "--tls-key-file", "/tls/k.pem", "--tls-ca-file", "ca.pem"}, nil, "--tls-key-file: {agency} must appear in both"},
		{"agency placeholder in the CA", []string{"--tls-ca-file", "/tls/{agency}/ca.crt"}, nil, "--tls-ca-file: {agency} is understood only in"},
		{"plaintext and TLS at once", []string{"--insecure-plaintext", "--tls-cert-file", "c.pem", "--tls-key-file", "k.pem", "--tls-ca-file", "ca.pem"}, nil, "--insecure-plaintext: contradicts --tls-cert-file"},
		{"from the environment", nil, map[string]string{"LIENTHONG_TEMPORAL_PORT": "x"}, "--temporal-port (from LIENTHONG_TEMPORAL_PORT): got \"x\""},
		{"secret file missing", nil, map[string]string{"LIENTHONG_CODEC_KEY_FILE": "/nonexistent/key"}, "--codec-key (from LIENTHONG_CODEC_KEY_FILE): reading /nonexistent/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.args, tc.env)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEnvironmentAndPrecedence(t *testing.T) {
	t.Parallel()
	t.Run("DATABASE_URL is honoured", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(t, nil, map[string]string{"DATABASE_URL": "postgres://u@h:5432/db"})
		require.NoError(t, err)
		require.Equal(t, "postgres://u@h:5432/db", cfg.DatabaseURL)
	})
	t.Run("flags win over the environment", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(t, []string{"--temporal-namespace", "flag"}, map[string]string{"LIENTHONG_TEMPORAL_NAMESPACE": "env"})
		require.NoError(t, err)
		require.Equal(t, "flag", cfg.TemporalNamespace)
	})
	t.Run("secrets from files", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/key"
		key := strings.Repeat("A", 43) + "="
		require.NoError(t, writeFile(path, key+"\n"))
		cfg, err := load(t, nil, map[string]string{"LIENTHONG_CODEC_KEY_FILE": path})
		require.NoError(t, err)
		require.Equal(t, key, cfg.CodecKey)
		require.Len(t, cfg.CodecKeyBytes(), 32)
	})
	t.Run("old codec keys from a file follow the current key", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/old"
		cur, old1, old2 := strings.Repeat("A", 43)+"=", strings.Repeat("B", 43)+"=", strings.Repeat("C", 43)+"="
		require.NoError(t, writeFile(path, old1+", "+old2+"\n"))
		cfg, err := load(t, []string{"--codec-key", cur}, map[string]string{"LIENTHONG_CODEC_OLD_KEYS_FILE": path})
		require.NoError(t, err)
		keys := cfg.CodecKeys()
		require.Len(t, keys, 3)
		require.Equal(t, cfg.CodecKeyBytes(), keys[0])
		require.NotEqual(t, keys[1], keys[2])
	})
	t.Run("the codec endpoint is on unless turned off", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(t, nil, nil)
		require.NoError(t, err)
		require.True(t, cfg.CodecEndpoint)
		cfg, err = load(t, nil, map[string]string{"LIENTHONG_CODEC_ENDPOINT": "false", "LIENTHONG_CODEC_CORS_ORIGINS": "https://ui.example/, http://127.0.0.1:8233"})
		require.NoError(t, err)
		require.False(t, cfg.CodecEndpoint)
		require.Equal(t, []string{"https://ui.example", "http://127.0.0.1:8233"}, cfg.CORSOrigins())
	})
	t.Run("several bad values are all reported", func(t *testing.T) {
		t.Parallel()
		_, err := load(t, []string{"--log-level", "x", "--db", "y"}, nil)
		require.ErrorContains(t, err, "--log-level")
		require.ErrorContains(t, err, "--db")
	})
	t.Run("parts outside dev need a database and secrets", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(t, nil, nil)
		require.NoError(t, err)
		require.ErrorContains(t, cfg.RequireDatabase(), "--database-url")
		require.ErrorContains(t, cfg.RequireSecrets(), "--codec-key")
		require.ErrorContains(t, cfg.RequireSecrets(), "--token-key")
	})
	t.Run("parts outside dev need TLS, or plaintext asked for by name", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(t, nil, nil)
		require.NoError(t, err)
		require.ErrorContains(t, cfg.RequireTransport(), "--tls-cert-file, --tls-key-file and --tls-ca-file")
		cfg, err = load(t, []string{"--insecure-plaintext"}, nil)
		require.NoError(t, err)
		require.NoError(t, cfg.RequireTransport())
		cfg, err = load(t, nil, map[string]string{"LIENTHONG_TLS_CERT_FILE": "/tls/{agency}.crt", "LIENTHONG_TLS_KEY_FILE": "/tls/{agency}.key", "LIENTHONG_TLS_CA_FILE": "/tls/ca.crt"})
		require.NoError(t, err)
		require.NoError(t, cfg.RequireTransport())
		require.False(t, cfg.TemporalTLSEnabled())
		cfg, err = load(t, []string{"--temporal-tls-server-name", "temporal.internal"}, nil)
		require.NoError(t, err)
		require.True(t, cfg.TemporalTLSEnabled(), "naming what to verify turns TLS on")
	})
}

func TestRequireOIDC(t *testing.T) {
	t.Parallel()
	secret := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	cfg, err := load(t, []string{"--oidc-issuer", "https://sso.gov.vn/realms/lt", "--oidc-client-id", "c"}, map[string]string{
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
}
