package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/lienthong/lienthong/dossier"
)

// SigningAlgs are the signatures accepted on a provider's tokens. HS256
// is not among them: a shared secret would let anyone who holds it mint
// tokens for anyone.
var SigningAlgs = []string{oidc.RS256, oidc.ES256}

// ClaimNames say where in a provider's token each part of lienthong's
// claims is. A name is a top-level claim ("roles", or a namespaced
// "https://id.example.gov.vn/commune"); when no such claim exists, dots
// walk into objects ("realm_access.roles").
type ClaimNames struct {
	Role, Commune, Province, Agency, Name string
}

// DefaultClaimNames are lienthong's own names, and "roles", which most
// providers use for a list of roles.
func DefaultClaimNames() ClaimNames {
	return ClaimNames{Role: "roles", Commune: "commune", Province: "province", Agency: "agency", Name: "name"}
}

// OIDCOptions configure trust in one OpenID Connect provider.
type OIDCOptions struct {
	// Issuer is the provider's issuer URL; discovery starts there.
	Issuer string
	// Audience must be among a token's audiences: the console's client id,
	// or the audience the provider puts in tokens meant for this API.
	Audience string
	Claims   ClaimNames
	// RoleMap maps the provider's role or group names to lienthong roles.
	// Empty, the provider's values are taken as lienthong's own names.
	RoleMap map[string]Role
	// HTTPClient reaches the provider; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock tokens are checked against; nil is time.Now.
	Now func() time.Time
}

// ParseRoleMap reads "provider-name=role,other=role".
func ParseRoleMap(s string) (map[string]Role, error) {
	out := map[string]Role{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" {
			return nil, fmt.Errorf("got %q, expected provider-name=role", pair)
		}
		if !Role(to).Valid() {
			return nil, fmt.Errorf("%q maps to %q, which is not one of %s", from, to, roleList())
		}
		out[from] = Role(to)
	}
	return out, nil
}

func roleList() string {
	names := make([]string, 0, len(Roles()))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// OIDC verifies bearer tokens from an OpenID Connect provider against its
// published keys. Discovery happens on first use and is retried, at most
// every few seconds, until it succeeds: an API that starts while the
// provider is unreachable serves everything else, and accepts tokens once
// the provider answers.
type OIDC struct {
	opts OIDCOptions

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	failedAt time.Time
	failErr  error
}

// discoveryRetry is how long a failed discovery is remembered before the
// next request tries again.
const discoveryRetry = 5 * time.Second

// NewOIDC checks the options; it does not reach the provider.
func NewOIDC(opts OIDCOptions) (*OIDC, error) {
	u, err := url.Parse(opts.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oidc: the issuer must be an http(s) URL, got %q", opts.Issuer)
	}
	if opts.Audience == "" {
		return nil, errors.New("oidc: an audience is required")
	}
	if opts.Claims.Role == "" {
		return nil, errors.New("oidc: a role claim name is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &OIDC{opts: opts}, nil
}

// Issuer is the provider's issuer URL.
func (o *OIDC) Issuer() string { return o.opts.Issuer }

// Context returns ctx carrying the HTTP client the provider is reached with.
func (o *OIDC) Context(ctx context.Context) context.Context {
	if o.opts.HTTPClient == nil {
		return ctx
	}
	return oidc.ClientContext(ctx, o.opts.HTTPClient)
}

// Provider is the discovered provider: its endpoints and keys.
func (o *OIDC) Provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	if o.failErr != nil && o.opts.Now().Sub(o.failedAt) < discoveryRetry {
		return nil, o.failErr
	}
	// The key set outlives this request: its fetches must not be cancelled with it.
	p, err := oidc.NewProvider(o.Context(context.WithoutCancel(ctx)), o.opts.Issuer)
	if err != nil {
		o.failedAt, o.failErr = o.opts.Now(), &dossier.Error{Kind: dossier.KindUnavailable,
			Message: "the identity provider " + o.opts.Issuer + " cannot be reached", Err: err}
		return nil, o.failErr
	}
	o.provider = p
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.opts.Audience, SupportedSigningAlgs: SigningAlgs, Now: o.opts.Now})
	o.failErr = nil
	return p, nil
}

// Verifier checks tokens for audience (a client id: the ID token's, say).
func (o *OIDC) Verifier(ctx context.Context, audience string) (*oidc.IDTokenVerifier, error) {
	p, err := o.Provider(ctx)
	if err != nil {
		return nil, err
	}
	return p.Verifier(&oidc.Config{ClientID: audience, SupportedSigningAlgs: SigningAlgs, Now: o.opts.Now}), nil
}

// Ready says whether the provider has been discovered, trying once more if not.
func (o *OIDC) Ready(ctx context.Context) error {
	_, err := o.Provider(ctx)
	return err
}

// TokenError is a token that is not one of the provider's, or no longer
// valid: its signature, issuer, audience or lifetime is wrong.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return e.Reason }

// ClaimError is a valid token that does not say who its holder is in
// lienthong: the claim is missing or holds something lienthong cannot use.
type ClaimError struct {
	// Claim is the provider's claim name, as configured.
	Claim string
	// Need is what lienthong needed from it: role, commune, province, agency or sub.
	Need    string
	Problem string
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("claim %q (%s): %s", e.Claim, e.Need, e.Problem)
}

// Verify checks a provider's token and reads the holder's role and scope.
func (o *OIDC) Verify(ctx context.Context, raw string) (Claims, error) {
	if _, err := o.Provider(ctx); err != nil {
		return Claims{}, err
	}
	o.mu.Lock()
	v := o.verifier
	o.mu.Unlock()
	tok, err := v.Verify(o.Context(ctx), raw)
	if err != nil {
		return Claims{}, tokenError(err)
	}
	var m map[string]any
	if err := tok.Claims(&m); err != nil {
		return Claims{}, &TokenError{Reason: "its claims are not a JSON object"}
	}
	c, err := o.claimsOf(tok.Subject, m)
	if err != nil {
		return Claims{}, err
	}
	c.IssuedAt, c.ExpiresAt, c.Issuer = tok.IssuedAt, tok.Expiry, tok.Issuer
	return c, nil
}

// tokenError says plainly why go-oidc refused a token.
func tokenError(err error) error {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return &TokenError{Reason: "it expired at " + expired.Expiry.UTC().Format(time.RFC3339)}
	}
	return &TokenError{Reason: strings.TrimPrefix(err.Error(), "oidc: ")}
}

var (
	communeCode  = regexp.MustCompile(`^[0-9]{5}$`)
	provinceCode = regexp.MustCompile(`^[0-9]{3}$`)
	agencies     = []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance, dossier.AgencyPortal}
)

// claimsOf maps a provider's claims to lienthong's. Scope claims are read
// for the roles that have a scope; a clerk without a commune, or an officer
// without an agency, is refused by name rather than let in with no scope.
func (o *OIDC) claimsOf(sub string, m map[string]any) (Claims, error) {
	names := o.opts.Claims
	if sub == "" {
		return Claims{}, &ClaimError{Claim: "sub", Need: "sub", Problem: "is missing: a token must name its holder"}
	}
	role, err := o.role(m)
	if err != nil {
		return Claims{}, err
	}
	c := Claims{Subject: sub, Role: role, Name: o.name(m)}
	scope := func(claim, need string, required bool, valid func(string) bool, expected string) (string, error) {
		v, present, isString := lookupString(m, claim)
		switch {
		case !present && required:
			return "", &ClaimError{Claim: claim, Need: need, Problem: fmt.Sprintf("is missing: a %s's token must name the %s (%s)", role, need, expected)}
		case !present:
			return "", nil
		case !isString || !valid(v):
			return "", &ClaimError{Claim: claim, Need: need, Problem: fmt.Sprintf("holds %s, expected %s", describe(m, claim), expected)}
		}
		return v, nil
	}
	isCommune := func(s string) bool { return communeCode.MatchString(s) }
	isProvince := func(s string) bool { return provinceCode.MatchString(s) }
	isAgency := func(s string) bool { return slices.Contains(agencies, s) }
	switch role {
	case RoleClerk:
		if c.Commune, err = scope(names.Commune, "commune", true, isCommune, "a 5-digit commune code"); err != nil {
			return Claims{}, err
		}
		if c.Province, err = scope(names.Province, "province", false, isProvince, "a 3-digit province code"); err != nil {
			return Claims{}, err
		}
	case RoleSupervisor:
		// No province is a national supervisor.
		if c.Province, err = scope(names.Province, "province", false, isProvince, "a 3-digit province code"); err != nil {
			return Claims{}, err
		}
	case RoleOfficer, RoleAgency:
		if c.Agency, err = scope(names.Agency, "agency", true, isAgency, "one of "+strings.Join(agencies, ", ")); err != nil {
			return Claims{}, err
		}
	}
	if err := c.Check(); err != nil {
		return Claims{}, &ClaimError{Claim: names.Role, Need: "role", Problem: err.Error()}
	}
	return c, nil
}

// role reads the role claim: a string, or a list of which exactly one
// entry names a lienthong role. Entries that name none (a provider's
// own default roles, other applications' groups) are ignored.
func (o *OIDC) role(m map[string]any) (Role, error) {
	claim := o.opts.Claims.Role
	v, ok := lookup(m, claim)
	if !ok {
		return "", &ClaimError{Claim: claim, Need: "role", Problem: "is missing: the token must carry one of " + o.roleNames()}
	}
	var values []string
	switch t := v.(type) {
	case string:
		values = strings.Fields(strings.ReplaceAll(t, ",", " "))
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
	}
	found := map[Role]bool{}
	for _, s := range values {
		if r, ok := o.mapRole(s); ok {
			found[r] = true
		}
	}
	switch len(found) {
	case 1:
		for r := range found {
			return r, nil
		}
	case 0:
		return "", &ClaimError{Claim: claim, Need: "role", Problem: fmt.Sprintf("holds %s, none of which is one of %s", describe(m, claim), o.roleNames())}
	}
	roles := make([]string, 0, len(found))
	for r := range found {
		roles = append(roles, string(r))
	}
	sort.Strings(roles)
	return "", &ClaimError{Claim: claim, Need: "role", Problem: "names more than one lienthong role (" + strings.Join(roles, ", ") + "); an account signs in with one"}
}

func (o *OIDC) mapRole(s string) (Role, bool) {
	if len(o.opts.RoleMap) > 0 {
		r, ok := o.opts.RoleMap[s]
		return r, ok
	}
	return Role(s), Role(s).Valid()
}

// roleNames lists what the role claim may hold, for refusals.
func (o *OIDC) roleNames() string {
	if len(o.opts.RoleMap) == 0 {
		return roleList()
	}
	names := make([]string, 0, len(o.opts.RoleMap))
	for k := range o.opts.RoleMap {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// name is what the console shows for the holder.
func (o *OIDC) name(m map[string]any) string {
	for _, claim := range []string{o.opts.Claims.Name, "name", "preferred_username"} {
		if v, ok, isString := lookupString(m, claim); ok && isString && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// lookup finds a claim by its whole name, or else by a dotted path.
func lookup(m map[string]any, name string) (any, bool) {
	if name == "" {
		return nil, false
	}
	if v, ok := m[name]; ok {
		return v, v != nil
	}
	var cur any = m
	for _, part := range strings.Split(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

func lookupString(m map[string]any, name string) (v string, present, isString bool) {
	raw, ok := lookup(m, name)
	if !ok {
		return "", false, false
	}
	s, isString := raw.(string)
	return s, true, isString
}

// describe shows a claim's value in a refusal, briefly.
func describe(m map[string]any, name string) string {
	v, _ := lookup(m, name)
	s := fmt.Sprintf("%v", v)
	if str, ok := v.(string); ok {
		s = fmt.Sprintf("%q", str)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
