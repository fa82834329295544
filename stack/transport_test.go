package stack

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
)

func TestTransport(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	dir := filepath.Join(t.TempDir(), "tls")
	engine, agencies, err := IssueLocalCertificates(dir, []string{"localhost", "127.0.0.1"})
	require.NoError(t, err)
	withFiles := func(f pki.Files) config.Config {
		cfg := config.Defaults()
		cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCAFile = f.Cert, f.Key, f.CA
		return cfg
	}

	t.Run("the engine needs the engine's certificate", func(t *testing.T) {
		tr, err := EngineTransport(withFiles(engine), logger)
		require.NoError(t, err)
		require.Equal(t, pki.Engine(), tr.engine.Identity())
		justice := withFiles(agencies)
		justice.TLSCertFile, justice.TLSKeyFile = filepath.Join(dir, "justice.crt"), filepath.Join(dir, "justice.key")
		_, err = EngineTransport(justice, logger)
		require.ErrorContains(t, err, `the certificate names "agency/justice"; this process needs one naming lienthong://engine`)
		_, err = EngineTransport(withFiles(agencies), logger)
		require.ErrorContains(t, err, "{agency} is for agency processes")
	})
	t.Run("each agency its own certificate", func(t *testing.T) {
		tr, err := agencyTransport(withFiles(agencies), []string{"justice", "sms"}, logger)
		require.NoError(t, err)
		require.Equal(t, pki.Agency("justice"), tr.agencies["justice"].Identity())
		require.Equal(t, pki.Agency("sms"), tr.agencies["sms"].Identity())
		_, err = agencyTransport(withFiles(engine), []string{"justice", "police"}, logger)
		require.ErrorContains(t, err, "runs 2 agencies, each with its own certificate: put {agency} in the paths")
		_, err = agencyTransport(withFiles(engine), []string{"justice"}, logger)
		require.ErrorContains(t, err, `names "engine"; this process needs one naming lienthong://agency/justice`)
	})
	t.Run("plaintext only by name", func(t *testing.T) {
		cfg := config.Defaults()
		_, err := EngineTransport(cfg, logger)
		require.ErrorContains(t, err, "required outside dev")
		cfg.InsecurePlaintext = true
		tr, err := EngineTransport(cfg, logger)
		require.NoError(t, err)
		require.True(t, tr.plaintext())
		require.Nil(t, tr.health())
	})
}

func TestDevTransport(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	tr, err := devTransport(&cfg, logger)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(cfg.DataDir, "tls", "engine.crt"), cfg.TLSCertFile, "tools that read the configuration find the engine's")
	require.Equal(t, pki.Engine(), tr.engine.Identity())
	for _, name := range []string{"justice", "police", "insurance", "portal", "sms"} {
		require.Equal(t, pki.Agency(name), tr.agencies[name].Identity(), name)
	}
	require.Nil(t, tr.http, "the console stays plain HTTP on loopback")
	info, err := os.Stat(filepath.Join(cfg.DataDir, "tls", "ca.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	t.Run("a restart reuses the certificates", func(t *testing.T) {
		again := config.Defaults()
		again.DataDir = cfg.DataDir
		tr2, err := devTransport(&again, logger)
		require.NoError(t, err)
		require.Equal(t, tr.engine.Leaf().SerialNumber, tr2.engine.Leaf().SerialNumber)
		require.Equal(t, tr.agencies["police"].Leaf().SerialNumber, tr2.agencies["police"].Leaf().SerialNumber)
	})
	t.Run("beyond loopback the console is HTTPS", func(t *testing.T) {
		wide := config.Defaults()
		wide.DataDir, wide.APIHTTPAddr = cfg.DataDir, "0.0.0.0:7480"
		tr, err := devTransport(&wide, logger)
		require.NoError(t, err)
		require.NotNil(t, tr.http)
		require.Equal(t, "https", httpScheme(tr))
		require.Equal(t, "https://127.0.0.1:7480/codec", devCodecEndpoint(wide))
	})
	t.Run("dev makes its own certificates", func(t *testing.T) {
		given := config.Defaults()
		given.DataDir, given.TLSCertFile, given.TLSKeyFile, given.TLSCAFile = cfg.DataDir, "c.pem", "k.pem", "ca.pem"
		_, err := devTransport(&given, logger)
		require.ErrorIs(t, err, errDevTLS)
		plain := config.Defaults()
		plain.DataDir, plain.InsecurePlaintext = t.TempDir(), true
		tr, err := devTransport(&plain, logger)
		require.NoError(t, err)
		require.True(t, tr.plaintext())
		_, err = os.Stat(filepath.Join(plain.DataDir, "tls"))
		require.ErrorIs(t, err, os.ErrNotExist, "no certificates are made")
	})
}
