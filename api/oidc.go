package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
)

// OIDCOptions sign people in to the console through an OpenID Connect
// provider, with the API as the console's backend: the browser never holds
// a token a script can read, and the refresh token is sealed in a cookie
// only this API can open.
type OIDCOptions struct {
	// Tokens verifies the provider's tokens for the API: issuer, audience,
	// lifetime, and the role and scope claims.
	Tokens *auth.OIDC
	// ClientID and ClientSecret are the console's registration at the provider.
	ClientID, ClientSecret string
	// Scopes are asked for at sign-in; openid is always among them.
	Scopes []string
	// PublicURL is the console's address as browsers reach it, e.g.
	// https://lienthong.example.gov.vn: the provider sends people back to
	// PublicURL/v1/session/oidc/callback, and after logout to PublicURL/.
	PublicURL string
	// Name is the provider's name on the sign-in page.
	Name string
}

// The sign-in flow's paths on the HTTP mux.
const (
	OIDCStartPath    = "/v1/session/oidc/start"
	OIDCCallbackPath = "/v1/session/oidc/callback"
	// RefreshCookie holds the sealed refresh token. Only the session's own
	// endpoints need it, so only they get it.
	RefreshCookie = "lienthong_refresh"
	refreshPath   = "/v1/session"
	// flowCookie carries one sign-in's state, nonce and PKCE verifier from
	// the start to the callback. It is SameSite=Lax: the callback is a
	// navigation from the provider's site, which a Strict cookie would miss.
	flowCookie = "lienthong_oidc"
	flowPath   = "/v1/session/oidc/"
	flowTTL    = 10 * time.Minute
	// maxCookie is the longest cookie value browsers keep for certain.
	maxCookie = 4000
	// providerTimeout bounds each call to the provider's token endpoint.
	providerTimeout = 10 * time.Second
)

// signInFlow is what the flow cookie holds.
type signInFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x,omitempty"`
	Popup    bool   `json:"p,omitempty"`
}

// refreshState is what the refresh cookie holds: the provider's refresh
// token, the ID token (the hint for logout), and who it is for.
type refreshState struct {
	Refresh string `json:"r"`
	IDToken string `json:"i,omitempty"`
	Subject string `json:"u"`
	Role    string `json:"o"`
	// Ends is the session's absolute end: no refresh goes past it.
	Ends int64 `json:"end"`
}

type oidcClient struct {
	opts OIDCOptions
}

func newOIDCClient(opts OIDCOptions) (*oidcClient, error) {
	if opts.Tokens == nil || opts.ClientID == "" {
		return nil, errors.New("api: OIDC needs Tokens and ClientID")
	}
	u, err := url.Parse(opts.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("api: OIDC needs PublicURL as an http(s) origin, got %q", opts.PublicURL)
	}
	opts.PublicURL = strings.TrimSuffix(opts.PublicURL, "/")
	if !slices.Contains(opts.Scopes, oidc.ScopeOpenID) {
		opts.Scopes = append([]string{oidc.ScopeOpenID}, opts.Scopes...)
	}
	if opts.Name == "" {
		opts.Name = u.Host
		if iu, err := url.Parse(opts.Tokens.Issuer()); err == nil {
			opts.Name = iu.Host
		}
	}
	return &oidcClient{opts: opts}, nil
}

// config is the OAuth 2.0 client of the discovered provider.
func (o *oidcClient) config(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	p, err := o.opts.Tokens.Provider(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{
		ClientID: o.opts.ClientID, ClientSecret: o.opts.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.opts.PublicURL + OIDCCallbackPath, Scopes: o.opts.Scopes,
	}, p, nil
}

// consoleNext keeps a console path from ?next: a path of the console's
// own, never another site's address.
func consoleNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 512 {
		return ""
	}
	return next
}

// serveOIDCStart sends the browser to the provider with a fresh state,
// nonce and PKCE S256 challenge, kept for the callback in the flow cookie.
func (s *Server) serveOIDCStart(w http.ResponseWriter, r *http.Request) {
	conf, _, err := s.oidc.config(r.Context())
	if err != nil {
		s.signInFailed(w, r, "unavailable", err)
		return
	}
	flow := signInFlow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: consoleNext(r.URL.Query().Get("next")), Popup: r.URL.Query().Get("popup") == "1"}
	value, err := seal(s.keys, flowCookie, flow, s.now().Add(flowTTL))
	if err != nil {
		s.signInFailed(w, r, "internal", err)
		return
	}
	http.SetCookie(w, s.cookie(flowCookie, value, flowPath, http.SameSiteLaxMode, int(flowTTL.Seconds())))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, conf.AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)), http.StatusFound)
}

// serveOIDCCallback finishes a sign-in: the state must be the flow's, the
// provider must accept the code with the flow's verifier, the ID token must
// carry the flow's nonce, and the access token must say who the person is
// in lienthong. Only then is the session cookie set.
func (s *Server) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	// A flow is good for one callback, whatever its outcome.
	http.SetCookie(w, s.cookie(flowCookie, "", flowPath, http.SameSiteLaxMode, -1))
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	ck, err := r.Cookie(flowCookie)
	if err != nil {
		s.signInFailed(w, r, "state", errors.New("no sign-in in progress in this browser (the flow cookie is missing)"))
		return
	}
	flow, err := unseal[signInFlow](s.keys, flowCookie, ck.Value, s.now())
	if err != nil {
		s.signInFailed(w, r, "state", fmt.Errorf("the flow cookie: %w", err))
		return
	}
	if e := q.Get("error"); e != "" {
		s.signInFailed(w, r, "provider", fmt.Errorf("the provider answered %s: %s", e, q.Get("error_description")), "reason", e)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		s.signInFailed(w, r, "state", errors.New("the state does not match this browser's sign-in"))
		return
	}
	ctx, cancel := context.WithTimeout(s.oidc.opts.Tokens.Context(r.Context()), providerTimeout)
	defer cancel()
	conf, p, err := s.oidc.config(ctx)
	if err != nil {
		s.signInFailed(w, r, "unavailable", err)
		return
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		s.signInFailed(w, r, "exchange", err)
		return
	}
	claims, idToken, err := s.oidc.verifyTokens(ctx, p, tok, flow.Nonce)
	if err != nil {
		var ce *auth.ClaimError
		if errors.As(err, &ce) {
			s.signInFailed(w, r, "claim", err, "claim", ce.Claim, "need", ce.Need)
			return
		}
		s.signInFailed(w, r, "token", err)
		return
	}
	ends := s.now().Add(sessionTTL)
	refresh := ""
	if tok.RefreshToken == "" {
		// Nothing renews the session: it lasts as long as its token.
		ends = claims.ExpiresAt
	} else if refresh, err = s.sealRefresh(refreshState{Refresh: tok.RefreshToken, IDToken: idToken,
		Subject: claims.Subject, Role: string(claims.Role), Ends: ends.Unix()}); err != nil {
		s.signInFailed(w, r, "internal", err)
		return
	}
	// The audit row comes first: a sign-in that cannot be recorded does not happen.
	if err := s.audit(auth.NewContext(r.Context(), claims), "sign-in", "", "openid connect "+s.oidc.opts.Tokens.Issuer()); err != nil {
		s.signInFailed(w, r, "internal", err)
		return
	}
	if err := s.setSessionCookie(w, browserSession{Token: tok.AccessToken, SID: rand.Text(), Ends: ends.Unix()}); err != nil {
		s.signInFailed(w, r, "internal", err)
		return
	}
	if refresh != "" {
		s.setRefreshCookie(w, refresh, ends)
	}
	s.log.InfoContext(r.Context(), "signed in through the identity provider", "actor", claims.Actor())
	target := "/#" + flow.Next
	if flow.Popup {
		target = "/#/signin-done"
	} else if flow.Next == "" {
		target = "/#/"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// verifyTokens checks a token response: the ID token (the console's
// audience, and the nonce on a sign-in) and the access token, the one the
// API is called with, for the same person. It returns the access token's
// claims and the ID token, or "" when a refresh brought none.
func (o *oidcClient) verifyTokens(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, nonce string) (auth.Claims, string, error) {
	rawID, _ := tok.Extra("id_token").(string)
	var id *oidc.IDToken
	if rawID != "" || nonce != "" {
		if rawID == "" {
			return auth.Claims{}, "", &auth.TokenError{Reason: "the provider sent no ID token"}
		}
		v := p.Verifier(&oidc.Config{ClientID: o.opts.ClientID, SupportedSigningAlgs: auth.SigningAlgs})
		var err error
		if id, err = v.Verify(ctx, rawID); err != nil {
			return auth.Claims{}, "", &auth.TokenError{Reason: "the ID token: " + strings.TrimPrefix(err.Error(), "oidc: ")}
		}
		if nonce != "" && subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) != 1 {
			return auth.Claims{}, "", &auth.TokenError{Reason: "the ID token's nonce is not this sign-in's"}
		}
	}
	c, err := o.opts.Tokens.Verify(ctx, tok.AccessToken)
	if err != nil {
		return auth.Claims{}, "", err
	}
	if id != nil && id.Subject != c.Subject {
		return auth.Claims{}, "", &auth.TokenError{Reason: "the ID token and the access token name different people"}
	}
	return c, rawID, nil
}

// refresh renews a session with its refresh token.
func (o *oidcClient) refresh(ctx context.Context, st refreshState) (*oauth2.Token, auth.Claims, string, error) {
	ctx, cancel := context.WithTimeout(o.opts.Tokens.Context(ctx), providerTimeout)
	defer cancel()
	conf, p, err := o.config(ctx)
	if err != nil {
		return nil, auth.Claims{}, "", err
	}
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: st.Refresh}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, auth.Claims{}, "", &dossier.Error{Kind: dossier.KindUnauthenticated,
				Message: "the identity provider no longer renews this session (" + re.ErrorCode + "); sign in again", Err: err}
		}
		return nil, auth.Claims{}, "", &dossier.Error{Kind: dossier.KindUnavailable, Message: "the identity provider could not renew the session", Err: err}
	}
	c, idToken, err := o.verifyTokens(ctx, p, tok, "")
	if err != nil {
		return nil, auth.Claims{}, "", err
	}
	if c.Subject != st.Subject {
		return nil, auth.Claims{}, "", &auth.TokenError{Reason: "the renewed token names another person"}
	}
	return tok, c, idToken, nil
}

// endSessionURL is where the browser ends the session at the provider,
// or "" when the provider names no end_session_endpoint.
func (o *oidcClient) endSessionURL(ctx context.Context, idToken string) string {
	p, err := o.opts.Tokens.Provider(ctx)
	if err != nil {
		return ""
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if p.Claims(&meta) != nil || meta.EndSession == "" {
		return ""
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", o.opts.ClientID)
	q.Set("post_logout_redirect_uri", o.opts.PublicURL+"/")
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sealRefresh seals st for the refresh cookie. An ID token that would make
// the cookie too long for browsers is left out: logout then names the
// client instead of hinting the person.
func (s *Server) sealRefresh(st refreshState) (string, error) {
	v, err := seal(s.keys, RefreshCookie, st, time.Unix(st.Ends, 0))
	if err != nil || len(v) <= maxCookie {
		return v, err
	}
	st.IDToken = ""
	v, err = seal(s.keys, RefreshCookie, st, time.Unix(st.Ends, 0))
	if err == nil && len(v) > maxCookie {
		return "", errors.New("the provider's refresh token is too long for a cookie")
	}
	return v, err
}

func (s *Server) setRefreshCookie(w http.ResponseWriter, value string, ends time.Time) {
	http.SetCookie(w, s.cookie(RefreshCookie, value, refreshPath, http.SameSiteStrictMode, maxAge(ends, s.now())))
}

func maxAge(ends, now time.Time) int {
	if sec := int(ends.Sub(now).Seconds()); sec > 0 {
		return sec
	}
	return -1
}

// safeParam keeps what a failed sign-in tells the console to a short
// plain word: the sign-in page shows it, and anyone can make such a link.
var safeParam = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,64}$`)

// signInFailed logs why a sign-in failed and sends the browser to the
// console's sign-in page, which says it plainly (in the person's language)
// from the code and the claim it names.
func (s *Server) signInFailed(w http.ResponseWriter, r *http.Request, code string, err error, params ...string) {
	s.log.WarnContext(r.Context(), "sign-in through the identity provider failed", "reason", code, "error", err)
	q := url.Values{"error": {code}}
	for i := 0; i+1 < len(params); i += 2 {
		if safeParam.MatchString(params[i+1]) {
			q.Set(params[i], params[i+1])
		}
	}
	http.Redirect(w, r, "/#/signin?"+q.Encode(), http.StatusSeeOther)
}
