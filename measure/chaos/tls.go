package chaos

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/stack"
	"google.golang.org/grpc"
)

// dialAdmins connects to every agency's admin service, as the engine does.
func dialAdmins(a addrs, keys config.Config) (map[string]agencyv1.AdminServiceClient, func(), error) {
	tr, err := stack.EngineTransport(keys, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	out := map[string]agencyv1.AdminServiceClient{}
	var conns []*grpc.ClientConn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}
	for name, addr := range a.agencies() {
		conn, err := tr.DialAgency(addr, name, keys.AgencyAdminKey, true, nil)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, conn)
		out[name] = agencyv1.NewAdminServiceClient(conn)
	}
	return out, closeAll, nil
}

// harnessTLS is how the harnesses' processes run mutual TLS, as a
// deployment does: a CA and the parts' certificates made in one directory,
// the engine's given to api and worker (for the agencies and for
// Temporal), each agency's to the agency process through
// config.AgencyPlaceholder, Temporal's to the temporal process.
type harnessTLS struct {
	engine, agencies, temporal pki.Files
	// client reaches the processes' HTTPS health endpoints.
	client *http.Client
}

func newHarnessTLS(dir string) (harnessTLS, error) {
	hosts := []string{"localhost", "127.0.0.1"}
	engine, agencies, err := stack.IssueLocalCertificates(dir, hosts)
	if err != nil {
		return harnessTLS{}, err
	}
	authority, err := pki.OpenAuthority(dir)
	if err != nil {
		return harnessTLS{}, err
	}
	temporal, err := authority.Issue("temporal", pki.Temporal(), hosts)
	if err != nil {
		return harnessTLS{}, err
	}
	b, err := os.ReadFile(engine.CA)
	if err != nil {
		return harnessTLS{}, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return harnessTLS{engine: engine, agencies: agencies, temporal: temporal, client: client}, nil
}

func tlsEnv(f pki.Files) []string {
	return []string{"LIENTHONG_TLS_CERT_FILE=" + f.Cert, "LIENTHONG_TLS_KEY_FILE=" + f.Key, "LIENTHONG_TLS_CA_FILE=" + f.CA}
}

func (h harnessTLS) engineEnv() []string {
	return append(tlsEnv(h.engine), "LIENTHONG_TEMPORAL_TLS_CERT_FILE="+h.engine.Cert, "LIENTHONG_TEMPORAL_TLS_KEY_FILE="+h.engine.Key,
		"LIENTHONG_TEMPORAL_TLS_CA_FILE="+h.engine.CA)
}
func (h harnessTLS) agencyEnv() []string   { return tlsEnv(h.agencies) }
func (h harnessTLS) temporalEnv() []string { return tlsEnv(h.temporal) }

// config is cfg with the engine's certificate, for the harness's own
// clients of the processes, Temporal's included.
func (h harnessTLS) config(cfg config.Config) config.Config {
	cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCAFile = h.engine.Cert, h.engine.Key, h.engine.CA
	cfg.TemporalTLSCertFile, cfg.TemporalTLSKeyFile, cfg.TemporalTLSCAFile = h.engine.Cert, h.engine.Key, h.engine.CA
	return cfg
}
