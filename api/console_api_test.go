package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// Officers work one agency's desk.
var (
	officerJustice = auth.Claims{Subject: "officer-j", Role: auth.RoleOfficer, Agency: dossier.AgencyJustice}
	officerPolice  = auth.Claims{Subject: "officer-p", Role: auth.RoleOfficer, Agency: dossier.AgencyPolice}
)

// ---- fake agencies -------------------------------------------------------

// fakeCases is one agency's case service: it serves the cases it holds and
// records what the desk asked of it. Answers are copies, as over the wire.
type fakeCases struct {
	mu       sync.Mutex
	cases    []*agencyv1.Case
	lists    []*agencyv1.ListCasesRequest
	gets     []string
	claims   []*agencyv1.ClaimCaseRequest
	decides  []*agencyv1.DecideCaseRequest
	claimErr map[string]error // by case id
}

func (f *fakeCases) add(c *agencyv1.Case) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cases = append(f.cases, c)
}

func (f *fakeCases) find(id string) (*agencyv1.Case, error) {
	for _, c := range f.cases {
		if c.GetCaseId() == id {
			return c, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "case %s not found", id)
}

func (f *fakeCases) GetCase(_ context.Context, in *agencyv1.GetCaseRequest, _ ...grpc.CallOption) (*agencyv1.GetCaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in.GetCaseId())
	c, err := f.find(in.GetCaseId())
	if err != nil {
		return nil, err
	}
	return &agencyv1.GetCaseResponse{Case: proto.CloneOf(c)}, nil
}

func (f *fakeCases) ListCases(_ context.Context, in *agencyv1.ListCasesRequest, _ ...grpc.CallOption) (*agencyv1.ListCasesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, proto.CloneOf(in))
	resp := &agencyv1.ListCasesResponse{}
	for _, c := range f.cases {
		resp.Cases = append(resp.Cases, proto.CloneOf(c))
	}
	return resp, nil
}

func (f *fakeCases) ClaimCase(_ context.Context, in *agencyv1.ClaimCaseRequest, _ ...grpc.CallOption) (*agencyv1.ClaimCaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims = append(f.claims, proto.CloneOf(in))
	if err := f.claimErr[in.GetCaseId()]; err != nil {
		return nil, err
	}
	c, err := f.find(in.GetCaseId())
	if err != nil {
		return nil, err
	}
	c.ClaimedBy, c.Status = in.GetOfficer(), agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW
	return &agencyv1.ClaimCaseResponse{Case: proto.CloneOf(c)}, nil
}

func (f *fakeCases) DecideCase(_ context.Context, in *agencyv1.DecideCaseRequest, _ ...grpc.CallOption) (*agencyv1.DecideCaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decides = append(f.decides, proto.CloneOf(in))
	c, err := f.find(in.GetCaseId())
	if err != nil {
		return nil, err
	}
	switch in.GetDecision() {
	case agencyv1.Decision_DECISION_APPROVE:
		c.Status = agencyv1.CaseStatus_CASE_STATUS_APPROVED
	case agencyv1.Decision_DECISION_REJECT:
		c.Status, c.Reason = agencyv1.CaseStatus_CASE_STATUS_REJECTED, in.GetReason()
	case agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT:
		c.Status, c.Reason, c.Missing = agencyv1.CaseStatus_CASE_STATUS_NEEDS_SUPPLEMENT, in.GetReason(), in.GetMissing()
	}
	c.DecidedAt = timestamppb.Now()
	return &agencyv1.DecideCaseResponse{Case: proto.CloneOf(c)}, nil
}

func (f *fakeCases) SupplementCase(context.Context, *agencyv1.SupplementCaseRequest, ...grpc.CallOption) (*agencyv1.SupplementCaseResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeCases) WithdrawCase(context.Context, *agencyv1.WithdrawCaseRequest, ...grpc.CallOption) (*agencyv1.WithdrawCaseResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeCases) RequestApology(context.Context, *agencyv1.RequestApologyRequest, ...grpc.CallOption) (*agencyv1.RequestApologyResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeCases) IssueApology(_ context.Context, in *agencyv1.IssueApologyRequest, _ ...grpc.CallOption) (*agencyv1.IssueApologyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(in.GetCaseId())
	if err != nil {
		return nil, err
	}
	if c.Apology == nil {
		return nil, status.Error(codes.FailedPrecondition, "no apology was asked for")
	}
	c.Apology.IssuedAt, c.Apology.Number, c.Apology.Reason = timestamppb.Now(), "POL-2026-000001/PXL", in.GetReason()
	c.Apology.NewAppointmentAt, c.Apology.IssuedBy, c.NewAppointmentAt = in.GetNewAppointmentAt(), in.GetOfficer(), in.GetNewAppointmentAt()
	return &agencyv1.IssueApologyResponse{Case: proto.CloneOf(c)}, nil
}

func (f *fakeCases) calls() (lists []*agencyv1.ListCasesRequest, gets []string, claims []*agencyv1.ClaimCaseRequest, decides []*agencyv1.DecideCaseRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(lists, f.lists...), append(gets, f.gets...), append(claims, f.claims...), append(decides, f.decides...)
}

// goodSignature is the one signature fakeJustice accepts.
var goodSignature = []byte("good-signature")

// fakeJustice is the civil-status office's extract service.
type fakeJustice struct {
	mu       sync.Mutex
	extracts map[string]*agencyv1.Extract // by case id
	gets     []string
	verifies []*agencyv1.Extract
}

func (f *fakeJustice) RegisterBirth(context.Context, *agencyv1.RegisterBirthRequest, ...grpc.CallOption) (*agencyv1.RegisterBirthResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeJustice) AttachIdNumber(context.Context, *agencyv1.AttachIdNumberRequest, ...grpc.CallOption) (*agencyv1.AttachIdNumberResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeJustice) RegisterDeath(context.Context, *agencyv1.RegisterDeathRequest, ...grpc.CallOption) (*agencyv1.RegisterDeathResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeJustice) GetExtract(_ context.Context, in *agencyv1.GetExtractRequest, _ ...grpc.CallOption) (*agencyv1.GetExtractResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in.GetCaseId())
	x, ok := f.extracts[in.GetCaseId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "case %s has no extract", in.GetCaseId())
	}
	return &agencyv1.GetExtractResponse{Extract: proto.CloneOf(x)}, nil
}

func (f *fakeJustice) VerifyExtract(_ context.Context, in *agencyv1.VerifyExtractRequest, _ ...grpc.CallOption) (*agencyv1.VerifyExtractResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies = append(f.verifies, proto.CloneOf(in.GetExtract()))
	switch {
	case in.GetExtract().GetKeyId() == "retired-9":
		return &agencyv1.VerifyExtractResponse{Reason: "key retired-9 is not one of the office's keys"}, nil
	case bytes.Equal(in.GetExtract().GetSignature(), goodSignature):
		return &agencyv1.VerifyExtractResponse{Authentic: true}, nil
	}
	return &agencyv1.VerifyExtractResponse{}, nil
}

func (f *fakeJustice) calls() (gets []string, verifies []*agencyv1.Extract) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(gets, f.gets...), append(verifies, f.verifies...)
}

// fakeAdmin is one agency's admin service: its settings and what was set.
type fakeAdmin struct {
	mu       sync.Mutex
	settings *agencyv1.Settings
	modes    []*agencyv1.SetModeRequest
	faults   []*agencyv1.Faults
}

func (f *fakeAdmin) GetSettings(context.Context, *agencyv1.GetSettingsRequest, ...grpc.CallOption) (*agencyv1.GetSettingsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &agencyv1.GetSettingsResponse{Settings: proto.CloneOf(f.settings)}, nil
}

func (f *fakeAdmin) SetMode(_ context.Context, in *agencyv1.SetModeRequest, _ ...grpc.CallOption) (*agencyv1.SetModeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes = append(f.modes, proto.CloneOf(in))
	f.settings.Mode = in.GetMode()
	return &agencyv1.SetModeResponse{Settings: proto.CloneOf(f.settings)}, nil
}

func (f *fakeAdmin) SetFaults(_ context.Context, in *agencyv1.SetFaultsRequest, _ ...grpc.CallOption) (*agencyv1.SetFaultsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, proto.CloneOf(in.GetFaults()))
	f.settings.Faults = proto.CloneOf(in.GetFaults())
	return &agencyv1.SetFaultsResponse{Settings: proto.CloneOf(f.settings)}, nil
}

func (f *fakeAdmin) calls() (modes []*agencyv1.SetModeRequest, faults []*agencyv1.Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(modes, f.modes...), append(faults, f.faults...)
}

// fakeAgencies are the three deciding agencies' case and admin services and
// the justice extract service; the portal has no admin service here.
type fakeAgencies struct {
	cases   map[string]*fakeCases
	admin   map[string]*fakeAdmin
	justice *fakeJustice
}

func newFakeAgencies() *fakeAgencies {
	f := &fakeAgencies{cases: map[string]*fakeCases{}, admin: map[string]*fakeAdmin{}, justice: &fakeJustice{extracts: map[string]*agencyv1.Extract{}}}
	for _, a := range deskAgencies {
		f.cases[a] = &fakeCases{claimErr: map[string]error{}}
		f.admin[a] = &fakeAdmin{settings: &agencyv1.Settings{Agency: a, Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO, Faults: &agencyv1.Faults{}}}
	}
	return f
}

func (f *fakeAgencies) clients() AgencyClients {
	a := AgencyClients{Cases: map[string]agencyv1.CaseServiceClient{}, Admin: map[string]agencyv1.AdminServiceClient{}, Justice: f.justice}
	for name, c := range f.cases {
		a.Cases[name] = c
	}
	for name, c := range f.admin {
		a.Admin[name] = c
	}
	return a
}

// ---- helpers -------------------------------------------------------------

// anonymous is a context that calls without a token.
func anonymous(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// grpcViolations requires an InvalidArgument and returns its field violations.
func grpcViolations(t *testing.T, err error) map[string]string {
	t.Helper()
	st := requireCode(t, err, codes.InvalidArgument)
	out := map[string]string{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = v.GetDescription()
			}
		}
	}
	return out
}

// browserCall is one request as the console's page makes it.
type browserCall struct {
	cookie  *http.Cookie
	headers map[string]string
	body    any
}

// browse calls the REST gateway like a browser: with the session cookie and
// headers of call, and returns the response, its raw body and its JSON.
func (e *env) browse(t *testing.T, method, path string, call browserCall) (*http.Response, string, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := call.body.(type) {
	case nil:
	case proto.Message:
		j, err := protojson.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.base+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range call.headers {
		req.Header.Set(k, v)
	}
	if call.cookie != nil {
		req.AddCookie(call.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp, string(raw), out
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func auditActions(entries []store.AuditEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// auditRows reads audit rows of an action that names no dossier.
func auditRows(t *testing.T, e *env, action string) []store.AuditEntry {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT actor, role, action, purpose FROM engine.audit WHERE action = $1 ORDER BY id`, action)
	require.NoError(t, err)
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var a store.AuditEntry
		require.NoError(t, rows.Scan(&a.Actor, &a.Role, &a.Action, &a.Purpose))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func timePtr(t time.Time) *time.Time { return &t }

// ---- session -------------------------------------------------------------

func TestSession(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	demo := []DemoUser{
		{ID: "clerk-ba-dinh", Label: "Cán bộ một cửa Ba Đình", Claims: clerkA},
		{ID: "officer-justice", Label: "Công chức tư pháp", Claims: officerJustice},
	}
	e := newEnv(t, tc, func(o *Options) { o.DemoUsers = demo })

	t.Run("options list the demo users", func(t *testing.T) {
		resp, err := enginev1.NewSessionServiceClient(e.conn).ListSignInOptions(anonymous(t), &enginev1.ListSignInOptionsRequest{})
		require.NoError(t, err)
		require.Empty(t, resp.GetIdentityProviderUrl(), "no identity provider is configured")
		require.Len(t, resp.GetDemoUsers(), 2)
		clerk, officer := resp.GetDemoUsers()[0], resp.GetDemoUsers()[1]
		require.Equal(t, "clerk-ba-dinh", clerk.GetId())
		require.Equal(t, "Cán bộ một cửa Ba Đình", clerk.GetLabel())
		require.Equal(t, "clerk", clerk.GetRole())
		require.Equal(t, "00004", clerk.GetCommuneCode())
		require.Equal(t, "officer", officer.GetRole())
		require.Equal(t, "justice", officer.GetAgency())

		code, body := e.rest(t, http.MethodGet, "/v1/session/options", "", nil)
		require.Equal(t, http.StatusOK, code, body)
		require.Len(t, body["demoUsers"], 2)
	})

	t.Run("no demo users outside dev", func(t *testing.T) {
		plain := newEnv(t, tc)
		sc := enginev1.NewSessionServiceClient(plain.conn)
		resp, err := sc.ListSignInOptions(anonymous(t), &enginev1.ListSignInOptionsRequest{})
		require.NoError(t, err)
		require.Empty(t, resp.GetDemoUsers())
		_, err = sc.SignIn(anonymous(t), &enginev1.SignInRequest{DemoUserId: "clerk-ba-dinh"})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "identity provider")
	})

	t.Run("an unknown demo user is refused", func(t *testing.T) {
		sc := enginev1.NewSessionServiceClient(e.conn)
		_, err := sc.SignIn(anonymous(t), &enginev1.SignInRequest{DemoUserId: "mallory"})
		require.Contains(t, grpcViolations(t, err)["demo_user_id"], "not one of")
		_, err = sc.SignIn(anonymous(t), &enginev1.SignInRequest{})
		require.Contains(t, grpcViolations(t, err), "demo_user_id")
	})

	t.Run("sign in over gRPC returns a token for the CLI", func(t *testing.T) {
		resp, err := enginev1.NewSessionServiceClient(e.conn).SignIn(anonymous(t), &enginev1.SignInRequest{DemoUserId: "officer-justice"})
		require.NoError(t, err)
		c, err := auth.Verify(testKey, resp.GetToken())
		require.NoError(t, err)
		require.Equal(t, officerJustice.Subject, c.Subject)
		require.Equal(t, auth.RoleOfficer, c.Role)
		require.Equal(t, "justice", c.Agency)
		require.Equal(t, "Công chức tư pháp", resp.GetSession().GetDisplayName())
		require.WithinDuration(t, time.Now().Add(sessionTTL), resp.GetSession().GetExpiresAt().AsTime(), time.Minute)
		signIns := auditRows(t, e, "sign-in")
		require.NotEmpty(t, signIns)
		last := signIns[len(signIns)-1]
		require.Equal(t, "officer:officer-j", last.Actor)
		require.Equal(t, "demo user officer-justice", last.Purpose)
	})

	// The browser's flow, one step after another.
	resp, raw, body := e.browse(t, http.MethodPost, "/v1/session", browserCall{body: map[string]string{"demoUserId": "clerk-ba-dinh"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, raw)
	cookie := sessionCookieOf(resp)

	t.Run("sign in sets an HttpOnly strict cookie and keeps the token out of the body", func(t *testing.T) {
		require.NotNil(t, cookie, "Set-Cookie: %v", resp.Header.Values("Set-Cookie"))
		require.True(t, cookie.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
		require.Equal(t, "/", cookie.Path)
		require.InDelta(t, sessionTTL.Seconds(), cookie.MaxAge, 2)
		require.False(t, cookie.Secure, "not Secure unless Options.SecureCookies")
		bs := e.openSession(t, cookie)
		c, err := auth.Verify(testKey, bs.Token)
		require.NoError(t, err, "the cookie holds the signed token, sealed")
		require.Equal(t, clerkA.Subject, c.Subject)
		require.Equal(t, "00004", c.Commune)

		require.Empty(t, body["token"], "the token travels only in the cookie")
		require.NotContains(t, raw, cookie.Value)
		require.NotContains(t, raw, bs.Token)
		session, _ := body["session"].(map[string]any)
		require.Equal(t, "clerk-a", session["subject"])
		require.Equal(t, "Cán bộ một cửa Ba Đình", session["displayName"])
	})
	require.NotNil(t, cookie)

	var csrf string
	t.Run("GET /v1/session reads the cookie", func(t *testing.T) {
		resp, raw, body := e.browse(t, http.MethodGet, "/v1/session", browserCall{cookie: cookie})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		session, _ := body["session"].(map[string]any)
		require.Equal(t, "clerk-a", session["subject"])
		require.Equal(t, "clerk", session["role"])
		require.Equal(t, "00004", session["communeCode"])
		require.Equal(t, "Cán bộ một cửa Ba Đình", session["displayName"])
		csrf, _ = session["csrfToken"].(string)
		require.NotEmpty(t, csrf)
		require.Equal(t, e.srv.csrfToken(e.openSession(t, cookie).SID), csrf)

		resp, _, _ = e.browse(t, http.MethodGet, "/v1/session", browserCall{})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no cookie, no session")
	})

	var submitted string
	t.Run("a cookie-authenticated write needs the CSRF token", func(t *testing.T) {
		before := countDossiers(t, e)
		resp, raw, body := e.browse(t, http.MethodPost, "/v1/dossiers/birth", browserCall{cookie: cookie, body: validBirth(time.Now(), "csrf-none")})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, raw)
		require.Contains(t, body["message"], CSRFHeader)

		resp, raw, _ = e.browse(t, http.MethodPost, "/v1/dossiers/birth", browserCall{
			cookie: cookie, headers: map[string]string{CSRFHeader: e.srv.csrfToken("another session")}, body: validBirth(time.Now(), "csrf-wrong"),
		})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, raw)
		require.Equal(t, before, countDossiers(t, e), "a refused write stores nothing")

		resp, raw, body = e.browse(t, http.MethodPost, "/v1/dossiers/birth", browserCall{
			cookie: cookie, headers: map[string]string{CSRFHeader: csrf}, body: validBirth(time.Now(), "csrf-right"),
		})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		submitted, _ = body["code"].(string)
		require.True(t, strings.HasPrefix(submitted, "00004-"), raw)
		require.Equal(t, before+1, countDossiers(t, e))
		audits, err := e.store.AuditOf(context.Background(), submitted)
		require.NoError(t, err)
		require.Equal(t, "clerk:clerk-a", audits[0].Actor, "the write is the cookie's user's")

		// Reads need no CSRF token.
		resp, raw, _ = e.browse(t, http.MethodGet, "/v1/dossiers/"+submitted+"?view=DOSSIER_VIEW_STATUS", browserCall{cookie: cookie})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
	})

	t.Run("a request with its own Authorization header needs no CSRF token", func(t *testing.T) {
		resp, raw, body := e.browse(t, http.MethodPost, "/v1/dossiers/birth", browserCall{
			cookie: cookie, headers: map[string]string{"Authorization": "Bearer " + token(t, clerkA)}, body: validBirth(time.Now(), "csrf-bearer"),
		})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		require.NotEmpty(t, body["code"])

		// The header wins over the cookie: a supervisor's token is a supervisor's call.
		resp, raw, _ = e.browse(t, http.MethodPost, "/v1/dossiers/birth", browserCall{
			cookie: cookie, headers: map[string]string{"Authorization": "Bearer " + token(t, supHN)}, body: validBirth(time.Now(), "csrf-sup"),
		})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, raw)
	})

	t.Run("the citizen lookup ignores a clerk's cookie", func(t *testing.T) {
		require.NotEmpty(t, submitted)
		// Were the cookie used, a clerk could not call the lookup (403).
		resp, raw, body := e.browse(t, http.MethodPost, "/v1/lookup", browserCall{
			cookie: cookie, body: map[string]string{"code": submitted, "phone": "0912345678"},
		})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		require.Equal(t, submitted, body["code"])
		require.NotContains(t, raw, "Nguyễn", "nothing personal")
	})

	t.Run("sign-out clears the cookie", func(t *testing.T) {
		resp, raw, _ := e.browse(t, http.MethodPost, "/v1/session/sign-out", browserCall{cookie: cookie, body: map[string]string{}})
		require.Equal(t, http.StatusOK, resp.StatusCode, raw, "sign-out needs no CSRF token")
		cleared := sessionCookieOf(resp)
		require.NotNil(t, cleared, "Set-Cookie: %v", resp.Header.Values("Set-Cookie"))
		require.Empty(t, cleared.Value)
		require.Negative(t, cleared.MaxAge, "Max-Age=0 deletes it now")
		require.True(t, cleared.HttpOnly)
		require.Equal(t, "/", cleared.Path)
	})
}

// ---- places --------------------------------------------------------------

func TestListPlacesIsPublic(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	code, body := e.rest(t, http.MethodGet, "/v1/places", "", nil)
	require.Equal(t, http.StatusOK, code, body)

	provinces, _ := body["provinces"].([]any)
	require.Len(t, provinces, 34, "the 34 provincial units since July 2025")
	require.Contains(t, provinces, map[string]any{"code": "001", "name": "Hà Nội"})
	communes, _ := body["communes"].([]any)
	require.Len(t, communes, len(civil.Communes()))
	require.Contains(t, communes, map[string]any{"code": "16681", "name": "Phường Thành Vinh", "provinceCode": "040"})
	facilities, _ := body["facilities"].([]any)
	require.Len(t, facilities, len(civil.Facilities()))
	require.NotEmpty(t, facilities)
	first, _ := facilities[0].(map[string]any)
	require.Equal(t, civil.Facilities()[0].Code, first["code"])
	require.Equal(t, civil.Facilities()[0].ProvinceCode, first["provinceCode"])
	require.Contains(t, body["source"], "Resolution 202/2025/QH15")

	// Any person may read them; an agency's system is not a person.
	code, _ = e.rest(t, http.MethodGet, "/v1/places", token(t, officerPolice), nil)
	require.Equal(t, http.StatusOK, code)
	code, _ = e.rest(t, http.MethodGet, "/v1/places", token(t, agencyPolice), nil)
	require.Equal(t, http.StatusForbidden, code)
}

// ---- desk ----------------------------------------------------------------

func TestDesk(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	fa := newFakeAgencies()
	e := newEnv(t, tc, withAgencies(fa.clients()))
	desk := enginev1.NewDeskServiceClient(e.conn)
	now := time.Now()

	// Three justice cases, due in 5h, 1h ago (overdue) and 3h; one of a
	// dossier the engine does not know; one police case.
	awaiting := func(caseID string, due time.Time) func(*dossier.Snapshot) {
		return func(s *dossier.Snapshot) {
			s.Status, s.DueAt = dossier.StatusInProgress, now.Add(48*time.Hour)
			st := s.Step(dossier.StepBirthRegistration)
			st.Status, st.StatusSince, st.StartedAt, st.DueAt, st.CaseID = dossier.StepAwaitingAgency, now.Add(-6*time.Hour), timePtr(now.Add(-6*time.Hour)), timePtr(due), caseID
		}
	}
	d1 := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-6*time.Hour), awaiting("JUS-1", now.Add(5*time.Hour)))
	d2 := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-6*time.Hour), awaiting("JUS-2", now.Add(-time.Hour)))
	d3 := seedDossier(t, e.store, dossier.GroupBirth, "00008", "001", now.Add(-6*time.Hour), awaiting("JUS-3", now.Add(3*time.Hour)))
	justiceCase := func(id, code string, created time.Time) *agencyv1.Case {
		return &agencyv1.Case{CaseId: id, Agency: "justice", Kind: "birth_registration", DossierCode: code, Step: "birth_registration",
			Status: agencyv1.CaseStatus_CASE_STATUS_RECEIVED, Version: 1, CreatedAt: timestamppb.New(created), UpdatedAt: timestamppb.New(created)}
	}
	fa.cases["justice"].add(justiceCase("JUS-9", "00004-000101-0009", now.Add(-10*time.Hour)))
	fa.cases["justice"].add(justiceCase("JUS-1", d1.Code, now.Add(-6*time.Hour)))
	fa.cases["justice"].add(justiceCase("JUS-3", d3.Code, now.Add(-6*time.Hour)))
	fa.cases["justice"].add(justiceCase("JUS-2", d2.Code, now.Add(-6*time.Hour)))
	fa.cases["police"].add(&agencyv1.Case{CaseId: "POL-1", Agency: "police", DossierCode: d1.Code, Step: "id_number", Status: agencyv1.CaseStatus_CASE_STATUS_RECEIVED})
	fa.cases["justice"].claimErr["JUS-2"] = status.Error(codes.FailedPrecondition, "case JUS-2 is claimed by officer-k")

	t.Run("an officer lists the own agency's cases, most urgent first", func(t *testing.T) {
		resp, err := desk.ListCases(as(t, officerJustice), &enginev1.ListCasesRequest{})
		require.NoError(t, err)
		var ids []string
		for _, c := range resp.GetCases() {
			ids = append(ids, c.GetCaseId())
			require.Equal(t, "justice", c.GetAgency())
		}
		require.Equal(t, []string{"JUS-2", "JUS-3", "JUS-1", "JUS-9"}, ids, "nearest due first; unknown deadline last")
		byID := map[string]*enginev1.DeskCase{}
		for _, c := range resp.GetCases() {
			byID[c.GetCaseId()] = c
		}
		require.True(t, byID["JUS-2"].GetOverdue())
		require.False(t, byID["JUS-1"].GetOverdue())
		require.WithinDuration(t, now.Add(5*time.Hour), byID["JUS-1"].GetDueAt().AsTime(), time.Millisecond, "the step's due date from the read model")
		require.Equal(t, enginev1.Group_GROUP_BIRTH, byID["JUS-3"].GetGroup())
		require.Equal(t, "00008", byID["JUS-3"].GetCommuneCode())
		require.Equal(t, enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION, byID["JUS-1"].GetStep())
		require.Nil(t, byID["JUS-9"].GetDueAt())

		lists, _, _, _ := fa.cases["justice"].calls()
		require.Len(t, lists, 1, "the justice case service was asked")
		require.EqualValues(t, defaultDeskPage, lists[0].GetPageSize())
		police, _, _, _ := fa.cases["police"].calls()
		require.Empty(t, police, "police was not asked")
	})

	t.Run("filters reach the agency", func(t *testing.T) {
		_, err := desk.ListCases(as(t, officerJustice), &enginev1.ListCasesRequest{
			States: []enginev1.CaseState{enginev1.CaseState_CASE_STATE_IN_REVIEW}, Step: enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION, PageSize: 9000,
		})
		require.NoError(t, err)
		lists, _, _, _ := fa.cases["justice"].calls()
		last := lists[len(lists)-1]
		require.Equal(t, []agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW}, last.GetStatuses())
		require.Equal(t, "birth_registration", last.GetKind())
		require.EqualValues(t, maxDeskPage, last.GetPageSize())

		_, err = desk.ListCases(as(t, officerJustice), &enginev1.ListCasesRequest{Step: enginev1.StepKind_STEP_KIND_ID_NUMBER})
		require.Contains(t, grpcViolations(t, err)["step"], "not a step of justice")
		_, err = desk.ListCases(as(t, officerJustice), &enginev1.ListCasesRequest{Agency: "police"})
		requireCode(t, err, codes.PermissionDenied)
		_, err = desk.ListCases(as(t, admin), &enginev1.ListCasesRequest{})
		require.Contains(t, grpcViolations(t, err), "agency", "an admin names the agency")
		resp, err := desk.ListCases(as(t, admin), &enginev1.ListCasesRequest{Agency: "police"})
		require.NoError(t, err)
		require.Len(t, resp.GetCases(), 1)
		require.Equal(t, "POL-1", resp.GetCases()[0].GetCaseId())
	})

	t.Run("another agency's case reads like an unknown one", func(t *testing.T) {
		_, err := desk.GetCase(as(t, officerJustice), &enginev1.GetCaseRequest{CaseId: "POL-1"})
		requireCode(t, err, codes.NotFound)
		_, err = desk.ClaimCase(as(t, officerJustice), &enginev1.ClaimCaseRequest{CaseId: "POL-1"})
		requireCode(t, err, codes.NotFound)
		_, gets, claims, _ := fa.cases["police"].calls()
		require.Empty(t, gets)
		require.Empty(t, claims)
		_, err = desk.GetCase(as(t, officerJustice), &enginev1.GetCaseRequest{CaseId: "XYZ-1"})
		require.Contains(t, grpcViolations(t, err), "case_id")
	})

	t.Run("GetCase shows the form and is audited", func(t *testing.T) {
		resp, err := desk.GetCase(as(t, officerJustice), &enginev1.GetCaseRequest{CaseId: "JUS-1"})
		require.NoError(t, err)
		require.Equal(t, "JUS-1", resp.GetCase().GetCaseId())
		require.Equal(t, d1.Code, resp.GetDossier().GetCode())
		require.NotNil(t, resp.GetDossier().GetBirth(), "the officer decides on the form")
		audits, err := e.store.AuditOf(context.Background(), d1.Code)
		require.NoError(t, err)
		require.NotEmpty(t, audits)
		last := audits[len(audits)-1]
		require.Equal(t, "view", last.Action)
		require.Equal(t, "officer:officer-j", last.Actor)
		require.Equal(t, "officer", last.Role)
		require.Contains(t, last.Purpose, "JUS-1")
	})

	t.Run("claim sends the officer's subject", func(t *testing.T) {
		resp, err := desk.ClaimCase(as(t, officerJustice), &enginev1.ClaimCaseRequest{CaseId: "JUS-1"})
		require.NoError(t, err)
		require.Equal(t, "officer-j", resp.GetCase().GetClaimedBy())
		require.Equal(t, enginev1.CaseState_CASE_STATE_IN_REVIEW, resp.GetCase().GetState())
		require.NotNil(t, resp.GetCase().GetDueAt(), "joined with the dossier")
		_, _, claims, _ := fa.cases["justice"].calls()
		require.Equal(t, "officer-j", claims[len(claims)-1].GetOfficer())

		_, err = desk.ClaimCase(as(t, admin), &enginev1.ClaimCaseRequest{CaseId: "JUS-3"})
		require.NoError(t, err)
		_, _, claims, _ = fa.cases["justice"].calls()
		require.Equal(t, "admin:admin-1", claims[len(claims)-1].GetOfficer(), "an admin is recorded as such")
	})

	t.Run("the agency's refusal reaches the officer", func(t *testing.T) {
		_, err := desk.ClaimCase(as(t, officerJustice), &enginev1.ClaimCaseRequest{CaseId: "JUS-2"})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Equal(t, "justice: case JUS-2 is claimed by officer-k", st.Message())
		_, err = desk.GetCase(as(t, officerJustice), &enginev1.GetCaseRequest{CaseId: "JUS-404"})
		requireCode(t, err, codes.NotFound)
	})

	t.Run("decide validates before asking the agency", func(t *testing.T) {
		_, _, _, before := fa.cases["justice"].calls()
		_, err := desk.DecideCase(as(t, officerJustice), &enginev1.DecideCaseRequest{CaseId: "JUS-1", Decision: enginev1.CaseDecision_CASE_DECISION_REJECT, Reason: "  "})
		vs := grpcViolations(t, err)
		require.Contains(t, vs["reason"], "required to reject")
		require.Len(t, vs, 1)

		_, err = desk.DecideCase(as(t, officerJustice), &enginev1.DecideCaseRequest{
			CaseId: "JUS-1", Decision: enginev1.CaseDecision_CASE_DECISION_REQUEST_SUPPLEMENT, Reason: "thiếu giấy", Missing: []string{" "},
		})
		vs = grpcViolations(t, err)
		require.Contains(t, vs, "missing")
		require.NotContains(t, vs, "reason")

		_, err = desk.DecideCase(as(t, officerJustice), &enginev1.DecideCaseRequest{CaseId: "JUS-1"})
		require.Contains(t, grpcViolations(t, err), "decision")

		_, err = desk.DecideCase(as(t, officerJustice), &enginev1.DecideCaseRequest{
			CaseId: "JUS-1", Decision: enginev1.CaseDecision_CASE_DECISION_APPROVE, NewAppointmentAt: timestamppb.New(now.Add(-time.Hour)),
		})
		require.Contains(t, grpcViolations(t, err), "new_appointment_at")

		_, _, _, after := fa.cases["justice"].calls()
		require.Len(t, after, len(before), "nothing invalid reaches the agency")
	})

	t.Run("a decision is forwarded and audited", func(t *testing.T) {
		resp, err := desk.DecideCase(as(t, officerJustice), &enginev1.DecideCaseRequest{
			CaseId: "JUS-3", Decision: enginev1.CaseDecision_CASE_DECISION_REQUEST_SUPPLEMENT, Reason: " thiếu giấy chứng sinh ", Missing: []string{"birth_certificate", " "},
		})
		require.NoError(t, err)
		require.Equal(t, enginev1.CaseState_CASE_STATE_NEEDS_SUPPLEMENT, resp.GetCase().GetState())
		require.Equal(t, []string{"birth_certificate"}, resp.GetCase().GetMissing())
		_, _, _, decides := fa.cases["justice"].calls()
		last := decides[len(decides)-1]
		require.Equal(t, "officer-j", last.GetOfficer())
		require.Equal(t, agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT, last.GetDecision())
		require.Equal(t, "thiếu giấy chứng sinh", last.GetReason())
		require.Equal(t, []string{"birth_certificate"}, last.GetMissing())
		audits, err := e.store.AuditOf(context.Background(), d3.Code)
		require.NoError(t, err)
		require.Equal(t, []string{"decide"}, auditActions(audits))
		require.Equal(t, "JUS-3 CASE_DECISION_REQUEST_SUPPLEMENT", audits[0].Purpose)
	})

	t.Run("only officers and admins use the desk", func(t *testing.T) {
		_, err := desk.ListCases(as(t, clerkA), &enginev1.ListCasesRequest{})
		requireCode(t, err, codes.PermissionDenied)
		_, err = desk.GetCase(as(t, supNational), &enginev1.GetCaseRequest{CaseId: "JUS-1"})
		requireCode(t, err, codes.PermissionDenied)
		_, err = desk.ListCases(as(t, agencyPolice), &enginev1.ListCasesRequest{})
		requireCode(t, err, codes.PermissionDenied)
		code, _ := e.rest(t, http.MethodGet, "/v1/desk/cases", token(t, clerkA), nil)
		require.Equal(t, http.StatusForbidden, code)
		code, body := e.rest(t, http.MethodGet, "/v1/desk/cases", token(t, officerJustice), nil)
		require.Equal(t, http.StatusOK, code, body)
		require.Len(t, body["cases"], 4)
	})

	t.Run("without agencies the desk is unavailable", func(t *testing.T) {
		bare := newEnv(t, tc)
		_, err := enginev1.NewDeskServiceClient(bare.conn).ListCases(as(t, officerJustice), &enginev1.ListCasesRequest{})
		st := requireCode(t, err, codes.Unavailable)
		require.Contains(t, st.Message(), "not connected")
	})
}

// ---- extracts ------------------------------------------------------------

func TestExtract(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	fa := newFakeAgencies()
	e := newEnv(t, tc, withAgencies(fa.clients()))
	now := time.Now()
	registration := func(kind dossier.StepKind, st dossier.StepStatus, caseID string) func(*dossier.Snapshot) {
		return func(s *dossier.Snapshot) {
			s.Status = dossier.StatusInProgress
			r := s.Step(kind)
			r.Status, r.CaseID, r.StatusSince = st, caseID, now
			if st == dossier.StepApproved {
				r.DecidedAt = timePtr(now)
			}
		}
	}
	pending := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-time.Hour), registration(dossier.StepBirthRegistration, dossier.StepAwaitingAgency, "JUS-20"))
	approved := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-time.Hour), registration(dossier.StepBirthRegistration, dossier.StepApproved, "JUS-21"))
	death := seedDossier(t, e.store, dossier.GroupDeath, "00004", "001", now.Add(-time.Hour), registration(dossier.StepDeathRegistration, dossier.StepApproved, "JUS-22"))
	payload := []byte(`{"case_id":"JUS-21","issued_at":"2026-03-02T10:00:00+07:00","issuer":"Ủy ban nhân dân Phường Ba Đình","registration_number":"KS-2026-000123","type":"birth"}`)
	fa.justice.extracts["JUS-21"] = &agencyv1.Extract{CaseId: "JUS-21", Kind: "birth", RegistrationBook: "KS-2026", RegistrationEntry: "123",
		Payload: payload, Signature: goodSignature, KeyId: "k1", IssuedAt: timestamppb.New(now)}
	fa.justice.extracts["JUS-22"] = &agencyv1.Extract{CaseId: "JUS-22", Kind: "death", Payload: []byte(`{"type":"death"}`), Signature: goodSignature, KeyId: "k1"}

	t.Run("no extract before the registration is approved", func(t *testing.T) {
		_, err := e.clerk().GetExtract(as(t, clerkA), &enginev1.GetExtractRequest{Code: pending.Code})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "not approved")
		gets, _ := fa.justice.calls()
		require.Empty(t, gets, "justice was not asked")
		audits, err := e.store.AuditOf(context.Background(), pending.Code)
		require.NoError(t, err)
		require.Empty(t, audits)
	})

	t.Run("an approved registration's extract comes from justice and is audited", func(t *testing.T) {
		resp, err := e.clerk().GetExtract(as(t, clerkA), &enginev1.GetExtractRequest{Code: approved.Code})
		require.NoError(t, err)
		x := resp.GetExtract()
		require.Equal(t, "JUS-21", x.GetCaseId())
		require.Equal(t, "birth", x.GetKind())
		require.Equal(t, "KS-2026", x.GetRegistrationBook())
		require.Equal(t, "123", x.GetRegistrationEntry())
		require.Equal(t, payload, x.GetPayload())
		require.Equal(t, goodSignature, x.GetSignature())
		require.Equal(t, "k1", x.GetKeyId())
		gets, _ := fa.justice.calls()
		require.Equal(t, []string{"JUS-21"}, gets)
		audits, err := e.store.AuditOf(context.Background(), approved.Code)
		require.NoError(t, err)
		require.Equal(t, []string{"view extract"}, auditActions(audits))
		require.Equal(t, "clerk:clerk-a", audits[0].Actor)

		resp, err = e.clerk().GetExtract(as(t, clerkA), &enginev1.GetExtractRequest{Code: death.Code})
		require.NoError(t, err)
		require.Equal(t, "JUS-22", resp.GetExtract().GetCaseId(), "a death dossier's extract is the death registration's")

		code, body := e.rest(t, http.MethodGet, "/v1/dossiers/"+approved.Code+"/extract", token(t, clerkA), nil)
		require.Equal(t, http.StatusOK, code, body)
	})

	t.Run("only the commune's clerks print it", func(t *testing.T) {
		_, err := e.clerk().GetExtract(as(t, supHN), &enginev1.GetExtractRequest{Code: approved.Code})
		requireCode(t, err, codes.PermissionDenied)
		_, err = e.clerk().GetExtract(as(t, clerkB), &enginev1.GetExtractRequest{Code: approved.Code})
		requireCode(t, err, codes.NotFound)
		_, err = e.clerk().GetExtract(as(t, clerkA), &enginev1.GetExtractRequest{})
		require.Contains(t, grpcViolations(t, err), "code")
	})

	t.Run("verify needs the payload", func(t *testing.T) {
		code, body := e.rest(t, http.MethodPost, "/v1/extracts/verify", "", map[string]any{
			"extract": map[string]any{"signature": "c2lnbmVk", "keyId": "k1"},
		})
		require.Equal(t, http.StatusBadRequest, code, body)
		vs := violationsOf(body)
		require.Contains(t, vs, "extract.payload")
		require.NotContains(t, vs, "extract.signature")
		require.NotContains(t, vs, "extract.key_id")

		_, err := e.citizen().VerifyExtract(anonymous(t), &enginev1.VerifyExtractRequest{})
		require.Contains(t, grpcViolations(t, err), "extract")
		_, verifies := fa.justice.calls()
		require.Empty(t, verifies)
	})

	t.Run("an authentic extract is read back from its signed content", func(t *testing.T) {
		resp, err := e.citizen().VerifyExtract(anonymous(t), &enginev1.VerifyExtractRequest{Extract: &enginev1.CertificateExtract{
			CaseId: "JUS-21", Kind: "something else", Payload: payload, Signature: goodSignature, KeyId: "k1",
		}})
		require.NoError(t, err)
		require.True(t, resp.GetAuthentic())
		require.Empty(t, resp.GetReason())
		require.Equal(t, "Ủy ban nhân dân Phường Ba Đình", resp.GetSignedBy())
		require.Equal(t, "KS-2026-000123", resp.GetRegistrationNumber())
		require.Equal(t, "birth", resp.GetKind(), "the signed type, not the claimed kind")
		require.Equal(t, "k1", resp.GetKeyId())
		require.True(t, resp.GetSignedAt().AsTime().Equal(time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)), resp.GetSignedAt().AsTime())
		_, verifies := fa.justice.calls()
		require.Equal(t, payload, verifies[len(verifies)-1].GetPayload())

		// Over REST, anonymously: bytes travel as base64.
		code, body := e.rest(t, http.MethodPost, "/v1/extracts/verify", "", &enginev1.VerifyExtractRequest{Extract: &enginev1.CertificateExtract{
			Payload: payload, Signature: goodSignature, KeyId: "k1",
		}})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, true, body["authentic"])
		require.Equal(t, "KS-2026-000123", body["registrationNumber"])
	})

	t.Run("a tampered extract is not authentic and says why", func(t *testing.T) {
		tampered := bytes.Replace(payload, []byte("000123"), []byte("000999"), 1)
		resp, err := e.citizen().VerifyExtract(anonymous(t), &enginev1.VerifyExtractRequest{Extract: &enginev1.CertificateExtract{
			Payload: tampered, Signature: []byte("copied"), KeyId: "k1",
		}})
		require.NoError(t, err)
		require.False(t, resp.GetAuthentic())
		require.Equal(t, "the signature does not match the content", resp.GetReason())
		require.Empty(t, resp.GetRegistrationNumber(), "unsigned content is not read back")
		require.Empty(t, resp.GetSignedBy())

		resp, err = e.citizen().VerifyExtract(anonymous(t), &enginev1.VerifyExtractRequest{Extract: &enginev1.CertificateExtract{
			Payload: payload, Signature: goodSignature, KeyId: "retired-9",
		}})
		require.NoError(t, err)
		require.False(t, resp.GetAuthentic())
		require.Equal(t, "key retired-9 is not one of the office's keys", resp.GetReason(), "the office's own reason")
	})
}

// ---- operations ----------------------------------------------------------

func TestOperations(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	fa := newFakeAgencies()
	police := fa.admin["police"]
	police.settings.Faults = &agencyv1.Faults{Seed: 7, UnavailableRatio: 0.25, AddedLatency: durationpb.New(200 * time.Millisecond), LostCallbackRatio: 0.1}
	e := newEnv(t, tc, withAgencies(fa.clients()))
	ops := enginev1.NewOperationsServiceClient(e.conn)

	t.Run("only an admin operates the agencies", func(t *testing.T) {
		for _, c := range []auth.Claims{supNational, officerPolice, clerkA} {
			_, err := ops.ListAgencies(as(t, c), &enginev1.ListAgenciesRequest{})
			requireCode(t, err, codes.PermissionDenied)
			_, err = ops.SetAgencyOutage(as(t, c), &enginev1.SetAgencyOutageRequest{Agency: "police", Duration: durationpb.New(time.Minute), Reason: "x"})
			requireCode(t, err, codes.PermissionDenied)
			_, err = ops.SetAgencyMode(as(t, c), &enginev1.SetAgencyModeRequest{Agency: "police", Mode: enginev1.AgencyMode_AGENCY_MODE_MANUAL})
			requireCode(t, err, codes.PermissionDenied)
		}
		_, faults := police.calls()
		require.Empty(t, faults)
	})

	t.Run("an outage sets the window and keeps the other faults", func(t *testing.T) {
		before := time.Now()
		resp, err := ops.SetAgencyOutage(as(t, admin), &enginev1.SetAgencyOutageRequest{Agency: "police", Duration: durationpb.New(30 * time.Minute), Reason: "diễn tập"})
		require.NoError(t, err)
		after := time.Now()
		_, faults := police.calls()
		require.Len(t, faults, 1)
		f := faults[0]
		require.NotNil(t, f.GetOutageFrom())
		require.NotNil(t, f.GetOutageUntil())
		require.False(t, f.GetOutageFrom().AsTime().After(before), "the outage has begun")
		require.False(t, f.GetOutageUntil().AsTime().Before(before.Add(30*time.Minute)))
		require.False(t, f.GetOutageUntil().AsTime().After(after.Add(30*time.Minute)))
		require.EqualValues(t, 7, f.GetSeed())
		require.InDelta(t, 0.25, f.GetUnavailableRatio(), 1e-9)
		require.InDelta(t, 0.1, f.GetLostCallbackRatio(), 1e-9)
		require.Equal(t, 200*time.Millisecond, f.GetAddedLatency().AsDuration())

		st := resp.GetAgency()
		require.Equal(t, "police", st.GetAgency())
		require.True(t, st.GetReachable())
		require.True(t, st.GetOutageUntil().AsTime().Equal(f.GetOutageUntil().AsTime()), "the outage is on now")
		require.InDelta(t, 0.25, st.GetUnavailableRatio(), 1e-9)

		rows := auditRows(t, e, "set agency outage")
		require.Len(t, rows, 1)
		require.Equal(t, "admin:admin-1", rows[0].Actor)
		require.Equal(t, "police for 30m0s: diễn tập", rows[0].Purpose)
	})

	t.Run("duration 0 ends the outage", func(t *testing.T) {
		resp, err := ops.SetAgencyOutage(as(t, admin), &enginev1.SetAgencyOutageRequest{Agency: "police", Duration: durationpb.New(0), Reason: "hết diễn tập"})
		require.NoError(t, err)
		_, faults := police.calls()
		require.Len(t, faults, 2)
		f := faults[1]
		require.Nil(t, f.GetOutageFrom())
		require.Nil(t, f.GetOutageUntil())
		require.EqualValues(t, 7, f.GetSeed(), "the other faults stay")
		require.InDelta(t, 0.25, f.GetUnavailableRatio(), 1e-9)
		require.Nil(t, resp.GetAgency().GetOutageUntil())
	})

	t.Run("outage input is checked", func(t *testing.T) {
		_, err := ops.SetAgencyOutage(as(t, admin), &enginev1.SetAgencyOutageRequest{Agency: "police", Duration: durationpb.New(25 * time.Hour), Reason: "x"})
		require.Contains(t, grpcViolations(t, err), "duration")
		_, err = ops.SetAgencyOutage(as(t, admin), &enginev1.SetAgencyOutageRequest{Agency: "police", Duration: durationpb.New(time.Minute)})
		require.Contains(t, grpcViolations(t, err), "reason")
		_, err = ops.SetAgencyOutage(as(t, admin), &enginev1.SetAgencyOutageRequest{Agency: "fire", Duration: durationpb.New(time.Minute), Reason: "x"})
		require.Contains(t, grpcViolations(t, err), "agency")
		_, faults := police.calls()
		require.Len(t, faults, 2, "nothing invalid reaches the agency")
	})

	t.Run("mode", func(t *testing.T) {
		_, err := ops.SetAgencyMode(as(t, admin), &enginev1.SetAgencyModeRequest{Agency: "portal", Mode: enginev1.AgencyMode_AGENCY_MODE_MANUAL})
		require.Contains(t, grpcViolations(t, err)["agency"], "portal")
		_, err = ops.SetAgencyMode(as(t, admin), &enginev1.SetAgencyModeRequest{Agency: "police"})
		require.Contains(t, grpcViolations(t, err), "mode")

		resp, err := ops.SetAgencyMode(as(t, admin), &enginev1.SetAgencyModeRequest{Agency: "police", Mode: enginev1.AgencyMode_AGENCY_MODE_MANUAL})
		require.NoError(t, err)
		require.Equal(t, enginev1.AgencyMode_AGENCY_MODE_MANUAL, resp.GetAgency().GetMode())
		modes, _ := police.calls()
		require.Len(t, modes, 1)
		require.Equal(t, agencyv1.DecisionMode_DECISION_MODE_MANUAL, modes[0].GetMode())
		require.Len(t, auditRows(t, e, "set agency mode"), 1)
	})

	t.Run("list shows every agency, reachable or not", func(t *testing.T) {
		resp, err := ops.ListAgencies(as(t, admin), &enginev1.ListAgenciesRequest{})
		require.NoError(t, err)
		var names []string
		for _, a := range resp.GetAgencies() {
			names = append(names, a.GetAgency())
		}
		require.Equal(t, []string{"justice", "police", "insurance", "portal", "sms"}, names)
		p := resp.GetAgencies()[1]
		require.True(t, p.GetReachable())
		require.Equal(t, enginev1.AgencyMode_AGENCY_MODE_MANUAL, p.GetMode())
		require.InDelta(t, 0.25, p.GetUnavailableRatio(), 1e-9)
		portal := resp.GetAgencies()[3]
		require.False(t, portal.GetReachable())
		require.Contains(t, portal.GetError(), "not connected")
	})
}

// ---- batch retry and audit -----------------------------------------------

func TestRetryBatch(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	ctx := context.Background()
	now := time.Now()
	sup := e.supervisor()
	stuck := func(kind dossier.StepKind, since time.Time, attempts int) func(*dossier.Snapshot) {
		return func(s *dossier.Snapshot) {
			s.Status = dossier.StatusInProgress
			st := s.Step(kind)
			st.Status, st.StatusSince, st.StartedAt = dossier.StepSending, since, timePtr(since)
			st.Attempts, st.LastError = attempts, "UNAVAILABLE: connection refused"
		}
	}
	// retried: the workflow sends this step now; skipped: the workflow has
	// not got to it; failed: no workflow yet; elsewhere: another province.
	retried := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.AddDate(0, 0, -7), stuck(dossier.StepBirthRegistration, now.AddDate(0, 0, -7), 5))
	skipped := seedDossier(t, e.store, dossier.GroupBirth, "00008", "001", now.AddDate(0, 0, -1), stuck(dossier.StepResidenceRegistration, now.Add(-2*time.Hour), 3))
	failed := seedDossier(t, e.store, dossier.GroupDeath, "00004", "001", now.AddDate(0, 0, -3), stuck(dossier.StepDeathRegistration, now.AddDate(0, 0, -3), 2))
	elsewhere := seedDossier(t, e.store, dossier.GroupBirth, "16681", "040", now.AddDate(0, 0, -2), stuck(dossier.StepBirthRegistration, now.AddDate(0, 0, -2), 4))
	for _, s := range []dossier.Snapshot{retried, skipped, elsewhere} {
		require.NoError(t, e.srv.ensureWorkflow(ctx, s))
	}
	attempts := func(t *testing.T, code string, kind dossier.StepKind) int {
		t.Helper()
		v, err := tc.QueryWorkflow(ctx, workflows.WorkflowID(code), "", workflows.QueryState)
		require.NoError(t, err)
		var snap dossier.Snapshot
		require.NoError(t, v.Get(&snap))
		return snap.Step(kind).Attempts
	}
	results := func(resp *enginev1.RetryBatchResponse) map[string]*enginev1.RetryBatchResult {
		out := map[string]*enginev1.RetryBatchResult{}
		for _, r := range resp.GetResults() {
			out[r.GetCode()] = r
		}
		return out
	}
	codesOf := func(resp *enginev1.RetryBatchResponse) []string {
		var out []string
		for _, r := range resp.GetResults() {
			out = append(out, r.GetCode())
		}
		return out
	}

	t.Run("a reason is required", func(t *testing.T) {
		_, err := sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{DryRun: true, Reason: " "})
		require.Contains(t, grpcViolations(t, err), "reason")
		_, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", Agency: "portal", Limit: -1})
		vs := grpcViolations(t, err)
		require.Contains(t, vs, "agency")
		require.Contains(t, vs, "limit")
		_, err = sup.RetryBatch(as(t, supNA), &enginev1.RetryBatchRequest{Reason: "x", ProvinceCode: "001"})
		requireCode(t, err, codes.PermissionDenied)
		_, err = sup.RetryBatch(as(t, clerkA), &enginev1.RetryBatchRequest{Reason: "x"})
		requireCode(t, err, codes.PermissionDenied)
	})

	t.Run("a dry run reports without retrying", func(t *testing.T) {
		resp, err := sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "police is back", DryRun: true})
		require.NoError(t, err)
		byCode := results(resp)
		require.ElementsMatch(t, []string{retried.Code, skipped.Code, failed.Code}, codesOf(resp), "the own province's stuck steps")
		for _, r := range resp.GetResults() {
			require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_WOULD_RETRY, r.GetOutcome())
		}
		require.Equal(t, enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION, byCode[skipped.Code].GetStep())
		require.Equal(t, "police", byCode[skipped.Code].GetAgency())
		require.Zero(t, resp.GetRetried()+resp.GetSkipped()+resp.GetFailed())
		require.Zero(t, attempts(t, retried.Code, dossier.StepBirthRegistration), "the workflow was not asked")

		resp, err = sup.RetryBatch(as(t, supNational), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true})
		require.NoError(t, err)
		require.Len(t, resp.GetResults(), 4, "the nation")
	})

	t.Run("filters narrow the batch", func(t *testing.T) {
		resp, err := sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_REGISTRATION})
		require.NoError(t, err)
		require.Equal(t, []string{skipped.Code}, codesOf(resp))
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Agency: "justice"})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{retried.Code, failed.Code}, codesOf(resp))
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Since: timestamppb.New(now.AddDate(0, 0, -1))})
		require.NoError(t, err)
		require.Equal(t, []string{skipped.Code}, codesOf(resp), "only steps stuck since then")
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Rules: []enginev1.StuckRule{enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT}})
		require.NoError(t, err)
		require.Empty(t, resp.GetResults())
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, []string{retried.Code}, codesOf(resp), "the longest stuck first")
		// The limit counts what the filters keep, not what they drop.
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Limit: 1, Since: timestamppb.New(now.AddDate(0, 0, -1))})
		require.NoError(t, err)
		require.Equal(t, []string{skipped.Code}, codesOf(resp))
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Limit: 1, Step: enginev1.StepKind_STEP_KIND_DEATH_REGISTRATION})
		require.NoError(t, err)
		require.Equal(t, []string{failed.Code}, codesOf(resp))
		// Named dossiers: the ones a dry run showed. One that is not stuck
		// (here: of another province, out of scope) is reported as skipped.
		resp, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Codes: []string{skipped.Code, elsewhere.Code}})
		require.NoError(t, err)
		byCode := results(resp)
		require.ElementsMatch(t, []string{skipped.Code, elsewhere.Code}, codesOf(resp))
		require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_WOULD_RETRY, byCode[skipped.Code].GetOutcome())
		require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_SKIPPED, byCode[elsewhere.Code].GetOutcome())
		require.Contains(t, byCode[elsewhere.Code].GetMessage(), "no longer stuck")
		_, err = sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "x", DryRun: true, Codes: []string{""}})
		require.Contains(t, grpcViolations(t, err), "codes")
	})

	t.Run("a run retries each dossier and counts the outcomes", func(t *testing.T) {
		resp, err := sup.RetryBatch(as(t, supHN), &enginev1.RetryBatchRequest{Reason: "police is back"})
		require.NoError(t, err)
		byCode := results(resp)
		require.Len(t, byCode, 3)
		require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_RETRIED, byCode[retried.Code].GetOutcome(), byCode[retried.Code].GetMessage())
		require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_SKIPPED, byCode[skipped.Code].GetOutcome(), byCode[skipped.Code].GetMessage())
		require.Contains(t, byCode[skipped.Code].GetMessage(), "cannot be retried")
		require.Equal(t, enginev1.RetryOutcome_RETRY_OUTCOME_FAILED, byCode[failed.Code].GetOutcome(), byCode[failed.Code].GetMessage())
		require.Contains(t, byCode[failed.Code].GetMessage(), "still starting")
		require.EqualValues(t, 1, resp.GetRetried())
		require.EqualValues(t, 1, resp.GetSkipped())
		require.EqualValues(t, 1, resp.GetFailed())
		require.Equal(t, 1, attempts(t, retried.Code, dossier.StepBirthRegistration), "the workflow retried the step")
		require.Zero(t, attempts(t, elsewhere.Code, dossier.StepBirthRegistration), "another province was left alone")
	})
}

func TestListAudit(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	ctx := context.Background()
	d := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", time.Now().Add(-time.Hour), nil)
	_, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: d.Code, Purpose: "trả kết quả"})
	require.NoError(t, err)

	resp, err := e.supervisor().ListAudit(as(t, supHN), &enginev1.ListAuditRequest{Code: d.Code})
	require.NoError(t, err)
	require.Len(t, resp.GetEntries(), 1)
	first := resp.GetEntries()[0]
	require.Equal(t, "clerk:clerk-a", first.GetActor())
	require.Equal(t, "clerk", first.GetRole())
	require.Equal(t, "view", first.GetAction())
	require.Equal(t, "trả kết quả", first.GetPurpose())
	require.NotNil(t, first.GetAt())

	audits, err := e.store.AuditOf(ctx, d.Code)
	require.NoError(t, err)
	require.Equal(t, []string{"view", "read audit"}, auditActions(audits), "reading the audit is audited")
	require.Equal(t, "supervisor:sup-hn", audits[1].Actor)

	resp, err = e.supervisor().ListAudit(as(t, admin), &enginev1.ListAuditRequest{Code: d.Code})
	require.NoError(t, err)
	require.Len(t, resp.GetEntries(), 2)
	require.Equal(t, "read audit", resp.GetEntries()[1].GetAction())

	_, err = e.supervisor().ListAudit(as(t, supNA), &enginev1.ListAuditRequest{Code: d.Code})
	requireCode(t, err, codes.NotFound)
	_, err = e.supervisor().ListAudit(as(t, clerkA), &enginev1.ListAuditRequest{Code: d.Code})
	requireCode(t, err, codes.PermissionDenied)
	audits, err = e.store.AuditOf(ctx, d.Code)
	require.NoError(t, err)
	require.Len(t, audits, 3, "refused reads record nothing")
}

// ---- statistics ----------------------------------------------------------

func TestStatisticsBacklogAndRanking(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	now := time.Now()
	day := 24 * time.Hour
	// Open dossiers in Hà Nội, received 0, 2, 5, 10 and 20 days ago; each is
	// due 72h after receipt, so the last three are overdue.
	for _, age := range []time.Duration{time.Hour, 2*day + time.Hour, 5 * day, 10 * day, 20 * day} {
		seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", now.Add(-age), nil)
	}
	finished := func(commune, province string, age, took time.Duration) {
		received := now.Add(-age)
		seedDossier(t, e.store, dossier.GroupBirth, commune, province, received, func(s *dossier.Snapshot) {
			s.Status, s.CompletedAt = dossier.StatusCompleted, timePtr(received.Add(took))
		})
	}
	finished("00004", "001", 4*day, time.Hour)     // on time
	finished("00008", "001", 6*day, 100*time.Hour) // late
	finished("16681", "040", 3*day, time.Hour)
	finished("16681", "040", 3*day, 2*time.Hour)
	finished("25747", "079", 2*day, time.Hour)

	resp, err := e.supervisor().GetStatistics(as(t, supNational), &enginev1.GetStatisticsRequest{})
	require.NoError(t, err)

	t.Run("backlog buckets open dossiers by age", func(t *testing.T) {
		type bucket struct {
			Label          string
			Count, Overdue int64
		}
		var got []bucket
		for _, b := range resp.GetBacklog() {
			got = append(got, bucket{b.GetLabel(), b.GetCount(), b.GetOverdue()})
		}
		require.Equal(t, []bucket{{"<1d", 1, 0}, {"1-3d", 1, 0}, {"3-7d", 1, 1}, {"7-14d", 1, 1}, {">14d", 1, 1}}, got)
		require.EqualValues(t, 5, resp.GetOpen(), "finished dossiers are not backlog")
		require.EqualValues(t, 3, resp.GetOpenOverdue())
	})

	t.Run("ranking orders provinces by on-time rate", func(t *testing.T) {
		type rank struct {
			Province                 string
			Received, Finished, On   int64
			Rate                     float64
			ByOnTime, ByVolumeRanked int32
		}
		var got []rank
		for _, r := range resp.GetRanking() {
			got = append(got, rank{r.GetProvinceCode(), r.GetReceived(), r.GetFinished(), r.GetOnTime(), r.GetOnTimeRate(), r.GetRankByOnTime(), r.GetRankByVolume()})
		}
		require.Equal(t, []rank{
			{"040", 2, 2, 2, 1, 1, 2},
			{"079", 1, 1, 1, 1, 2, 3},
			{"001", 7, 2, 1, 0.5, 3, 1},
		}, got)
	})

	t.Run("a province supervisor sees the own province", func(t *testing.T) {
		na, err := e.supervisor().GetStatistics(as(t, supNA), &enginev1.GetStatisticsRequest{})
		require.NoError(t, err)
		require.Len(t, na.GetRanking(), 1)
		require.Equal(t, "040", na.GetRanking()[0].GetProvinceCode())
		require.EqualValues(t, 1, na.GetRanking()[0].GetRankByOnTime())
		require.Zero(t, na.GetOpen())
		require.Len(t, na.GetBacklog(), 5, "every bucket, empty or not")
	})
}

func TestRankProvinces(t *testing.T) {
	t.Parallel()
	type want struct {
		province         string
		rate             float64
		onTime, byVolume int32
	}
	for _, tc := range []struct {
		name string
		rows []store.ProvinceRow
		want []want
	}{
		{name: "none", rows: nil, want: nil},
		{
			name: "by on-time rate, then volume rank apart",
			rows: []store.ProvinceRow{
				{ProvinceCode: "001", Received: 50, Finished: 10, OnTime: 5},
				{ProvinceCode: "040", Received: 20, Finished: 10, OnTime: 9},
				{ProvinceCode: "079", Received: 30, Finished: 10, OnTime: 7},
			},
			want: []want{{"040", 0.9, 1, 3}, {"079", 0.7, 2, 2}, {"001", 0.5, 3, 1}},
		},
		{
			name: "equal figures share a rank and the next rank skips",
			rows: []store.ProvinceRow{
				{ProvinceCode: "001", Received: 10, Finished: 4, OnTime: 2},
				{ProvinceCode: "031", Received: 10, Finished: 4, OnTime: 2},
				{ProvinceCode: "040", Received: 5, Finished: 2, OnTime: 2},
				{ProvinceCode: "079", Received: 3},
			},
			want: []want{{"040", 1, 1, 3}, {"001", 0.5, 2, 1}, {"031", 0.5, 2, 1}, {"079", 0, 4, 4}},
		},
		{
			name: "at the same rate more finished ranks first",
			rows: []store.ProvinceRow{
				{ProvinceCode: "001", Received: 2, Finished: 2, OnTime: 2},
				{ProvinceCode: "040", Received: 4, Finished: 4, OnTime: 4},
			},
			want: []want{{"040", 1, 1, 1}, {"001", 1, 2, 2}},
		},
		{
			name: "nothing finished ranks by volume only",
			rows: []store.ProvinceRow{
				{ProvinceCode: "001", Received: 1},
				{ProvinceCode: "040", Received: 3},
			},
			want: []want{{"001", 0, 1, 2}, {"040", 0, 1, 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []want
			for _, r := range rankProvinces(tc.rows) {
				got = append(got, want{r.GetProvinceCode(), r.GetOnTimeRate(), r.GetRankByOnTime(), r.GetRankByVolume()})
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// ---- GetDossier views and freshness --------------------------------------

func TestGetDossierViewAndFreshness(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	ctx := context.Background()
	received := time.Date(2026, 3, 2, 9, 0, 0, 0, civil.Zone)
	due := e.srv.cal.AddWorkingDays(received, 5)
	d := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", received, func(s *dossier.Snapshot) {
		s.Status, s.DueAt = dossier.StatusInProgress, due
	})
	form, err := proto.Marshal(validBirth(received, "view-1").GetForm())
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE engine.dossiers SET form = $2 WHERE code = $1`, d.Code, form)
	require.NoError(t, err)
	// Version 1 reached the portal; version 2 is newer here only.
	synced1, portal1, synced2 := received.Add(time.Minute), received.Add(2*time.Minute), received.Add(time.Hour)
	_, err = e.pool.Exec(ctx, `UPDATE engine.status_history SET synced_at = $2, portal_synced_at = $3 WHERE code = $1 AND version = 1`, d.Code, synced1, portal1)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO engine.status_history (code, version, status, at, synced_at) VALUES ($1, 2, 'IN_PROGRESS', $2, $2)`, d.Code, synced2)
	require.NoError(t, err)
	bare := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", time.Now(), nil)

	t.Run("the status view has no form and no audit", func(t *testing.T) {
		resp, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: d.Code, View: enginev1.DossierView_DOSSIER_VIEW_STATUS})
		require.NoError(t, err)
		got := resp.GetDossier()
		require.Nil(t, got.GetForm())
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_IN_PROGRESS, got.GetStatus())
		require.True(t, got.GetSyncedAt().AsTime().Equal(synced2), "the newest version's sync: %v", got.GetSyncedAt().AsTime())
		require.EqualValues(t, 1, got.GetPortalVersion())
		require.True(t, got.GetPortalSyncedAt().AsTime().Equal(portal1), "%v", got.GetPortalSyncedAt().AsTime())
		require.EqualValues(t, 5, got.GetWorkingDays())
		// The clerk's page reads the dossier's statuses, oldest first, with their times.
		tl := resp.GetTimeline()
		require.GreaterOrEqual(t, len(tl), 3, "receipt plus both versions")
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_RECEIVED, tl[0].GetDossierStatus())
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_IN_PROGRESS, tl[len(tl)-1].GetDossierStatus())
		require.True(t, tl[len(tl)-1].GetAt().AsTime().Equal(synced2))
		audits, err := e.store.AuditOf(ctx, d.Code)
		require.NoError(t, err)
		require.Empty(t, audits)
		events, err := e.store.Events(ctx, d.Code)
		require.NoError(t, err)
		for _, ev := range events {
			require.NotEqual(t, dossier.EventViewed, ev.Kind)
		}
	})

	t.Run("the default view has the form and is audited", func(t *testing.T) {
		resp, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: d.Code, Purpose: "in giấy hẹn"})
		require.NoError(t, err)
		got := resp.GetDossier()
		require.Equal(t, "0912 345 678", got.GetBirth().GetRequester().GetPhone())
		require.True(t, got.GetSyncedAt().AsTime().Equal(synced2))
		require.EqualValues(t, 5, got.GetWorkingDays())
		audits, err := e.store.AuditOf(ctx, d.Code)
		require.NoError(t, err)
		require.Len(t, audits, 1)
		require.Equal(t, "view", audits[0].Action)
		require.Equal(t, "in giấy hẹn", audits[0].Purpose)

		full, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: d.Code, View: enginev1.DossierView_DOSSIER_VIEW_FULL})
		require.NoError(t, err)
		require.NotNil(t, full.GetDossier().GetBirth())
		audits, err = e.store.AuditOf(ctx, d.Code)
		require.NoError(t, err)
		require.Len(t, audits, 2)
	})

	t.Run("without history there is no freshness", func(t *testing.T) {
		resp, err := e.clerk().GetDossier(as(t, clerkA), &enginev1.GetDossierRequest{Code: bare.Code, View: enginev1.DossierView_DOSSIER_VIEW_STATUS})
		require.NoError(t, err)
		require.Nil(t, resp.GetDossier().GetSyncedAt())
		require.Nil(t, resp.GetDossier().GetPortalSyncedAt())
		require.Zero(t, resp.GetDossier().GetPortalVersion())
		require.EqualValues(t, e.srv.cal.WorkingDaysBetween(bare.ReceivedAt, bare.DueAt), resp.GetDossier().GetWorkingDays())
	})

	t.Run("lists carry the freshness too", func(t *testing.T) {
		resp, err := e.clerk().ListDossiers(as(t, clerkA), &enginev1.ListDossiersRequest{})
		require.NoError(t, err)
		var found bool
		for _, got := range resp.GetDossiers() {
			if got.GetCode() == d.Code {
				found = true
				require.True(t, got.GetSyncedAt().AsTime().Equal(synced2))
				require.EqualValues(t, 1, got.GetPortalVersion())
				require.EqualValues(t, 5, got.GetWorkingDays())
			}
		}
		require.True(t, found)
	})
}
