package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Files name PEM files: a certificate (with any intermediates after it) and
// its private key, which go together, and the certificate authorities to
// trust. A client without Cert presents no certificate; a client without
// CA trusts the system's roots. A server that verifies its clients needs CA.
type Files struct {
	Cert, Key, CA string
}

// IsZero says no file is named.
func (f Files) IsZero() bool { return f == Files{} }

// expiryWarning is how early a certificate about to expire is logged.
const expiryWarning = 14 * 24 * time.Hour

// Source is TLS material read from Files and read again whenever one of
// them changes: every handshake first stats the files (cheap), and reloads
// all of them when any differs, so renewed certificates and a rotated CA
// take effect on the next connection, without a restart. New files that do
// not make a valid set (say the certificate was replaced and its key not
// yet) are logged and ignored, and the last good set stays in use until a
// later change makes them valid.
type Source struct {
	files Files
	log   *slog.Logger

	mu     sync.Mutex
	stamps []os.FileInfo
	// rejected are the stamps of files that failed to load, so each bad
	// version is logged once, not on every handshake.
	rejected []os.FileInfo
	m        *material
}

// material is one consistent set of loaded files.
type material struct {
	cert *tls.Certificate // nil without Files.Cert
	leaf *x509.Certificate
	// id is what the certificate names; zero when it names no identity.
	id    Identity
	roots *x509.CertPool // nil: the system's roots
}

// Load reads files once, failing with the file at fault, and returns a
// source that reloads them as they change. No files at all make a client
// with no certificate that trusts the system's roots. logger receives
// reloads and rejected files; nil discards them.
func Load(files Files, logger *slog.Logger) (*Source, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if (files.Cert == "") != (files.Key == "") {
		return nil, errors.New("a certificate file and its key file go together: name both or neither")
	}
	s := &Source{files: files, log: logger}
	stamps, err := s.stat()
	if err != nil {
		return nil, err
	}
	m, err := s.read()
	if err != nil {
		return nil, err
	}
	s.stamps, s.m = stamps, m
	s.warnExpiry(m)
	return s, nil
}

// Files are the files the source reads.
func (s *Source) Files() Files { return s.files }

// Identity is what the current certificate names; zero when it names none
// or there is no certificate.
func (s *Source) Identity() Identity { return s.current().id }

// Leaf is the current certificate, nil without one.
func (s *Source) Leaf() *x509.Certificate { return s.current().leaf }

// HasRoots says the source names its own CA rather than the system's.
func (s *Source) HasRoots() bool { return s.current().roots != nil }

func (s *Source) paths() []string {
	var out []string
	for _, p := range []string{s.files.Cert, s.files.Key, s.files.CA} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Source) stat() ([]os.FileInfo, error) {
	var out []os.FileInfo
	for _, p := range s.paths() {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	return out, nil
}

func sameStamps(a, b []os.FileInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !os.SameFile(a[i], b[i]) || !a[i].ModTime().Equal(b[i].ModTime()) || a[i].Size() != b[i].Size() {
			return false
		}
	}
	return true
}

// current is the material to use now, reloaded first if a file changed.
func (s *Source) current() *material {
	s.mu.Lock()
	defer s.mu.Unlock()
	stamps, err := s.stat()
	if err != nil {
		// A file being replaced may be missing for an instant: keep the last good set.
		return s.m
	}
	if sameStamps(stamps, s.stamps) || sameStamps(stamps, s.rejected) {
		return s.m
	}
	m, err := s.read()
	if err != nil {
		s.rejected = stamps
		s.log.Warn("new TLS files rejected; still using the previous ones", "cert", s.files.Cert, "error", err)
		return s.m
	}
	s.stamps, s.rejected, s.m = stamps, nil, m
	attrs := []any{"cert", s.files.Cert, "ca", s.files.CA}
	if m.leaf != nil {
		attrs = append(attrs, "serial", m.leaf.SerialNumber.String(), "not_after", m.leaf.NotAfter)
	}
	s.log.Info("TLS files reloaded", attrs...)
	s.warnExpiry(m)
	return m
}

func (s *Source) warnExpiry(m *material) {
	if m.leaf != nil && time.Until(m.leaf.NotAfter) < expiryWarning {
		s.log.Warn("TLS certificate expires soon: renew it", "cert", s.files.Cert, "not_after", m.leaf.NotAfter)
	}
}

// read loads and checks every file: the key matches the certificate, the
// certificate is valid now, and, with a CA, chains to it.
func (s *Source) read() (*material, error) {
	m := &material{}
	if s.files.CA != "" {
		b, err := os.ReadFile(s.files.CA)
		if err != nil {
			return nil, err
		}
		m.roots = x509.NewCertPool()
		if !m.roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", s.files.CA)
		}
	}
	if s.files.Cert == "" {
		return m, nil
	}
	cert, err := tls.LoadX509KeyPair(s.files.Cert, s.files.Key)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", s.files.Cert, s.files.Key, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", s.files.Cert, err)
		}
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%s: valid from %s to %s, not now", s.files.Cert, leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	if m.roots != nil {
		opts := x509.VerifyOptions{Roots: m.roots, Intermediates: intermediates(cert.Certificate[1:]), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		if _, err := leaf.Verify(opts); err != nil {
			return nil, fmt.Errorf("%s is not issued by the CA in %s: %w", s.files.Cert, s.files.CA, err)
		}
	}
	m.cert, m.leaf = &cert, leaf
	if id, err := IdentityOf(leaf); err == nil {
		m.id = id
	}
	return m, nil
}

func intermediates(ders [][]byte) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, der := range ders {
		if c, err := x509.ParseCertificate(der); err == nil {
			pool.AddCert(c)
		}
	}
	return pool
}

// cipherSuites are TLS 1.2's forward-secret AEAD suites; TLS 1.3 chooses
// its own, all of them sound.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig is a listener's TLS configuration: TLS 1.2 or later, the
// current certificate, and clients verified against the current CA as
// clientAuth says (tls.RequireAndVerifyClientCert on a mutual hop).
// nextProtos are the ALPN protocols served: "h2" for gRPC, "h2" and
// "http/1.1" for HTTP.
func (s *Source) ServerConfig(clientAuth tls.ClientAuthType, nextProtos ...string) (*tls.Config, error) {
	m := s.current()
	if m.cert == nil {
		return nil, errors.New("a server needs a certificate and its key")
	}
	if clientAuth >= tls.VerifyClientCertIfGiven && m.roots == nil {
		// Without a CA, Go would verify clients against the system's roots:
		// any publicly issued certificate would do.
		return nil, errors.New("a server that verifies client certificates needs the CA that issues them")
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: nextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			m := s.current()
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				CipherSuites: cipherSuites,
				Certificates: []tls.Certificate{*m.cert},
				ClientAuth:   clientAuth,
				ClientCAs:    m.roots,
				NextProtos:   nextProtos,
			}, nil
		},
	}, nil
}

// ClientConfig is a client's TLS configuration for a server reached as
// serverName (a DNS name or an IP address its certificate must carry): TLS
// 1.2 or later, the current certificate if any, and the server verified
// against the current CA, or the system's roots without one. When want is
// not zero the server's certificate must also name that identity, so, say,
// Police's certificate cannot answer for Justice even where both share a
// host name.
func (s *Source) ClientConfig(serverName string, want Identity) (*tls.Config, error) {
	if serverName == "" {
		return nil, errors.New("a TLS client needs the server's name to verify it")
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		ServerName:   serverName,
		// The standard verification would pin the CA read when the
		// configuration was made; VerifyConnection does the same checks
		// (chain, name, key usage) against the CA as it is at each
		// handshake, and checks the identity.
		InsecureSkipVerify: true, //nolint:gosec // G402: verified in VerifyConnection, below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return s.current().verifyServer(cs, serverName, want)
		},
	}
	if s.files.Cert != "" {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.current().cert, nil
		}
	}
	return cfg, nil
}

// SelfClientConfig is the configuration of a client of this process's own
// listener (the REST gateway calling its gRPC port over loopback): the
// server must present exactly this source's current certificate, whatever
// names it carries. It presents no certificate.
func (s *Source) SelfClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		// Pinning the certificate is stricter than a CA and a name.
		InsecureSkipVerify: true, //nolint:gosec // G402: verified in VerifyConnection, below
		VerifyConnection: func(cs tls.ConnectionState) error {
			m := s.current()
			if len(cs.PeerCertificates) == 0 || m.leaf == nil || !bytes.Equal(cs.PeerCertificates[0].Raw, m.leaf.Raw) {
				return errors.New("tls: the server is not this process")
			}
			return nil
		},
	}
}

func (m *material) verifyServer(cs tls.ConnectionState, serverName string, want Identity) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	pool := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		pool.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: m.roots, DNSName: serverName, Intermediates: pool,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("tls: verifying the server's certificate: %w", err)
	}
	if want.IsZero() {
		return nil
	}
	got, err := IdentityOf(leaf)
	if err != nil {
		return fmt.Errorf("tls: the server at %s must be %s: %w", serverName, want.URI(), err)
	}
	if got != want {
		return fmt.Errorf("tls: the server at %s presented %s's certificate, expected %s", serverName, got, want)
	}
	return nil
}
