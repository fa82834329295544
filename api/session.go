package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// DemoUser is a person a dev stack offers on its sign-in page.
type DemoUser struct {
	ID, Label string
	Claims    auth.Claims
}

// Session cookie and CSRF header names. The session cookie holds the bearer
// token, sealed with the session secret together with the session's id; it
// is HttpOnly, so page scripts never see it, and SameSite=Strict, so other
// sites' pages never send it. The CSRF token, bound to the session's id by
// an HMAC, is returned by GetSession and must come back in the header on
// every request that changes state. The id outlives a renewed token, so a
// refresh never invalidates a request already on its way.
const (
	SessionCookie = "lienthong_session"
	CSRFHeader    = "X-CSRF-Token"
	// sessionTTL is a session's longest life, renewals included.
	sessionTTL = 12 * time.Hour
)

// browserSession is what the session cookie holds.
type browserSession struct {
	Token string `json:"t"`
	SID   string `json:"s"`
	// Ends is the session's absolute end.
	Ends int64 `json:"end"`
}

// browserSessionKey carries a request's unsealed session cookie from
// withSession to the gateway's response hook.
type browserSessionKey struct{}

type sessionService struct {
	enginev1.UnimplementedSessionServiceServer
	s *Server
}

func (ss *sessionService) ListSignInOptions(context.Context, *enginev1.ListSignInOptionsRequest) (*enginev1.ListSignInOptionsResponse, error) {
	resp := &enginev1.ListSignInOptionsResponse{}
	if o := ss.s.oidc; o != nil {
		resp.IdentityProviderUrl, resp.IdentityProviderName = OIDCStartPath, o.opts.Name
	}
	for _, u := range ss.s.demoUsers {
		resp.DemoUsers = append(resp.DemoUsers, &enginev1.DemoUser{
			Id: u.ID, Label: u.Label, Role: string(u.Claims.Role),
			CommuneCode: u.Claims.Commune, ProvinceCode: u.Claims.Province, Agency: u.Claims.Agency,
		})
	}
	return resp, nil
}

func (ss *sessionService) SignIn(ctx context.Context, req *enginev1.SignInRequest) (*enginev1.SignInResponse, error) {
	s := ss.s
	if len(s.demoUsers) == 0 {
		return nil, dossier.Errorf(dossier.KindFailedPrecondition, "demo sign-in is offered only by a dev stack; sign in through the identity provider")
	}
	id := strings.TrimSpace(req.GetDemoUserId())
	if id == "" {
		return nil, invalid(violation("demo_user_id", "is required"))
	}
	for _, u := range s.demoUsers {
		if u.ID != id {
			continue
		}
		tok, err := auth.Issue(s.key, u.Claims, sessionTTL)
		if err != nil {
			return nil, err
		}
		c, err := auth.Verify(s.key, tok)
		if err != nil {
			return nil, err
		}
		if err := s.audit(auth.NewContext(ctx, c), "sign-in", "", "demo user "+u.ID); err != nil {
			return nil, err
		}
		return &enginev1.SignInResponse{Session: s.sessionProto(c, u.Label, false), Token: tok}, nil
	}
	return nil, invalid(violation("demo_user_id", "is not one of this stack's demo users"))
}

func (ss *sessionService) GetSession(ctx context.Context, _ *enginev1.GetSessionRequest) (*enginev1.GetSessionResponse, error) {
	s := ss.s
	c := caller(ctx)
	label := ""
	for _, u := range s.demoUsers {
		if u.Claims.Subject == c.Subject && u.Claims.Role == c.Role {
			label = u.Label
		}
	}
	_, refreshable := s.refreshFromMD(ctx)
	return &enginev1.GetSessionResponse{Session: s.sessionProto(c, label, refreshable && s.oidc != nil)}, nil
}

func (ss *sessionService) RefreshSession(ctx context.Context, _ *enginev1.RefreshSessionRequest) (*enginev1.RefreshSessionResponse, error) {
	s := ss.s
	if s.oidc == nil {
		return nil, dossier.Errorf(dossier.KindFailedPrecondition, "no identity provider is configured: this stack's sessions are not renewed")
	}
	st, ok := s.refreshFromMD(ctx)
	if !ok {
		return nil, dossier.Errorf(dossier.KindUnauthenticated, "this session cannot be renewed (no refresh cookie, or it has expired); sign in again")
	}
	tok, c, idToken, err := s.oidc.refresh(ctx, st)
	if err != nil {
		return nil, auth.VerifyError(err)
	}
	// The provider may or may not rotate the refresh token, or send a new ID token.
	if tok.RefreshToken != "" {
		st.Refresh = tok.RefreshToken
	}
	if idToken != "" {
		st.IDToken = idToken
	}
	st.Role = string(c.Role)
	sealed, err := s.sealRefresh(st)
	if err != nil {
		return nil, err
	}
	return &enginev1.RefreshSessionResponse{Session: s.sessionProto(c, "", true), Token: tok.AccessToken, RefreshState: sealed}, nil
}

// SignOut records who signed out, and, signed in through a provider with
// RP-initiated logout, where to end the session there. The cookies are
// cleared by the gateway's hook.
func (ss *sessionService) SignOut(ctx context.Context, _ *enginev1.SignOutRequest) (*enginev1.SignOutResponse, error) {
	s := ss.s
	st, refreshable := s.refreshFromMD(ctx)
	var who auth.Claims
	if bs, ok := s.sessionFromMD(ctx); ok {
		// An expired token still says who is leaving; only the audit reads it.
		if c, err := s.tokens.Verify(ctx, bs.Token); err == nil {
			who = c
		}
	}
	if who.Role == "" && refreshable {
		who = auth.Claims{Subject: st.Subject, Role: auth.Role(st.Role)}
	}
	if who.Role != "" {
		if err := s.audit(auth.NewContext(ctx, who), "sign-out", "", "console"); err != nil {
			return nil, err
		}
	}
	resp := &enginev1.SignOutResponse{}
	if s.oidc != nil && (refreshable || who.Issuer == s.oidc.opts.Tokens.Issuer()) {
		resp.EndSessionUrl = s.oidc.endSessionURL(ctx, st.IDToken)
	}
	return resp, nil
}

func (s *Server) sessionProto(c auth.Claims, label string, refreshable bool) *enginev1.Session {
	if label == "" {
		label = c.Name
	}
	if label == "" {
		label = c.Subject
	}
	return &enginev1.Session{
		Subject: c.Subject, Role: string(c.Role), CommuneCode: c.Commune, ProvinceCode: c.Province,
		Agency: c.Agency, DisplayName: label, ExpiresAt: timestamppb.New(c.ExpiresAt), Refreshable: refreshable,
	}
}

// csrfToken binds a CSRF token to one session's id, so a token taken from
// one session is worthless in another and nothing needs storing.
func (s *Server) csrfToken(sid string) string {
	m := hmac.New(sha256.New, s.keys.csrf)
	m.Write([]byte("lienthong csrf\x00"))
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// cookie is every cookie this API sets: HttpOnly, and Secure whenever the
// console is served over https.
func (s *Server) cookie(name, value, path string, sameSite http.SameSite, maxAge int) *http.Cookie {
	// A dev stack on loopback http cannot set Secure; Options.SecureCookies does everywhere else.
	return &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: sameSite, MaxAge: maxAge, Secure: s.secureCookies} //nolint:gosec // G124: see above
}

func (s *Server) setSessionCookie(w http.ResponseWriter, bs browserSession) error {
	ends := time.Unix(bs.Ends, 0)
	v, err := seal(s.keys, SessionCookie, bs, ends)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(SessionCookie, v, "/", http.SameSiteStrictMode, maxAge(ends, s.now())))
	return nil
}

// forwardSession is the gateway's hook on responses: it seals a new or
// renewed session's token into the cookie, out of the JSON body, gives the
// browser its CSRF token, and clears the cookies on sign-out.
func (s *Server) forwardSession(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	current, hasSession := ctx.Value(browserSessionKey{}).(browserSession)
	switch r := m.(type) {
	case *enginev1.SignInResponse:
		bs := browserSession{Token: r.GetToken(), SID: rand.Text(), Ends: s.now().Add(sessionTTL).Unix()}
		if err := s.setSessionCookie(w, bs); err != nil {
			return err
		}
		r.Token = ""
		r.Session.CsrfToken = s.csrfToken(bs.SID)
	case *enginev1.GetSessionResponse:
		if hasSession && r.GetSession() != nil {
			r.Session.CsrfToken = s.csrfToken(current.SID)
		}
	case *enginev1.RefreshSessionResponse:
		if !hasSession {
			return dossier.Errorf(dossier.KindUnauthenticated, "no session to renew; sign in again")
		}
		bs := browserSession{Token: r.GetToken(), SID: current.SID, Ends: current.Ends}
		if err := s.setSessionCookie(w, bs); err != nil {
			return err
		}
		if r.GetRefreshState() != "" {
			s.setRefreshCookie(w, r.GetRefreshState(), time.Unix(bs.Ends, 0))
		}
		r.Token, r.RefreshState = "", ""
		r.Session.CsrfToken = s.csrfToken(bs.SID)
	case *enginev1.SignOutResponse:
		for _, c := range []struct{ name, path string }{{SessionCookie, "/"}, {RefreshCookie, refreshPath}} {
			http.SetCookie(w, s.cookie(c.name, "", c.path, http.SameSiteStrictMode, -1))
		}
	}
	return nil
}

// mdCookies are the browser's cookies, as the gateway forwards them.
func mdCookies(ctx context.Context, name string) []*http.Cookie {
	md, _ := metadata.FromIncomingContext(ctx)
	var out []*http.Cookie
	for _, line := range md.Get("grpcgateway-cookie") {
		cs, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cs {
			if c.Name == name {
				out = append(out, c)
			}
		}
	}
	return out
}

// refreshFromMD opens the refresh cookie a REST call came with.
func (s *Server) refreshFromMD(ctx context.Context) (refreshState, bool) {
	for _, c := range mdCookies(ctx, RefreshCookie) {
		if st, err := unseal[refreshState](s.keys, RefreshCookie, c.Value, s.now()); err == nil {
			return st, true
		}
	}
	return refreshState{}, false
}

// sessionFromMD opens the session cookie a REST call came with.
func (s *Server) sessionFromMD(ctx context.Context) (browserSession, bool) {
	for _, c := range mdCookies(ctx, SessionCookie) {
		if bs, err := unseal[browserSession](s.keys, SessionCookie, c.Value, s.now()); err == nil {
			return bs, true
		}
	}
	return browserSession{}, false
}

// browserSessionOf opens a request's session cookie.
func (s *Server) browserSessionOf(r *http.Request) (browserSession, bool) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return browserSession{}, false
	}
	bs, err := unseal[browserSession](s.keys, SessionCookie, ck.Value, s.now())
	return bs, err == nil
}

// anonymousPaths never act on a session cookie: they are open to everyone,
// and a signed-in clerk who looks up a dossier as a citizen would does so
// as a citizen.
var anonymousPaths = map[string]bool{
	"/v1/lookup":           true,
	"/v1/extracts/verify":  true,
	"/v1/places":           true,
	"/v1/session/options":  true,
	"/v1/session/sign-out": true,
}

// sessionRefreshPath renews the session: it needs the CSRF token like any
// write, but not a live token, which may just have expired.
const sessionRefreshPath = "/v1/session/refresh"

// withSession lets a browser authenticate by its session cookie. A request
// that carries its own Authorization header is left alone: API clients and
// the CLI never depend on cookies, so they need no CSRF token.
func (s *Server) withSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signIn := r.URL.Path == "/v1/session" && r.Method == http.MethodPost
		refresh := r.URL.Path == sessionRefreshPath
		if r.Header.Get("Authorization") != "" || anonymousPaths[r.URL.Path] || signIn {
			h.ServeHTTP(w, r)
			return
		}
		bs, ok := s.browserSessionOf(r)
		if !ok {
			if refresh {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 16, "message": "no session to renew; sign in again"})
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			got := r.Header.Get(CSRFHeader)
			if got == "" || !hmac.Equal([]byte(got), []byte(s.csrfToken(bs.SID))) {
				writeJSON(w, http.StatusForbidden, map[string]any{
					"code":    7,
					"message": "this request changes state and authenticates by the session cookie, so it must carry the session's csrf_token in the " + CSRFHeader + " header (GET /v1/session returns it)",
				})
				return
			}
		}
		r = r.Clone(context.WithValue(r.Context(), browserSessionKey{}, bs))
		if !refresh {
			r.Header.Set("Authorization", "Bearer "+bs.Token)
		}
		h.ServeHTTP(w, r)
	})
}
