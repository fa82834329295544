package api

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// withTLS serves the gRPC and HTTP listeners over TLS with src.
func withTLS(src *pki.Source) envOption {
	return func(o *Options) { o.TLS, o.HTTPTLS = src, src }
}

// TestTransport: over TLS an agency pushes with its certificate, and only
// its own cases; tokens still carry people; plaintext is refused.
func TestTransport(t *testing.T) {
	t.Parallel()
	authority, err := pki.OpenAuthority(filepath.Join(t.TempDir(), "tls"))
	require.NoError(t, err)
	load := func(name string, id pki.Identity) *pki.Source {
		files, err := authority.Issue(name, id, []string{"localhost", "127.0.0.1"})
		require.NoError(t, err)
		src, err := pki.Load(files, nil)
		require.NoError(t, err)
		return src
	}
	engine := load("engine", pki.Engine())
	justiceCert, policeCert := load("justice", pki.Agency("justice")), load("police", pki.Agency("police"))

	tc := temporalClient(t)
	e := newEnv(t, tc, withTLS(engine))
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "tls-1"))
	require.NoError(t, err, "a clerk's token travels over TLS as before")
	e.waitStarted(t, sub.GetCode())

	pushAs := func(t *testing.T, src *pki.Source, ctx context.Context, agency, step string) (*enginev1.ReportCaseResponse, error) {
		t.Helper()
		cfg, err := src.ClientConfig("127.0.0.1", pki.Engine())
		require.NoError(t, err)
		conn, err := grpc.NewClient(e.srv.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		require.NoError(t, err)
		defer func() { _ = conn.Close() }()
		return enginev1.NewAgencyCallbackServiceClient(conn).ReportCase(ctx, &enginev1.ReportCaseRequest{Case: &agencyv1.Case{
			CaseId: "c", Agency: agency, DossierCode: sub.GetCode(), Step: step, Status: agencyv1.CaseStatus_CASE_STATUS_APPROVED, Version: 1,
		}})
	}
	bg := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	t.Run("Justice pushes its own case with its certificate alone", func(t *testing.T) {
		rep, err := pushAs(t, justiceCert, bg(), "justice", "birth_registration")
		require.NoError(t, err)
		require.True(t, rep.GetApplied())
	})
	t.Run("a push signed by another agency's certificate is refused", func(t *testing.T) {
		_, err := pushAs(t, policeCert, bg(), "justice", "birth_registration")
		requireCode(t, err, codes.PermissionDenied)
		require.Contains(t, err.Error(), "agency police may report only its own cases, not justice's")
		// A Justice token alongside Police's certificate changes nothing.
		justice := auth.Claims{Subject: "agency-justice", Role: auth.RoleAgency, Agency: dossier.AgencyJustice}
		_, err = pushAs(t, policeCert, as(t, justice), "justice", "birth_registration")
		requireCode(t, err, codes.PermissionDenied)
	})
	t.Run("over TLS a token cannot push", func(t *testing.T) {
		justice := auth.Claims{Subject: "agency-justice", Role: auth.RoleAgency, Agency: dossier.AgencyJustice}
		_, err := e.callback().ReportCase(as(t, justice), &enginev1.ReportCaseRequest{Case: &agencyv1.Case{
			CaseId: "c", Agency: "justice", DossierCode: sub.GetCode(), Step: "birth_registration", Status: agencyv1.CaseStatus_CASE_STATUS_APPROVED, Version: 1,
		}})
		requireCode(t, err, codes.Unauthenticated)
		require.Contains(t, err.Error(), "takes an agency's client certificate")
		_, err = pushAs(t, engine, as(t, admin), "justice", "birth_registration")
		requireCode(t, err, codes.Unauthenticated)
	})
	t.Run("a plaintext gRPC client is refused", func(t *testing.T) {
		conn, err := grpc.NewClient(e.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer func() { _ = conn.Close() }()
		_, err = enginev1.NewReferenceServiceClient(conn).ListPlaces(bg(), &enginev1.ListPlacesRequest{})
		requireCode(t, err, codes.Unavailable)
	})
	t.Run("the REST gateway reaches gRPC over TLS", func(t *testing.T) {
		code, body := e.rest(t, http.MethodGet, "/v1/dossiers/"+sub.GetCode()+"?view=DOSSIER_VIEW_STATUS", token(t, clerkA), nil)
		require.Equal(t, http.StatusOK, code, body)
	})
	t.Run("plain HTTP to the HTTPS listener is refused", func(t *testing.T) {
		resp, err := http.Get("http://" + e.srv.HTTPAddr() + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(b), "HTTPS")
	})
	t.Run("the API serves only with the engine's certificate", func(t *testing.T) {
		_, err := New(context.Background(), Options{Store: e.store, Temporal: tc, TokenKey: testKey,
			GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", TLS: justiceCert})
		require.ErrorContains(t, err, `names "agency/justice", not lienthong://engine`)
	})
}
