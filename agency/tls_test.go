package agency_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// testPKI is a CA with the certificates the transport tests need.
type testPKI struct {
	justice, police, engine *pki.Source
	// stranger is an engine certificate from another CA.
	stranger *pki.Source
	// bare trusts the CA and has no certificate of its own.
	bare *pki.Source
	// authority issued all but stranger.
	authority *pki.Authority
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	hosts := []string{"localhost", "127.0.0.1"}
	open := func(dir string) *pki.Authority {
		a, err := pki.OpenAuthority(filepath.Join(t.TempDir(), dir))
		require.NoError(t, err)
		return a
	}
	load := func(a *pki.Authority, name string, id pki.Identity) *pki.Source {
		files, err := a.Issue(name, id, hosts)
		require.NoError(t, err)
		src, err := pki.Load(files, nil)
		require.NoError(t, err)
		return src
	}
	a := open("tls")
	bare, err := pki.Load(pki.Files{CA: a.CAFile()}, nil)
	require.NoError(t, err)
	return testPKI{
		justice:   load(a, "justice", pki.Agency("justice")),
		police:    load(a, "police", pki.Agency("police")),
		engine:    load(a, "engine", pki.Engine()),
		stranger:  load(open("other"), "engine", pki.Engine()),
		bare:      bare,
		authority: a,
	}
}

// dialTLS connects to addr presenting src's certificate, if any.
func dialTLS(t *testing.T, addr string, src *pki.Source) *grpc.ClientConn {
	t.Helper()
	cfg, err := src.ClientConfig("127.0.0.1", pki.Identity{})
	require.NoError(t, err)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestMutualTLS: an agency over TLS serves the engine's certificate only,
// learns from it who calls, and refuses everyone else at the door.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	a := start(t, agency.Options{Name: "justice", TLS: p.justice, APIKeys: map[string]string{adminKey: agency.AdminClient}})
	ask := func(conn *grpc.ClientConn) error {
		_, err := agencyv1.NewCaseServiceClient(conn).GetCase(withKey(t, ""), &agencyv1.GetCaseRequest{CaseId: "JUS-none"})
		return err
	}

	t.Run("the engine's certificate is enough, without an API key", func(t *testing.T) {
		requireCode(t, codes.NotFound, ask(dialTLS(t, a.srv.Addr(), p.engine)))
	})
	t.Run("a client without a certificate is refused", func(t *testing.T) {
		err := ask(dialTLS(t, a.srv.Addr(), p.bare))
		requireCode(t, codes.Unavailable, err)
	})
	t.Run("a certificate from another CA is refused", func(t *testing.T) {
		cfg, err := p.stranger.ClientConfig("127.0.0.1", pki.Identity{})
		require.NoError(t, err)
		cfg.VerifyConnection = nil // it would refuse Justice first: let only Justice judge
		conn, err := grpc.NewClient(a.srv.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		require.NoError(t, err)
		defer func() { _ = conn.Close() }()
		err = ask(conn)
		requireCode(t, codes.Unavailable, err)
	})
	t.Run("a plaintext client is refused", func(t *testing.T) {
		conn, err := grpc.NewClient(a.srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer func() { _ = conn.Close() }()
		requireCode(t, codes.Unavailable, ask(conn))
		// Nor is the old API key any use.
		_, err = agencyv1.NewCaseServiceClient(conn).GetCase(withKey(t, engineKey), &agencyv1.GetCaseRequest{CaseId: "JUS-none"})
		requireCode(t, codes.Unavailable, err)
	})
	t.Run("another agency may not call Justice", func(t *testing.T) {
		err := ask(dialTLS(t, a.srv.Addr(), p.police))
		requireCode(t, codes.PermissionDenied, err)
		require.Contains(t, err.Error(), "agency/police may not call justice's services")
	})
	t.Run("the admin service also wants the admin key", func(t *testing.T) {
		admin := agencyv1.NewAdminServiceClient(dialTLS(t, a.srv.Addr(), p.engine))
		_, err := admin.GetSettings(withKey(t, ""), &agencyv1.GetSettingsRequest{})
		requireCode(t, codes.PermissionDenied, err)
		_, err = admin.GetSettings(withKey(t, adminKey), &agencyv1.GetSettingsRequest{})
		require.NoError(t, err)
	})
	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		serial := func() string {
			cfg, err := p.engine.ClientConfig("127.0.0.1", pki.Agency("justice"))
			require.NoError(t, err)
			cfg.NextProtos = []string{"h2"}
			conn, err := tls.Dial("tcp", a.srv.Addr(), cfg)
			require.NoError(t, err)
			defer func() { _ = conn.Close() }()
			return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
		}
		before := serial()
		require.NoError(t, os.Remove(p.justice.Files().Cert))
		_, err := p.authority.Issue("justice", pki.Agency("justice"), []string{"localhost", "127.0.0.1"})
		require.NoError(t, err)
		require.NotEqual(t, before, serial(), "the next handshake has the new certificate")
		requireCode(t, codes.NotFound, ask(dialTLS(t, a.srv.Addr(), p.engine)))
	})
	t.Run("an agency serves only with its own certificate", func(t *testing.T) {
		_, err := agency.Start(t.Context(), agency.Options{Name: "police", ListenAddr: "127.0.0.1:0", Pool: a.pool, TLS: p.justice})
		require.ErrorContains(t, err, `names "agency/justice", not lienthong://agency/police`)
	})
}

// TestPushesOverMutualTLS: pushes present the agency's certificate, send no
// token, and reach only a server with the engine's certificate.
func TestPushesOverMutualTLS(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	serve := func(src *pki.Source) grpc.ServerOption {
		cfg, err := src.ServerConfig(tls.RequireAndVerifyClientCert, "h2")
		require.NoError(t, err)
		return grpc.Creds(credentials.NewTLS(cfg))
	}
	decide := func(a *agencyUnderTest, serial int) string {
		t.Helper()
		ctx := withKey(t, "")
		resp, err := a.justice.RegisterBirth(ctx, birthRequest(t, bornYesterdayID(t, serial)))
		require.NoError(t, err)
		id := resp.GetCase().GetCaseId()
		_, err = a.cases.ClaimCase(ctx, &agencyv1.ClaimCaseRequest{CaseId: id, Officer: "officer-a"})
		require.NoError(t, err)
		return id
	}
	tlsAgency := func(callback string) *agencyUnderTest {
		a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL, TLS: p.justice,
			CallbackAddr: callback, APIKeys: map[string]string{adminKey: agency.AdminClient}})
		conn := dialTLS(t, a.srv.Addr(), p.engine)
		a.justice, a.cases = agencyv1.NewJusticeServiceClient(conn), agencyv1.NewCaseServiceClient(conn)
		return a
	}

	t.Run("to the engine", func(t *testing.T) {
		engine, addr := startFakeEngine(t, 0, serve(p.engine))
		a := tlsAgency(addr)
		id := decide(a, 41)
		require.Eventually(t, func() bool { return len(engine.ackedFor(id)) == 1 }, 10*time.Second, 10*time.Millisecond)
		_, _, auth := engine.snapshot()
		require.Empty(t, auth, "no token travels over TLS")
		require.Equal(t, []string{"agency/justice"}, engine.peers)
	})
	t.Run("not to a server with another certificate", func(t *testing.T) {
		impostor, addr := startFakeEngine(t, 0, serve(p.police))
		a := tlsAgency(addr)
		decide(a, 42)
		time.Sleep(500 * time.Millisecond)
		calls, _, _ := impostor.snapshot()
		require.Empty(t, calls, "nothing is pushed to a server that is not the engine")
		require.Equal(t, 1, a.count(t, "justice.outbox", "sent_at IS NULL"))
	})
}
