package stack

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
	"github.com/lienthong/lienthong/telemetry"
)

// Transport is how one process secures its connections (docs/security.md,
// "Transport"): the engine's certificate (api, worker, dev) for its
// listeners and its calls to the agencies, each agency's own (agency, dev),
// and what the API's HTTP listener serves. Every field nil, or a nil
// *Transport, is plaintext with API keys and tokens, which only
// --insecure-plaintext asks for.
type Transport struct {
	engine   *pki.Source
	agencies map[string]*pki.Source
	// http serves the API's HTTP listener; nil serves plain HTTP.
	http *pki.Source
}

// plaintext says the process runs without TLS.
func (tr *Transport) plaintext() bool {
	return tr == nil || (tr.engine == nil && len(tr.agencies) == 0)
}

func warnPlaintext(logger *slog.Logger) {
	logger.Warn("running WITHOUT TLS (--insecure-plaintext): every connection is plaintext and parts trust API keys and tokens alone; use this on a trusted test network only")
}

// EngineTransport is the api's and the worker's: the engine's certificate,
// which must name lienthong://engine, and the HTTP listener's.
func EngineTransport(cfg config.Config, logger *slog.Logger) (*Transport, error) {
	if cfg.InsecurePlaintext {
		warnPlaintext(logger)
		return &Transport{}, nil
	}
	if err := cfg.RequireTransport(); err != nil {
		return nil, err
	}
	if strings.Contains(cfg.TLSCertFile, config.AgencyPlaceholder) {
		return nil, fmt.Errorf("--tls-cert-file %s: %s is for agency processes; the engine has one certificate", cfg.TLSCertFile, config.AgencyPlaceholder)
	}
	engine, err := loadSource(cfg, cfg.TLSCertFile, cfg.TLSKeyFile, pki.Engine(), logger)
	if err != nil {
		return nil, err
	}
	tr := &Transport{engine: engine, http: engine}
	if cfg.HTTPTLSCertFile != "" {
		if tr.http, err = pki.Load(pki.Files{Cert: cfg.HTTPTLSCertFile, Key: cfg.HTTPTLSKeyFile}, tlsLogger(logger)); err != nil {
			return nil, fmt.Errorf("--http-tls-cert-file, --http-tls-key-file: %w", err)
		}
	}
	return tr, nil
}

// agencyTransport is an agency process's: each agency it serves has its
// own certificate, naming lienthong://agency/<name>; with several,
// config.AgencyPlaceholder in the paths stands for each name.
func agencyTransport(cfg config.Config, names []string, logger *slog.Logger) (*Transport, error) {
	if cfg.InsecurePlaintext {
		warnPlaintext(logger)
		return &Transport{}, nil
	}
	if err := cfg.RequireTransport(); err != nil {
		return nil, err
	}
	if len(names) > 1 && !strings.Contains(cfg.TLSCertFile, config.AgencyPlaceholder) {
		return nil, fmt.Errorf("--tls-cert-file %s: this process runs %d agencies, each with its own certificate: put %s in the paths, e.g. /tls/%s/tls.crt",
			cfg.TLSCertFile, len(names), config.AgencyPlaceholder, config.AgencyPlaceholder)
	}
	tr := &Transport{agencies: map[string]*pki.Source{}}
	for _, name := range names {
		expand := func(p string) string { return strings.ReplaceAll(p, config.AgencyPlaceholder, name) }
		src, err := loadSource(cfg, expand(cfg.TLSCertFile), expand(cfg.TLSKeyFile), pki.Agency(name), logger)
		if err != nil {
			return nil, err
		}
		tr.agencies[name] = src
	}
	return tr, nil
}

func tlsLogger(logger *slog.Logger) *slog.Logger { return logger.With("component", "tls") }

// loadSource loads a certificate that must name want.
func loadSource(cfg config.Config, cert, key string, want pki.Identity, logger *slog.Logger) (*pki.Source, error) {
	src, err := pki.Load(pki.Files{Cert: cert, Key: key, CA: cfg.TLSCAFile}, tlsLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file, --tls-key-file, --tls-ca-file: %w", err)
	}
	if got := src.Identity(); got != want {
		return nil, fmt.Errorf("--tls-cert-file %s: the certificate names %q; this process needs one naming %s (a URI SAN)", cert, got.String(), want.URI())
	}
	return src, nil
}

// health is the certificate the health and metrics listener serves, nil
// for plain HTTP.
func (tr *Transport) health() *pki.Source {
	if tr.plaintext() {
		return nil
	}
	if tr.engine != nil {
		return tr.engine
	}
	for _, name := range agency.Servers() {
		if src := tr.agencies[name]; src != nil {
			return src
		}
	}
	return nil
}

// DialAgency connects the engine to the agency (or the SMS gateway) name
// at addr. Over TLS it presents the engine's certificate and wants the
// agency's; plaintext, it sends key. sendKey also sends key over TLS: the
// admin key, which the mocks' AdminService wants beside the certificate.
func (tr *Transport) DialAgency(addr, name, key string, sendKey bool, tracing *telemetry.Tracing) (*grpc.ClientConn, error) {
	opts := tracing.DialOptions()
	if tr.plaintext() {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(APIKey(key)))
		return grpc.NewClient(addr, opts...)
	}
	if tr.engine == nil {
		return nil, fmt.Errorf("dialling %s: only the engine calls the agencies, and this process has no engine certificate", name)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	cfg, err := tr.engine.ClientConfig(dialHost(host), pki.Agency(name))
	if err != nil {
		return nil, err
	}
	opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if sendKey {
		opts = append(opts, grpc.WithPerRPCCredentials(APIKey(key)))
	}
	return grpc.NewClient(addr, opts...)
}

// dialHost is how a process reaches a host: a wildcard through loopback.
func dialHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}

// temporalTLS is the Temporal client's TLS configuration, nil for
// plaintext: verified against --temporal-tls-ca-file or the system's roots,
// under --temporal-tls-server-name or the host of --temporal-address.
func temporalTLS(cfg config.Config, logger *slog.Logger) (*tls.Config, error) {
	if !cfg.TemporalTLSEnabled() {
		return nil, nil
	}
	src, err := pki.Load(pki.Files{Cert: cfg.TemporalTLSCertFile, Key: cfg.TemporalTLSKeyFile, CA: cfg.TemporalTLSCAFile}, tlsLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("--temporal-tls-cert-file, --temporal-tls-key-file, --temporal-tls-ca-file: %w", err)
	}
	name := cfg.TemporalTLSServerName
	if name == "" {
		host, _, err := net.SplitHostPort(cfg.TemporalAddress)
		if err != nil {
			return nil, fmt.Errorf("--temporal-address: %w", err)
		}
		name = dialHost(host)
	}
	return src.ClientConfig(name, pki.Identity{})
}

// devCAFile is where dev keeps its CA certificate, for the tools that
// reach a dev stack.
func devCAFile(cfg config.Config) string {
	return filepath.Join(cfg.DataDir, "tls", pki.CAFileName)
}

// APICredentials are how an operator's tool (dossier, stuck, trace,
// loadgen) reaches the API's gRPC port: TLS verified against
// --tls-ca-file, or a dev stack's CA in --data-dir, or else the system's
// roots, with --tls-cert-file presented when named; plaintext only with
// --insecure-plaintext. People's tools bring a token, not a certificate.
func APICredentials(cfg config.Config) (credentials.TransportCredentials, error) {
	if cfg.InsecurePlaintext {
		return insecure.NewCredentials(), nil
	}
	files := pki.Files{CA: cfg.TLSCAFile}
	if files.CA == "" {
		if _, err := os.Stat(devCAFile(cfg)); err == nil {
			files.CA = devCAFile(cfg)
		}
	}
	if cfg.TLSCertFile != "" && !strings.Contains(cfg.TLSCertFile, config.AgencyPlaceholder) {
		files.Cert, files.Key = cfg.TLSCertFile, cfg.TLSKeyFile
	}
	src, err := pki.Load(files, nil)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca-file: %w", err)
	}
	host, _, err := net.SplitHostPort(cfg.APIGRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("--api-grpc-addr: %w", err)
	}
	// With lienthong's own CA the API must also be the engine.
	var want pki.Identity
	if files.CA != "" {
		want = pki.Engine()
	}
	tc, err := src.ClientConfig(dialHost(host), want)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(tc), nil
}

// errDevTLS: dev makes its own certificates.
var errDevTLS = errors.New("--tls-cert-file: dev makes its own CA and certificates in --data-dir/tls; the --tls-* settings are for api, worker and agency")

// devTransport makes, on first start, a local CA and a certificate for the
// engine and for each agency in --data-dir/tls, reuses them afterwards
// (renewing any that is about to expire or misses a host name), and points
// cfg's TLS settings at the engine's, so the tools that read the resolved
// configuration find them. Under --insecure-plaintext it makes nothing.
func devTransport(cfg *config.Config, logger *slog.Logger) (*Transport, error) {
	if cfg.InsecurePlaintext {
		warnPlaintext(logger)
		return &Transport{}, nil
	}
	if cfg.TLSConfigured() || cfg.TLSCAFile != "" {
		return nil, errDevTLS
	}
	engineFiles, agencyFiles, err := IssueLocalCertificates(filepath.Join(cfg.DataDir, "tls"), devHosts(*cfg))
	if err != nil {
		return nil, err
	}
	cfg.TLSCAFile, cfg.TLSCertFile, cfg.TLSKeyFile = engineFiles.CA, engineFiles.Cert, engineFiles.Key
	tr, err := EngineTransport(*cfg, logger)
	if err != nil {
		return nil, err
	}
	agencyCfg := *cfg
	agencyCfg.TLSCertFile, agencyCfg.TLSKeyFile = agencyFiles.Cert, agencyFiles.Key
	agencies, err := agencyTransport(agencyCfg, agency.Servers(), logger)
	if err != nil {
		return nil, err
	}
	tr.agencies = agencies.agencies
	if !devServesHTTPS(*cfg) {
		tr.http = nil
	}
	return tr, nil
}

// IssueLocalCertificates opens (or makes) the local CA in dir and issues,
// or reuses, the engine's certificate and every agency's for hosts. It
// returns the engine's files, and the agencies' with
// config.AgencyPlaceholder standing for each name.
func IssueLocalCertificates(dir string, hosts []string) (engine, agencies pki.Files, err error) {
	authority, err := pki.OpenAuthority(dir)
	if err != nil {
		return engine, agencies, err
	}
	engine, err = authority.Issue("engine", pki.Engine(), append(slices.Clone(hosts), "lienthong-api", "lienthong-worker"))
	if err != nil {
		return engine, agencies, err
	}
	for _, name := range agency.Servers() {
		if _, err := authority.Issue(name, pki.Agency(name), append(slices.Clone(hosts), "lienthong-agency", name)); err != nil {
			return engine, agencies, err
		}
	}
	agencies = pki.Files{Cert: filepath.Join(dir, config.AgencyPlaceholder+".crt"), Key: filepath.Join(dir, config.AgencyPlaceholder+".key"), CA: authority.CAFile()}
	return engine, agencies, nil
}

// devServesHTTPS says whether dev's console and REST listener serve HTTPS:
// with --http-tls-cert-file, or when it listens beyond loopback (then with
// the dev engine certificate, which browsers warn about). On loopback it
// stays plain HTTP, so the browser opens http://127.0.0.1:7480/ without a
// warning; nothing there leaves the machine.
func devServesHTTPS(cfg config.Config) bool {
	if cfg.InsecurePlaintext {
		return false
	}
	return cfg.HTTPTLSCertFile != "" || !loopback(hostOf(cfg.APIHTTPAddr))
}

// devHosts are the names dev's certificates carry: loopback, this
// machine's name, and every host the configured addresses name.
func devHosts(cfg config.Config) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	for _, addr := range []string{net.JoinHostPort(cfg.ListenIP, "0"), cfg.APIGRPCAddr, cfg.APIHTTPAddr, cfg.CallbackAddr,
		cfg.JusticeAddr, cfg.PoliceAddr, cfg.InsuranceAddr, cfg.PortalAddr, cfg.SMSAddr} {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) || slices.Contains(hosts, host) {
			continue
		}
		hosts = append(hosts, host)
	}
	return hosts
}

// httpScheme is how the API's HTTP listener is reached.
func httpScheme(tr *Transport) string {
	if tr == nil || tr.http == nil {
		return "http"
	}
	return "https"
}

// selfClient is an HTTP client for this process's own HTTP listener: one
// that wants exactly the certificate it serves.
func selfClient(tr *Transport) *http.Client {
	if tr == nil || tr.http == nil {
		return http.DefaultClient
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tr.http.SelfClientConfig()}}
}
