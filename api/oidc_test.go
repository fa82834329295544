package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/internal/oidctest"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
)

const (
	testClientID     = "lienthong-console"
	testClientSecret = "console-secret"
)

var testSessionSecret = []byte("a session secret of its own, 32+ bytes")

// oidcEnv is an API server signing people in through an in-process provider.
type oidcEnv struct {
	*env
	idp *oidctest.Provider
}

// The provider's people: a clerk of Ba Đình, a clerk whose account lacks the
// commune, and a supervisor of Hà Nội (by a group name the role map knows).
var testIdPUsers = []oidctest.User{
	{ID: "u-lan", Label: "clerk", Claims: map[string]any{"roles": []any{"offline_access", "clerk"}, "commune": "00004", "province": "001", "name": "Nguyễn Thị Lan"}},
	{ID: "u-nocommune", Label: "clerk without commune", Claims: map[string]any{"roles": "clerk", "name": "Lê Văn Tám"}},
	{ID: "u-sup", Label: "supervisor", Claims: map[string]any{"roles": []any{"lienthong-supervisor"}, "province": "001"}},
}

func newOIDCEnv(t *testing.T, edit func(*oidctest.Options)) *oidcEnv {
	t.Helper()
	addr := freeport.Addr(t)
	base := "http://" + addr
	po := oidctest.Options{Users: testIdPUsers, Clients: []oidctest.Client{
		{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{base + OIDCCallbackPath}, PostLogoutURIs: []string{base + "/"}},
		{ID: "lienthong-cli", Secret: "cli-secret", Claims: map[string]any{"roles": "lienthong-supervisor"}},
	}}
	if edit != nil {
		edit(&po)
	}
	idp, err := oidctest.New(po)
	require.NoError(t, err)
	srv := httptest.NewServer(idp)
	t.Cleanup(srv.Close)
	idp.SetIssuer(srv.URL)
	roleMap, err := auth.ParseRoleMap("clerk=clerk,lienthong-supervisor=supervisor")
	require.NoError(t, err)
	verifier, err := auth.NewOIDC(auth.OIDCOptions{Issuer: idp.Issuer(), Audience: testClientID, Claims: auth.DefaultClaimNames(), RoleMap: roleMap})
	require.NoError(t, err)
	e := newEnv(t, temporalClient(t), func(o *Options) {
		o.HTTPAddr = addr
		o.SessionSecret = testSessionSecret
		o.OIDC = &OIDCOptions{Tokens: verifier, ClientID: testClientID, ClientSecret: testClientSecret,
			Scopes: []string{"openid", "profile"}, PublicURL: base, Name: "Cổng định danh thử"}
	})
	return &oidcEnv{env: e, idp: idp}
}

// browser is a cookie-keeping client that stops at every redirect, so each
// step of the flow can be looked at.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, headers map[string]string, body any) (*http.Response, map[string]any) {
	b.t.Helper()
	var r io.Reader
	switch m := body.(type) {
	case nil:
	case proto.Message:
		j, err := protojson.Marshal(m)
		require.NoError(b.t, err)
		r = bytes.NewReader(j)
	default:
		j, err := json.Marshal(body)
		require.NoError(b.t, err)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, r)
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out)
	}
	return resp, out
}

func (b *browser) get(u string) *http.Response {
	b.t.Helper()
	resp, _ := b.do(http.MethodGet, u, nil, nil)
	return resp
}

func (b *browser) cookie(base, name string) *http.Cookie {
	// Under the flow's path, every cookie of the API is sent.
	u, _ := url.Parse(base + flowPath + "callback")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// startSignIn goes to the start page and returns the provider's
// authorization URL it was sent to.
func (b *browser) startSignIn(e *oidcEnv, next string) *url.URL {
	b.t.Helper()
	resp := b.get(e.base + OIDCStartPath + "?next=" + url.QueryEscape(next))
	require.Equal(b.t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	require.True(b.t, strings.HasPrefix(loc.String(), e.idp.Issuer()+"/authorize?"), loc.String())
	return loc
}

// chooseUser signs in at the provider and returns where it sends the browser back.
func (b *browser) chooseUser(authorize *url.URL, user string) *url.URL {
	b.t.Helper()
	q := authorize.Query()
	q.Set("user", user)
	authorize.RawQuery = q.Encode()
	resp := b.get(authorize.String())
	require.Equal(b.t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	return back
}

// signInAs runs the whole flow and returns the console address it ends on.
func (b *browser) signInAs(e *oidcEnv, user, next string) string {
	b.t.Helper()
	back := b.chooseUser(b.startSignIn(e, next), user)
	resp := b.get(back.String())
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	return resp.Header.Get("Location")
}

func (b *browser) session(e *oidcEnv) (int, map[string]any) {
	resp, body := b.do(http.MethodGet, e.base+"/v1/session", nil, nil)
	s, _ := body["session"].(map[string]any)
	return resp.StatusCode, s
}

func TestOIDCSignInWithPKCE(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, func(o *oidctest.Options) { o.AccessTTL = time.Minute })
	b := newBrowser(t)

	t.Run("the options offer the provider by name", func(t *testing.T) {
		code, body := e.rest(t, http.MethodGet, "/v1/session/options", "", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, OIDCStartPath, body["identityProviderUrl"])
		require.Equal(t, "Cổng định danh thử", body["identityProviderName"])
	})

	authorize := b.startSignIn(e, "/clerk")
	t.Run("start sends the browser to the provider with state, nonce and an S256 challenge", func(t *testing.T) {
		q := authorize.Query()
		require.Equal(t, "code", q.Get("response_type"))
		require.Equal(t, testClientID, q.Get("client_id"))
		require.Equal(t, e.base+OIDCCallbackPath, q.Get("redirect_uri"))
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.Len(t, q.Get("code_challenge"), 43, "base64url of a SHA-256")
		require.NotEmpty(t, q.Get("state"))
		require.NotEmpty(t, q.Get("nonce"))
		require.Contains(t, strings.Fields(q.Get("scope")), "openid")
		flow := b.cookie(e.base, flowCookie)
		require.NotNil(t, flow)
		require.NotContains(t, flow.Value, q.Get("state"), "the flow cookie is sealed")
	})

	back := b.chooseUser(authorize, "u-lan")
	resp := b.get(back.String())
	t.Run("the callback sets sealed, HttpOnly cookies and lands on the page asked for", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/#/clerk", resp.Header.Get("Location"))
		sc, rc := setCookie(resp, SessionCookie), setCookie(resp, RefreshCookie)
		require.NotNil(t, sc)
		require.NotNil(t, rc)
		for _, c := range []*http.Cookie{sc, rc} {
			require.True(t, c.HttpOnly, c.Name)
			require.Equal(t, http.SameSiteStrictMode, c.SameSite, c.Name)
			require.InDelta(t, sessionTTL.Seconds(), c.MaxAge, 5, c.Name)
		}
		require.Equal(t, refreshPath, rc.Path, "only the session's endpoints get the refresh token")
		require.Negative(t, setCookie(resp, flowCookie).MaxAge, "a flow is good once")
		c, err := e.srv.tokens.Verify(context.Background(), e.openSession(t, sc).Token)
		require.NoError(t, err, "the session holds the provider's access token")
		require.Equal(t, "u-lan", c.Subject)
		require.Equal(t, e.idp.Issuer(), c.Issuer)
	})

	code, session := b.session(e)
	require.Equal(t, http.StatusOK, code)
	t.Run("the session says who signed in, from the token's claims", func(t *testing.T) {
		require.Equal(t, "u-lan", session["subject"])
		require.Equal(t, "clerk", session["role"])
		require.Equal(t, "00004", session["communeCode"])
		require.Equal(t, "001", session["provinceCode"])
		require.Equal(t, "Nguyễn Thị Lan", session["displayName"])
		require.Equal(t, true, session["refreshable"])
		exp, err := time.Parse(time.RFC3339, session["expiresAt"].(string))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(time.Minute), exp, 5*time.Second, "the token's own expiry")
		signIns := auditRows(t, e.env, "sign-in")
		require.Len(t, signIns, 1)
		require.Equal(t, "clerk:u-lan", signIns[0].Actor)
		require.Equal(t, "openid connect "+e.idp.Issuer(), signIns[0].Purpose)
	})
	csrf := session["csrfToken"].(string)

	t.Run("the provider's token works on the API, CSRF-protected", func(t *testing.T) {
		resp, body := b.do(http.MethodPost, e.base+"/v1/dossiers/birth", nil, validBirth(time.Now(), "oidc-no-csrf"))
		require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
		resp, body = b.do(http.MethodPost, e.base+"/v1/dossiers/birth", map[string]string{CSRFHeader: csrf}, validBirth(time.Now(), "oidc-csrf"))
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.True(t, strings.HasPrefix(body["code"].(string), "00004-"))
	})

	before := b.cookie(e.base, SessionCookie).Value
	oldRefresh := b.cookie(e.base, RefreshCookie).Value
	t.Run("refresh renews the token, keeps the CSRF token, and needs it", func(t *testing.T) {
		resp, _ := b.do(http.MethodPost, e.base+sessionRefreshPath, nil, map[string]any{})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "no CSRF token")
		requests := e.idp.TokenRequests()
		time.Sleep(1100 * time.Millisecond) // a new token has a later iat and exp
		resp, body := b.do(http.MethodPost, e.base+sessionRefreshPath, map[string]string{CSRFHeader: csrf}, map[string]any{})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Equal(t, requests+1, e.idp.TokenRequests(), "the refresh went to the provider")
		require.Empty(t, body["token"], "the token travels only in the cookie")
		require.Empty(t, body["refreshState"])
		renewed := body["session"].(map[string]any)
		require.Equal(t, csrf, renewed["csrfToken"], "requests already sent with the old one still pass")
		require.Equal(t, "u-lan", renewed["subject"])
		require.Greater(t, renewed["expiresAt"].(string), session["expiresAt"].(string))
		require.NotEqual(t, before, b.cookie(e.base, SessionCookie).Value)
		require.NotEqual(t, e.openSession(t, &http.Cookie{Value: before}).Token, e.openSession(t, b.cookie(e.base, SessionCookie)).Token)
		resp, _ = b.do(http.MethodPost, e.base+"/v1/dossiers/birth", map[string]string{CSRFHeader: csrf}, validBirth(time.Now(), "oidc-after-refresh"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("sign-out clears both cookies, is audited and ends the session at the provider", func(t *testing.T) {
		resp, body := b.do(http.MethodPost, e.base+"/v1/session/sign-out", nil, map[string]any{})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		for _, name := range []string{SessionCookie, RefreshCookie} {
			c := setCookie(resp, name)
			require.NotNil(t, c, name)
			require.Negative(t, c.MaxAge, name)
		}
		end, err := url.Parse(body["endSessionUrl"].(string))
		require.NoError(t, err)
		require.Equal(t, e.idp.Issuer()+"/end-session", end.Scheme+"://"+end.Host+end.Path)
		require.Equal(t, e.base+"/", end.Query().Get("post_logout_redirect_uri"))
		require.NotEmpty(t, end.Query().Get("id_token_hint"))
		outs := auditRows(t, e.env, "sign-out")
		require.Len(t, outs, 1)
		require.Equal(t, "clerk:u-lan", outs[0].Actor)

		back := b.get(end.String())
		require.Equal(t, http.StatusFound, back.StatusCode)
		require.Equal(t, e.base+"/", back.Header.Get("Location"), "back to the console")
		require.Equal(t, []string{"u-lan"}, e.idp.Logouts())
		code, _ := b.session(e)
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("after logout the old refresh cookie renews nothing", func(t *testing.T) {
		// A copy kept by someone who had the cookies: the provider's session is over.
		resp, body := b.do(http.MethodPost, e.base+sessionRefreshPath, map[string]string{
			CSRFHeader: csrf, "Cookie": SessionCookie + "=" + before + "; " + RefreshCookie + "=" + oldRefresh,
		}, map[string]any{})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
		require.Contains(t, body["message"], "no longer renews this session")
	})
}

func TestOIDCSignInRefusals(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, nil)

	failure := func(t *testing.T, loc string) url.Values {
		t.Helper()
		require.True(t, strings.HasPrefix(loc, "/#/signin?"), loc)
		q, err := url.ParseQuery(strings.TrimPrefix(loc, "/#/signin?"))
		require.NoError(t, err)
		return q
	}
	noSession := func(t *testing.T, b *browser) {
		t.Helper()
		require.Nil(t, b.cookie(e.base, SessionCookie))
		code, _ := b.session(e)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	callback := func(t *testing.T, b *browser, back *url.URL) *http.Response {
		t.Helper()
		resp := b.get(back.String())
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		return resp
	}

	t.Run("a state that is not the browser's is refused", func(t *testing.T) {
		b := newBrowser(t)
		back := b.chooseUser(b.startSignIn(e, ""), "u-lan")
		q := back.Query()
		q.Set("state", "forged-"+q.Get("state"))
		back.RawQuery = q.Encode()
		require.Equal(t, "state", failure(t, callback(t, b, back).Header.Get("Location")).Get("error"))
		noSession(t, b)
	})

	t.Run("a callback in another browser is refused", func(t *testing.T) {
		victim, attacker := newBrowser(t), newBrowser(t)
		back := attacker.chooseUser(attacker.startSignIn(e, ""), "u-lan")
		require.Equal(t, "state", failure(t, callback(t, victim, back).Header.Get("Location")).Get("error"))
		noSession(t, victim)
	})

	// tampered signs in as u-lan with the browser's flow cookie changed by
	// edit (re-sealed with the server's keys, as no attacker could) and
	// returns where the callback sends the browser.
	tampered := func(t *testing.T, edit func(*signInFlow)) string {
		t.Helper()
		b := newBrowser(t)
		back := b.chooseUser(b.startSignIn(e, ""), "u-lan")
		flow, err := unseal[signInFlow](e.srv.keys, flowCookie, b.cookie(e.base, flowCookie).Value, time.Now())
		require.NoError(t, err)
		edit(&flow)
		forged, err := seal(e.srv.keys, flowCookie, flow, time.Now().Add(time.Minute))
		require.NoError(t, err)
		u, _ := url.Parse(e.base + flowPath)
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: flowCookie, Value: forged, Path: flowPath}})
		return callback(t, b, back).Header.Get("Location")
	}

	t.Run("the provider checks the PKCE verifier", func(t *testing.T) {
		require.Equal(t, "/#/", tampered(t, func(*signInFlow) {}), "re-sealed unchanged, the flow works")
		// The right state and nonce with another verifier, as someone who
		// took the code but not the browser's flow would have.
		loc := tampered(t, func(f *signInFlow) { f.Verifier = oauth2.GenerateVerifier() })
		require.Equal(t, "exchange", failure(t, loc).Get("error"))
	})

	t.Run("an ID token without the flow's nonce is refused", func(t *testing.T) {
		loc := tampered(t, func(f *signInFlow) { f.Nonce = "another nonce" })
		require.Equal(t, "token", failure(t, loc).Get("error"))
	})

	t.Run("a clerk whose token lacks the commune is told which claim", func(t *testing.T) {
		b := newBrowser(t)
		q := failure(t, b.signInAs(e, "u-nocommune", "/clerk"))
		require.Equal(t, "claim", q.Get("error"))
		require.Equal(t, "commune", q.Get("claim"))
		require.Equal(t, "commune", q.Get("need"))
		noSession(t, b)
		for _, row := range auditRows(t, e.env, "sign-in") {
			require.NotContains(t, row.Actor, "u-nocommune", "a refused sign-in is no sign-in")
		}
	})

	t.Run("the person cancels at the provider", func(t *testing.T) {
		b := newBrowser(t)
		authorize := b.startSignIn(e, "")
		q := authorize.Query()
		q.Set("deny", "1")
		authorize.RawQuery = q.Encode()
		resp := b.get(authorize.String())
		back, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		f := failure(t, callback(t, b, back).Header.Get("Location"))
		require.Equal(t, "provider", f.Get("error"))
		require.Equal(t, "access_denied", f.Get("reason"))
	})

	t.Run("next never leaves the console", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil"} {
			b := newBrowser(t)
			require.Equal(t, "/#/", b.signInAs(e, "u-sup", next), next)
		}
	})
}

func TestOIDCTokensOnTheAPI(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, func(o *oidctest.Options) { o.Audience = testClientID })
	sc := enginev1.NewSessionServiceClient(e.conn)
	call := func(tok string) (*enginev1.GetSessionResponse, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return sc.GetSession(auth.WithBearer(ctx, tok), &enginev1.GetSessionRequest{})
	}
	good := map[string]any{"sub": "u-1", "aud": testClientID, "roles": "clerk", "commune": "00004"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}

	t.Run("a good token is accepted", func(t *testing.T) {
		resp, err := call(e.idp.Sign(good))
		require.NoError(t, err)
		require.Equal(t, "00004", resp.GetSession().GetCommuneCode())
	})
	t.Run("a token for another audience is refused", func(t *testing.T) {
		_, err := call(e.idp.Sign(with("aud", "another-app")))
		st := requireCode(t, err, codes.Unauthenticated)
		require.Contains(t, st.Message(), `expected audience "lienthong-console"`)
	})
	t.Run("an expired token is refused", func(t *testing.T) {
		_, err := call(e.idp.Sign(with("exp", time.Now().Add(-time.Minute).Unix())))
		st := requireCode(t, err, codes.Unauthenticated)
		require.Contains(t, st.Message(), "it expired at")
	})
	t.Run("a clerk token without the commune is refused, naming the claim", func(t *testing.T) {
		_, err := call(e.idp.Sign(with("commune", nil)))
		st := requireCode(t, err, codes.PermissionDenied)
		require.Contains(t, st.Message(), `claim "commune"`)
		require.Contains(t, st.Message(), "is missing")
	})
	t.Run("HS256 tokens are refused for people", func(t *testing.T) {
		_, err := call(token(t, clerkA))
		st := requireCode(t, err, codes.Unauthenticated)
		require.Contains(t, st.Message(), "HS256 tokens are dev tokens")
		// An agency's system still pushes with its callback token.
		_, err = e.callback().ReportCase(as(t, agencyPolice), &enginev1.ReportCaseRequest{})
		require.Equal(t, codes.InvalidArgument, status.Code(err), "past authentication, to the empty report: %v", err)
	})
	t.Run("the CLI's client-credentials token is accepted", func(t *testing.T) {
		resp, err := http.PostForm(e.idp.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {"lienthong-cli"}, "client_secret": {"cli-secret"}})
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
		// The provider puts the API's audience in every access token.
		resp2, err := call(tr.AccessToken)
		require.NoError(t, err)
		require.Equal(t, "supervisor", resp2.GetSession().GetRole())
		require.Equal(t, "lienthong-cli", resp2.GetSession().GetSubject())
	})
}

func TestOIDCNeedsASessionSecretOfItsOwn(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewOIDC(auth.OIDCOptions{Issuer: "https://sso.example.gov.vn", Audience: testClientID, Claims: auth.DefaultClaimNames()})
	require.NoError(t, err)
	signIn := &OIDCOptions{Tokens: verifier, ClientID: testClientID, ClientSecret: testClientSecret, PublicURL: "https://lienthong.example.gov.vn"}
	for name, secret := range map[string][]byte{"none": nil, "the token key": testKey} {
		_, err := New(context.Background(), Options{Store: store.New(nil), Temporal: temporalClient(t), TokenKey: testKey,
			SessionSecret: secret, OIDC: signIn, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
		require.ErrorContains(t, err, "a session secret of its own is required", name)
	}
}
