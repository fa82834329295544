package stack

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
)

// EmbeddedTemporal starts the Temporal server a dev stack runs in its own
// process. Package stack/embedded provides it (embedded.Temporal), and so
// the Temporal server: stack itself links only the SDK, so the worker, the
// API and the tools that dial a cluster stay small to build and to link.
type EmbeddedTemporal func(EmbeddedOptions) (TemporalServer, error)

// EmbeddedOptions are what a dev stack asks of its Temporal server.
type EmbeddedOptions struct {
	// IP and Port are the frontend's; UIPort is the Web UI's, 0 for none.
	IP           string
	Port, UIPort int
	// SQLiteFile keeps the histories; empty keeps them in memory.
	SQLiteFile string
	// UICodecEndpoint is where the Web UI's browser decodes payloads; empty for none.
	UICodecEndpoint string
	Logger          *slog.Logger
}

// TemporalServer is a running embedded Temporal server.
type TemporalServer interface {
	// Address is the frontend's; UIAddress the Web UI's, empty when it is off.
	Address() string
	UIAddress() string
	Stop()
}

// FrontendTLS is the mutual TLS an embedded Temporal frontend serves.
type FrontendTLS struct {
	CertFile, KeyFile, CAFile string
	// ServerName is the name its services verify each other by.
	ServerName string
}

// TemporalServerTLS is the embedded frontend's mutual TLS, from
// --tls-cert-file (a certificate naming lienthong://temporal),
// --tls-key-file and --tls-ca-file, the CA its clients' certificates come
// from; and how this process reaches its own frontend. Its services verify
// each other by the certificate's first DNS name (or IP address). Both are
// nil under --insecure-plaintext.
func TemporalServerTLS(cfg config.Config, logger *slog.Logger) (*FrontendTLS, *tls.Config, error) {
	if cfg.InsecurePlaintext {
		warnPlaintext(logger)
		return nil, nil, nil
	}
	if err := cfg.RequireTransport(); err != nil {
		return nil, nil, err
	}
	src, err := loadSource(cfg, cfg.TLSCertFile, cfg.TLSKeyFile, pki.Temporal(), logger)
	if err != nil {
		return nil, nil, err
	}
	leaf := src.Leaf()
	var name string
	switch {
	case len(leaf.DNSNames) > 0:
		name = leaf.DNSNames[0]
	case len(leaf.IPAddresses) > 0:
		name = leaf.IPAddresses[0].String()
	default:
		return nil, nil, fmt.Errorf("--tls-cert-file %s: the certificate names no DNS name or IP address to be reached by", cfg.TLSCertFile)
	}
	self, err := src.ClientConfig(name, pki.Temporal())
	if err != nil {
		return nil, nil, err
	}
	return &FrontendTLS{CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, CAFile: cfg.TLSCAFile, ServerName: name}, self, nil
}
