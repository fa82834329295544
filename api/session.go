package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

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

// Session cookie and CSRF header names. The cookie holds the signed token;
// it is HttpOnly, so page scripts never see it, and SameSite=Strict, so
// other sites' pages never send it. The CSRF token, bound to the session by
// an HMAC, is returned by GetSession and must come back in the header on
// every request that changes state.
const (
	SessionCookie = "lienthong_session"
	CSRFHeader    = "X-CSRF-Token"
	sessionTTL    = 12 * time.Hour
)

type sessionService struct {
	enginev1.UnimplementedSessionServiceServer
	s *Server
}

func (ss *sessionService) ListSignInOptions(context.Context, *enginev1.ListSignInOptionsRequest) (*enginev1.ListSignInOptionsResponse, error) {
	resp := &enginev1.ListSignInOptionsResponse{IdentityProviderUrl: ss.s.identityProviderURL}
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
		return &enginev1.SignInResponse{Session: s.sessionProto(c, u.Label, tok), Token: tok}, nil
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
	return &enginev1.GetSessionResponse{Session: s.sessionProto(c, label, auth.BearerToken(ctx))}, nil
}

func (ss *sessionService) SignOut(context.Context, *enginev1.SignOutRequest) (*enginev1.SignOutResponse, error) {
	return &enginev1.SignOutResponse{}, nil
}

func (s *Server) sessionProto(c auth.Claims, label, token string) *enginev1.Session {
	if label == "" {
		label = c.Subject
	}
	return &enginev1.Session{
		Subject: c.Subject, Role: string(c.Role), CommuneCode: c.Commune, ProvinceCode: c.Province,
		Agency: c.Agency, DisplayName: label, ExpiresAt: timestamppb.New(c.ExpiresAt),
		CsrfToken: s.csrfToken(token),
	}
}

// csrfToken binds a CSRF token to one session token, so a token taken from
// one session is worthless in another and nothing needs storing.
func (s *Server) csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("lienthong csrf\x00"))
	m.Write([]byte(sessionToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// sessionCookies is the gateway's hook on responses: it moves a new
// session's token into the cookie, out of the JSON body, and clears the
// cookie on sign-out.
func sessionCookies(secure bool) func(context.Context, http.ResponseWriter, proto.Message) error {
	return func(_ context.Context, w http.ResponseWriter, m proto.Message) error {
		switch r := m.(type) {
		case *enginev1.SignInResponse:
			http.SetCookie(w, &http.Cookie{
				Name: SessionCookie, Value: r.GetToken(), Path: "/", HttpOnly: true, Secure: secure,
				SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds()),
			})
			r.Token = ""
		case *enginev1.SignOutResponse:
			http.SetCookie(w, &http.Cookie{
				Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure,
				SameSite: http.SameSiteStrictMode, MaxAge: -1,
			})
		}
		return nil
	}
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

// withSession lets a browser authenticate by its session cookie. A request
// that carries its own Authorization header is left alone: API clients and
// the CLI never depend on cookies, so they need no CSRF token.
func (s *Server) withSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(SessionCookie)
		signIn := r.URL.Path == "/v1/session" && r.Method == http.MethodPost
		if err != nil || ck.Value == "" || r.Header.Get("Authorization") != "" || anonymousPaths[r.URL.Path] || signIn {
			h.ServeHTTP(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			got := r.Header.Get(CSRFHeader)
			if got == "" || !hmac.Equal([]byte(got), []byte(s.csrfToken(ck.Value))) {
				writeJSON(w, http.StatusForbidden, map[string]any{
					"code":    7,
					"message": "this request changes state and authenticates by the session cookie, so it must carry the session's csrf_token in the " + CSRFHeader + " header (GET /v1/session returns it)",
				})
				return
			}
		}
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+ck.Value)
		h.ServeHTTP(w, r)
	})
}
