package pki_test

import (
	"crypto/tls"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/pki"
)

var hosts = []string{"localhost", "127.0.0.1", "::1"}

func authority(t *testing.T) *pki.Authority {
	t.Helper()
	a, err := pki.OpenAuthority(filepath.Join(t.TempDir(), "tls"))
	require.NoError(t, err)
	return a
}

func issue(t *testing.T, a *pki.Authority, name string, id pki.Identity) *pki.Source {
	t.Helper()
	files, err := a.Issue(name, id, hosts)
	require.NoError(t, err)
	src, err := pki.Load(files, nil)
	require.NoError(t, err)
	return src
}

// reissue replaces name's certificate and key with new ones, as a renewal does.
func reissue(t *testing.T, a *pki.Authority, name string, id pki.Identity) {
	t.Helper()
	require.NoError(t, os.Remove(filepath.Join(a.Dir(), name+".crt")))
	_, err := a.Issue(name, id, hosts)
	require.NoError(t, err)
}

// handshake runs one TLS handshake between the two configurations and
// returns what each side saw.
func handshake(t *testing.T, server, client *tls.Config) (srv, cli tls.ConnectionState, err error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	type result struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := l.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer func() { _ = raw.Close() }()
		_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
		s := tls.Server(raw, server)
		err = s.Handshake()
		if err == nil {
			// TLS 1.3 tells the client its certificate was refused only
			// after the client's handshake ends: answer a byte first.
			_, err = s.Write([]byte{1})
		}
		done <- result{s.ConnectionState(), err}
	}()
	raw, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer func() { _ = raw.Close() }()
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(raw, client)
	cerr := c.Handshake()
	if cerr == nil {
		_, cerr = c.Read(make([]byte, 1))
	}
	_ = raw.Close()
	r := <-done
	if cerr != nil {
		return r.state, c.ConnectionState(), cerr
	}
	return r.state, c.ConnectionState(), r.err
}

func serverConfig(t *testing.T, src *pki.Source) *tls.Config {
	t.Helper()
	cfg, err := src.ServerConfig(tls.RequireAndVerifyClientCert)
	require.NoError(t, err)
	return cfg
}

func clientConfig(t *testing.T, src *pki.Source, want pki.Identity) *tls.Config {
	t.Helper()
	cfg, err := src.ClientConfig("localhost", want)
	require.NoError(t, err)
	return cfg
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri  string
		want pki.Identity
		err  string
	}{
		{"lienthong://engine", pki.Engine(), ""},
		{"lienthong://agency/police", pki.Agency("police"), ""},
		{"lienthong://temporal", pki.Temporal(), ""},
		{"lienthong://agency", pki.Identity{}, "needs a name"},
		{"lienthong://engine/x", pki.Identity{}, "takes no name"},
		{"lienthong://mayor/x", pki.Identity{}, "not one of"},
		{"lienthong://agency/Police", pki.Identity{}, "lower-case"},
		{"lienthong://agency:80/police", pki.Identity{}, "no user, port"},
		{"spiffe://lienthong/agency/police", pki.Identity{}, "not a lienthong"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			u, err := url.Parse(tc.uri)
			require.NoError(t, err)
			got, err := pki.ParseIdentity(u)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.uri, got.URI().String())
		})
	}
}

func TestAuthority(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	a, err := pki.OpenAuthority(dir)
	require.NoError(t, err)
	first, err := a.Issue("police", pki.Agency("police"), hosts)
	require.NoError(t, err)
	src, err := pki.Load(first, nil)
	require.NoError(t, err)
	require.Equal(t, pki.Agency("police"), src.Identity())
	leaf := src.Leaf()
	require.ElementsMatch(t, []string{"localhost"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 2)
	require.WithinDuration(t, time.Now().Add(pki.LeafLifetime), leaf.NotAfter, 2*time.Hour)
	info, err := os.Stat(first.Key)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "keys are the owner's only")

	t.Run("reopened, it reuses the CA and what it issued", func(t *testing.T) {
		again, err := pki.OpenAuthority(dir)
		require.NoError(t, err)
		files, err := again.Issue("police", pki.Agency("police"), hosts)
		require.NoError(t, err)
		reread, err := pki.Load(files, nil)
		require.NoError(t, err)
		require.Equal(t, leaf.SerialNumber, reread.Leaf().SerialNumber)
	})
	t.Run("a new host name means a new certificate", func(t *testing.T) {
		files, err := a.Issue("police", pki.Agency("police"), append(hosts, "police.internal"))
		require.NoError(t, err)
		reread, err := pki.Load(files, nil)
		require.NoError(t, err)
		require.NotEqual(t, leaf.SerialNumber, reread.Leaf().SerialNumber)
		require.Contains(t, reread.Leaf().DNSNames, "police.internal")
	})
	t.Run("bad names are refused", func(t *testing.T) {
		_, err := a.Issue("ca", pki.Engine(), hosts)
		require.ErrorContains(t, err, `not "ca"`)
		_, err = a.Issue("x", pki.Identity{Role: "mayor"}, hosts)
		require.ErrorContains(t, err, "not one of")
	})
}

func TestLoadChecksTheFiles(t *testing.T) {
	t.Parallel()
	a, other := authority(t), authority(t)
	engine, err := a.Issue("engine", pki.Engine(), hosts)
	require.NoError(t, err)
	police, err := a.Issue("police", pki.Agency("police"), hosts)
	require.NoError(t, err)

	_, err = pki.Load(pki.Files{Cert: engine.Cert, CA: engine.CA}, nil)
	require.ErrorContains(t, err, "go together")
	_, err = pki.Load(pki.Files{Cert: engine.Cert, Key: police.Key, CA: engine.CA}, nil)
	require.ErrorContains(t, err, "private key does not match")
	_, err = pki.Load(pki.Files{Cert: engine.Cert, Key: engine.Key, CA: other.CAFile()}, nil)
	require.ErrorContains(t, err, "is not issued by the CA")
	_, err = pki.Load(pki.Files{Cert: engine.Cert, Key: engine.Key, CA: engine.Key}, nil)
	require.ErrorContains(t, err, "no PEM certificate")
	_, err = pki.Load(pki.Files{Cert: filepath.Join(a.Dir(), "missing.crt"), Key: engine.Key}, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	a := authority(t)
	justice := issue(t, a, "justice", pki.Agency("justice"))
	police := issue(t, a, "police", pki.Agency("police"))
	engine := issue(t, a, "engine", pki.Engine())
	stranger := issue(t, authority(t), "engine", pki.Engine())

	t.Run("the engine reaches Justice, and each learns who the other is", func(t *testing.T) {
		srv, cli, err := handshake(t, serverConfig(t, justice), clientConfig(t, engine, pki.Agency("justice")))
		require.NoError(t, err)
		require.GreaterOrEqual(t, cli.Version, uint16(tls.VersionTLS12))
		require.NotEmpty(t, srv.VerifiedChains)
		id, err := pki.IdentityOf(srv.VerifiedChains[0][0])
		require.NoError(t, err)
		require.Equal(t, pki.Engine(), id)
	})
	t.Run("a client without a certificate is refused", func(t *testing.T) {
		bare, err := pki.Load(pki.Files{CA: a.CAFile()}, nil)
		require.NoError(t, err)
		_, _, err = handshake(t, serverConfig(t, justice), clientConfig(t, bare, pki.Identity{}))
		require.Error(t, err)
	})
	t.Run("a client with another CA's certificate is refused", func(t *testing.T) {
		// It trusts Justice's CA, so only Justice's refusal can stop it.
		cfg := clientConfig(t, stranger, pki.Identity{})
		cfg.VerifyConnection = nil
		_, _, err := handshake(t, serverConfig(t, justice), cfg)
		require.Error(t, err)
	})
	t.Run("a server with another CA's certificate is refused", func(t *testing.T) {
		_, _, err := handshake(t, serverConfig(t, stranger), clientConfig(t, engine, pki.Identity{}))
		require.ErrorContains(t, err, "certificate signed by unknown authority")
	})
	t.Run("Police cannot answer for Justice", func(t *testing.T) {
		_, _, err := handshake(t, serverConfig(t, police), clientConfig(t, engine, pki.Agency("justice")))
		require.ErrorContains(t, err, "presented agency/police's certificate, expected agency/justice")
	})
	t.Run("a server under another name is refused", func(t *testing.T) {
		cfg, err := engine.ClientConfig("justice.example.gov.vn", pki.Identity{})
		require.NoError(t, err)
		_, _, err = handshake(t, serverConfig(t, justice), cfg)
		require.ErrorContains(t, err, "not justice.example.gov.vn")
	})
	t.Run("a verifying server needs a CA", func(t *testing.T) {
		files := justice.Files()
		files.CA = ""
		noCA, err := pki.Load(files, nil)
		require.NoError(t, err)
		_, err = noCA.ServerConfig(tls.RequireAndVerifyClientCert)
		require.ErrorContains(t, err, "needs the CA")
		_, err = noCA.ServerConfig(tls.NoClientCert)
		require.NoError(t, err)
	})
}

// TestReload replaces the files under running configurations: new
// handshakes use the new certificates, with no new configuration made.
func TestReload(t *testing.T) {
	t.Parallel()
	a := authority(t)
	justice := issue(t, a, "justice", pki.Agency("justice"))
	engine := issue(t, a, "engine", pki.Engine())
	srvCfg, cliCfg := serverConfig(t, justice), clientConfig(t, engine, pki.Agency("justice"))
	serials := func() (server, client string) {
		t.Helper()
		srv, cli, err := handshake(t, srvCfg, cliCfg)
		require.NoError(t, err)
		return cli.PeerCertificates[0].SerialNumber.String(), srv.PeerCertificates[0].SerialNumber.String()
	}
	server0, client0 := serials()

	t.Run("a renewed server certificate", func(t *testing.T) {
		reissue(t, a, "justice", pki.Agency("justice"))
		server1, client1 := serials()
		require.NotEqual(t, server0, server1)
		require.Equal(t, client0, client1)
		require.Equal(t, server1, justice.Leaf().SerialNumber.String())
	})
	t.Run("a renewed client certificate", func(t *testing.T) {
		reissue(t, a, "engine", pki.Engine())
		_, client2 := serials()
		require.NotEqual(t, client0, client2)
	})
	t.Run("a broken file keeps the last good set in use", func(t *testing.T) {
		server3, client3 := serials()
		require.NoError(t, os.WriteFile(justice.Files().Cert, []byte("not a certificate"), 0o644))
		server4, client4 := serials()
		require.Equal(t, server3, server4)
		require.Equal(t, client3, client4)
		reissue(t, a, "justice", pki.Agency("justice"))
		server5, _ := serials()
		require.NotEqual(t, server4, server5, "a good file after the broken one is taken")
	})
	t.Run("a new CA, with new certificates on both sides", func(t *testing.T) {
		server6, client6 := serials()
		for _, f := range []string{pki.CAFileName, pki.CAKeyFileName} {
			require.NoError(t, os.Remove(filepath.Join(a.Dir(), f)))
		}
		renewed, err := pki.OpenAuthority(a.Dir())
		require.NoError(t, err)
		_, err = renewed.Issue("justice", pki.Agency("justice"), hosts)
		require.NoError(t, err)
		_, err = renewed.Issue("engine", pki.Engine(), hosts)
		require.NoError(t, err)
		server7, client7 := serials()
		require.NotEqual(t, server6, server7)
		require.NotEqual(t, client6, client7)
		// The old certificates are not issued by the new CA: had the CA not
		// been reloaded with them, the handshake above would have failed.
	})
}
