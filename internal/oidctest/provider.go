// Package oidctest is an OpenID Connect provider for lienthong's tests:
// discovery, a JWKS, the authorization code flow with PKCE (S256 only), the
// refresh and client-credentials grants, and RP-initiated logout. It signs
// with RS256 or ES256 and puts each user's claims in both the ID token and
// the access token. The Go tests run it in process; the browser tests run
// it as its own program (cmd/lienthong-test-idp). It is never part of the
// lienthong binary, and it must not import any other lienthong package.
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is a person who can sign in.
type User struct {
	// ID is the choice on the sign-in page and the token's subject.
	ID    string
	Label string
	// Claims go into the user's ID and access tokens, e.g. roles, commune, name.
	Claims map[string]any
}

// Client is a registered relying party.
type Client struct {
	ID, Secret string
	// RedirectURIs and PostLogoutURIs are matched exactly.
	RedirectURIs   []string
	PostLogoutURIs []string
	// Claims are the client's own, in its client-credentials tokens.
	Claims map[string]any
}

// Options configure a provider; zero values have defaults.
type Options struct {
	// Alg is RS256 (the default) or ES256.
	Alg string
	// Audience is the access tokens' aud; empty is the client's id.
	Audience string
	// AccessTTL is the ID and access tokens' lifetime (default 5 minutes);
	// RefreshTTL the refresh tokens' (default 1 hour).
	AccessTTL, RefreshTTL time.Duration
	Users                 []User
	Clients               []Client
	// Now is the provider's clock; nil is time.Now.
	Now func() time.Time
}

// Provider is a running test provider.
type Provider struct {
	opts   Options
	issuer string
	key    crypto.Signer
	kid    string
	alg    jose.SignatureAlgorithm
	srv    *http.Server
	lis    net.Listener

	mu            sync.Mutex
	codes         map[string]*grant
	refresh       map[string]*grant
	failRefresh   bool
	logouts       []string
	tokenRequests int
}

// grant is what a code or a refresh token stands for.
type grant struct {
	client, user, nonce, scope string
	redirectURI, challenge     string
	expires                    time.Time
}

// Start listens on addr (127.0.0.1:0 picks a port) and serves until Close.
// The issuer is http://<the address it listens on>.
func Start(addr string, opts Options) (*Provider, error) {
	p, err := New(opts)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidctest: listening on %s: %w", addr, err)
	}
	p.lis = lis
	p.issuer = "http://" + lis.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(lis) }()
	return p, nil
}

// New makes a provider with a fresh key; serve it with SetIssuer and ServeHTTP.
func New(opts Options) (*Provider, error) {
	if opts.AccessTTL == 0 {
		opts.AccessTTL = 5 * time.Minute
	}
	if opts.RefreshTTL == 0 {
		opts.RefreshTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Provider{opts: opts, codes: map[string]*grant{}, refresh: map[string]*grant{}}
	var err error
	switch opts.Alg {
	case "", "RS256":
		p.alg = jose.RS256
		p.key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		p.alg = jose.ES256
		p.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("oidctest: alg %q: expected RS256 or ES256", opts.Alg)
	}
	if err != nil {
		return nil, err
	}
	p.kid = rand.Text()[:12]
	return p, nil
}

// SetIssuer sets the issuer URL, for a provider served by the caller.
func (p *Provider) SetIssuer(u string) { p.issuer = strings.TrimSuffix(u, "/") }

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// Close stops a provider that Start started.
func (p *Provider) Close() error {
	if p.srv == nil {
		return nil
	}
	return p.srv.Close()
}

// FailRefresh makes every refresh grant fail (true) or work again.
func (p *Provider) FailRefresh(fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failRefresh = fail
}

// Logouts lists the subjects (or "" without an id_token_hint) signed out
// at the end-session endpoint, oldest first.
func (p *Provider) Logouts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.logouts)
}

// TokenRequests counts calls to the token endpoint.
func (p *Provider) TokenRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenRequests
}

// Sign signs claims with the provider's key, for tests that make their own
// tokens: iss, iat and exp are filled in when absent.
func (p *Provider) Sign(claims map[string]any) string {
	c := maps.Clone(claims)
	now := p.opts.Now()
	setDefault(c, "iss", p.issuer)
	setDefault(c, "iat", now.Unix())
	setDefault(c, "exp", now.Add(p.opts.AccessTTL).Unix())
	tok, err := p.sign(c)
	if err != nil {
		panic(err) // only tests call Sign, with claims that marshal
	}
	return tok
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: p.alg, Key: p.key}, opts)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// ServeHTTP serves the provider's endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		p.discovery(w)
	case "/jwks":
		p.jwks(w)
	case "/authorize":
		p.authorize(w, r)
	case "/token":
		p.token(w, r)
	case "/end-session":
		p.endSession(w, r)
	case "/control/fail-refresh":
		// The browser tests' switch: POST on=1 or on=0.
		if r.Method != http.MethodPost {
			http.Error(w, "POST on=1|0", http.StatusMethodNotAllowed)
			return
		}
		p.FailRefresh(r.FormValue("on") == "1")
		w.WriteHeader(http.StatusNoContent)
	case "/control/logouts":
		writeJSON(w, http.StatusOK, map[string]any{"logouts": p.Logouts()})
	default:
		http.NotFound(w, r)
	}
}

func (p *Provider) discovery(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"jwks_uri":                              p.issuer + "/jwks",
		"end_session_endpoint":                  p.issuer + "/end-session",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(p.alg)},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: p.key.Public(), KeyID: p.kid, Algorithm: string(p.alg), Use: "sig",
	}}})
}

func (p *Provider) client(id string) (Client, bool) {
	for _, c := range p.opts.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

func (p *Provider) user(id string) (User, bool) {
	for _, u := range p.opts.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1><p>Sign in to {{.Client}} as:</p>
<form method="get" action="/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<ul>{{range .Users}}<li><button type="submit" name="user" value="{{.ID}}">{{.Label}}</button></li>
{{end}}</ul>
<p><button type="submit" name="deny" value="1">Cancel</button></p>
</form></main></body></html>`))

// authorize checks the request as a real provider would, then shows the
// users to choose from; the choice comes back with user=ID.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := p.client(q.Get("client_id"))
	if !ok {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(c.RedirectURIs, redirect) {
		http.Error(w, "redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		u, _ := url.Parse(redirect)
		params.Set("state", q.Get("state"))
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound) //nolint:gosec // G710: redirect_uri was matched exactly against the client's registered ones
	}
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		back(url.Values{"error": {"invalid_scope"}, "error_description": {"openid is required"}})
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	}
	if q.Get("deny") != "" {
		back(url.Values{"error": {"access_denied"}})
		return
	}
	u, ok := p.user(q.Get("user"))
	if !ok {
		params := map[string]string{}
		for k := range q {
			if k != "user" {
				params[k] = q.Get(k)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginPage.Execute(w, map[string]any{"Client": c.ID, "Params": params, "Users": p.opts.Users})
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = &grant{client: c.ID, user: u.ID, nonce: q.Get("nonce"), scope: q.Get("scope"),
		redirectURI: redirect, challenge: q.Get("code_challenge"), expires: p.opts.Now().Add(time.Minute)}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// token serves the three grants.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenRequests++
	p.mu.Unlock()
	if r.Method != http.MethodPost {
		tokenFail(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, known := p.client(id)
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		tokenFail(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		p.codeGrant(w, r, c)
	case "refresh_token":
		p.refreshGrant(w, r, c)
	case "client_credentials":
		claims := maps.Clone(c.Claims)
		if claims == nil {
			claims = map[string]any{}
		}
		claims["sub"] = c.ID
		tok, err := p.accessToken(c, claims)
		if err != nil {
			tokenFail(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(p.opts.AccessTTL.Seconds())})
	default:
		tokenFail(w, http.StatusBadRequest, "unsupported_grant_type", r.PostForm.Get("grant_type"))
	}
}

func (p *Provider) codeGrant(w http.ResponseWriter, r *http.Request, c Client) {
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g := p.codes[code]
	delete(p.codes, code) // a code is good once
	p.mu.Unlock()
	switch {
	case g == nil || g.client != c.ID || p.opts.Now().After(g.expires):
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case !challengeMatches(g.challenge, r.PostForm.Get("code_verifier")):
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	p.issue(w, c, g, true)
}

func challengeMatches(challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (p *Provider) refreshGrant(w http.ResponseWriter, r *http.Request, c Client) {
	rt := r.PostForm.Get("refresh_token")
	p.mu.Lock()
	g, fail := p.refresh[rt], p.failRefresh
	delete(p.refresh, rt) // rotated: each refresh token is good once
	p.mu.Unlock()
	switch {
	case fail:
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "the session has ended at the provider")
		return
	case g == nil || g.client != c.ID || p.opts.Now().After(g.expires):
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired refresh token")
		return
	}
	p.issue(w, c, g, false)
}

// issue answers a code or refresh grant: an access token, an ID token and
// a new refresh token.
func (p *Provider) issue(w http.ResponseWriter, c Client, g *grant, withNonce bool) {
	u, ok := p.user(g.user)
	if !ok {
		tokenFail(w, http.StatusBadRequest, "invalid_grant", "the user is gone")
		return
	}
	claims := maps.Clone(u.Claims)
	if claims == nil {
		claims = map[string]any{}
	}
	claims["sub"] = u.ID
	access, err := p.accessToken(c, claims)
	if err != nil {
		tokenFail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	now := p.opts.Now()
	id := maps.Clone(claims)
	id["iss"], id["aud"], id["azp"] = p.issuer, c.ID, c.ID
	id["iat"], id["exp"] = now.Unix(), now.Add(p.opts.AccessTTL).Unix()
	if withNonce && g.nonce != "" {
		id["nonce"] = g.nonce
	}
	idTok, err := p.sign(id)
	if err != nil {
		tokenFail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	rt := rand.Text()
	next := *g
	next.expires = now.Add(p.opts.RefreshTTL)
	p.mu.Lock()
	p.refresh[rt] = &next
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(p.opts.AccessTTL.Seconds()),
		"id_token": idTok, "refresh_token": rt, "scope": g.scope,
	})
}

func (p *Provider) accessToken(c Client, claims map[string]any) (string, error) {
	aud := p.opts.Audience
	if aud == "" {
		aud = c.ID
	}
	now := p.opts.Now()
	at := maps.Clone(claims)
	at["iss"], at["aud"], at["azp"] = p.issuer, aud, c.ID
	at["iat"], at["nbf"], at["exp"] = now.Unix(), now.Unix(), now.Add(p.opts.AccessTTL).Unix()
	return p.sign(at)
}

// endSession ends the user's session: their refresh tokens stop working,
// and the browser goes back to a registered post-logout address.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sub := ""
	if hint := q.Get("id_token_hint"); hint != "" {
		obj, err := jose.ParseSigned(hint, []jose.SignatureAlgorithm{p.alg})
		if err != nil {
			http.Error(w, "id_token_hint is not a token of this provider", http.StatusBadRequest)
			return
		}
		payload, err := obj.Verify(p.key.Public())
		if err != nil {
			http.Error(w, "id_token_hint is not a token of this provider", http.StatusBadRequest)
			return
		}
		var c struct {
			Sub string `json:"sub"`
		}
		_ = json.Unmarshal(payload, &c)
		sub = c.Sub
	}
	p.mu.Lock()
	p.logouts = append(p.logouts, sub)
	for k, g := range p.refresh {
		if g.user == sub {
			delete(p.refresh, k)
		}
	}
	p.mu.Unlock()
	redirect := q.Get("post_logout_redirect_uri")
	if redirect == "" {
		_, _ = w.Write([]byte("signed out\n"))
		return
	}
	registered := false
	for _, c := range p.opts.Clients {
		if (q.Get("client_id") == "" || q.Get("client_id") == c.ID) && slices.Contains(c.PostLogoutURIs, redirect) {
			registered = true
		}
	}
	if !registered {
		http.Error(w, "post_logout_redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	if st := q.Get("state"); st != "" {
		u, _ := url.Parse(redirect)
		v := u.Query()
		v.Set("state", st)
		u.RawQuery = v.Encode()
		redirect = u.String()
	}
	http.Redirect(w, r, redirect, http.StatusFound) //nolint:gosec // G710: post_logout_redirect_uri was matched exactly against the registered ones
}

func tokenFail(w http.ResponseWriter, code int, kind, description string) {
	writeJSON(w, code, map[string]string{"error": kind, "error_description": description})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
