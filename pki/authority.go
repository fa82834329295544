package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Lifetimes of what an Authority issues. A leaf is renewed when less than
// RenewBefore of it is left; the CA is replaced, and every leaf with it,
// when less than a leaf's lifetime of it is left.
const (
	CALifetime   = 10 * 365 * 24 * time.Hour
	LeafLifetime = 397 * 24 * time.Hour
	RenewBefore  = 30 * 24 * time.Hour
)

// CAFileName and CAKeyFileName are the authority's files in its directory.
const (
	CAFileName    = "ca.crt"
	CAKeyFileName = "ca.key"
)

// Authority is a local certificate authority kept in a directory: an ECDSA
// P-256 key and a self-signed CA certificate, made on first use and reused
// after, that issues leaf certificates beside them (name.crt, name.key).
// It is what the dev stack and the tests use; production certificates come
// from the operator's own CA (docs/deploy.md).
type Authority struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// renewed says the CA was made anew, so every leaf must be reissued.
	renewed bool
}

// OpenAuthority opens the authority in dir, making the directory, the key
// and the CA certificate when missing or about to expire.
func OpenAuthority(dir string) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	a := &Authority{dir: dir}
	cert, key, err := readPair(a.CAFile(), filepath.Join(dir, CAKeyFileName))
	if err == nil && cert.IsCA && time.Until(cert.NotAfter) > LeafLifetime {
		a.cert, a.key = cert, key
		return a, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("certificate authority in %s: %w (remove the directory to start afresh)", dir, err)
	}
	if a.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "lienthong local CA", Organization: []string{"lienthong (local)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &a.key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("making the CA certificate: %w", err)
	}
	if a.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	if err := writePair(a.CAFile(), filepath.Join(dir, CAKeyFileName), der, a.key); err != nil {
		return nil, err
	}
	a.renewed = true
	return a, nil
}

// CAFile is the CA certificate's file, for Files.CA.
func (a *Authority) CAFile() string { return filepath.Join(a.dir, CAFileName) }

// Dir is the authority's directory.
func (a *Authority) Dir() string { return a.dir }

// Issue returns the files of a certificate for id, valid for both serving
// and calling, under name in the authority's directory. An existing one is
// reused while it was issued by this CA, names id and every host, and has
// more than RenewBefore left; otherwise a new key and certificate replace
// it. hosts are DNS names and IP addresses.
func (a *Authority) Issue(name string, id Identity, hosts []string) (Files, error) {
	if err := id.Check(); err != nil {
		return Files{}, err
	}
	if !namePattern.MatchString(name) || name == "ca" {
		return Files{}, fmt.Errorf("certificate name %q: lower-case letters, digits and dashes, not \"ca\"", name)
	}
	files := Files{Cert: filepath.Join(a.dir, name+".crt"), Key: filepath.Join(a.dir, name+".key"), CA: a.CAFile()}
	if !a.renewed && a.reusable(files, id, hosts) {
		return files, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: id.String(), Organization: []string{"lienthong (local)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(LeafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id.URI()},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return Files{}, fmt.Errorf("issuing %s's certificate: %w", id, err)
	}
	if err := writePair(files.Cert, files.Key, der, key); err != nil {
		return Files{}, err
	}
	return files, nil
}

func (a *Authority) reusable(files Files, id Identity, hosts []string) bool {
	cert, _, err := readPair(files.Cert, files.Key)
	if err != nil || time.Until(cert.NotAfter) < RenewBefore {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return false
	}
	if got, err := IdentityOf(cert); err != nil || got != id {
		return false
	}
	for _, h := range hosts {
		if h != "" && cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// readPair reads a certificate and its ECDSA key.
func readPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if _, err := os.Stat(certFile); err != nil {
		return nil, nil, err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyFile)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// writePair writes a certificate (world-readable) and its key (owner
// only), each to a temporary file renamed into place, so a process
// reloading them never reads half a file.
func writePair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
