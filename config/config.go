// Package config owns lienthong's typed configuration: every setting's
// flag, its LIENTHONG_* environment variable, its default, its help and its
// validation, declared once as tags on small group structs that each
// subcommand embeds as it needs them. Secrets can also come from files
// (LIENTHONG_X_FILE), so images never hold them. It must not import any
// other lienthong package.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Config is every setting at once: what the wiring shared by the
// subcommands takes. A subcommand fills the groups it declares and leaves
// the rest at their defaults (see Fill).
type Config struct {
	Log
	Data
	Database
	Temporal
	TemporalTLSOptions
	Embedded
	TemporalServer
	TLS
	HTTPTLS
	API
	Console
	Tracing
	Agencies
	Notify
	MockAgency
	Decider
	Population
	Codec
	CodecServer
	Tokens
	Session
	OIDC
	Worker
	Retry
	DevDemo
	Drill
}

// Defaults returns the configuration of a fresh one-machine install: every
// setting at the default its tag gives.
func Defaults() Config {
	var c Config
	if err := parse(&c, nil, func(string) string { return "" }); err != nil {
		panic(fmt.Sprintf("config: the defaults do not parse: %v", err))
	}
	return c
}

// Validate checks every value; errors name the flag and what is expected.
func (c *Config) Validate() error { return Validate(c) }

// RequireTransport is for the parts outside dev: they run over TLS unless
// --insecure-plaintext says otherwise, out loud.
func (g *TLS) RequireTransport() error {
	if g.TLSConfigured() || g.InsecurePlaintext {
		return nil
	}
	return errors.New("--tls-cert-file, --tls-key-file and --tls-ca-file (or LIENTHONG_TLS_CERT_FILE, ..._KEY_FILE, ..._CA_FILE): required outside dev, " +
		"since every hop between the engine and the agencies is mutual TLS (docs/deploy.md); " +
		"--insecure-plaintext runs without TLS, on API keys and tokens alone, for a trusted test network only")
}

// RequireDatabase is for the parts that never start a private PostgreSQL.
func (g *Database) RequireDatabase() error {
	if g.DatabaseURL == "" {
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
