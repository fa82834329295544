package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/oidctest"
)

const testAudience = "lienthong-console"

// testIssuer serves an in-process provider signing with alg.
func testIssuer(t *testing.T, alg string) *oidctest.Provider {
	t.Helper()
	p, err := oidctest.New(oidctest.Options{Alg: alg})
	require.NoError(t, err)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.SetIssuer(srv.URL)
	return p
}

func newTestOIDC(t *testing.T, p *oidctest.Provider, edit ...func(*OIDCOptions)) *OIDC {
	t.Helper()
	opts := OIDCOptions{Issuer: p.Issuer(), Audience: testAudience, Claims: DefaultClaimNames()}
	for _, e := range edit {
		e(&opts)
	}
	o, err := NewOIDC(opts)
	require.NoError(t, err)
	return o
}

// clerkClaims are a good clerk token's claims, for testAudience.
func clerkClaims() map[string]any {
	return map[string]any{"sub": "u-123", "aud": testAudience, "roles": []any{"offline_access", "clerk"},
		"commune": "00004", "province": "001", "name": "Nguyễn Thị Lan"}
}

// unsigned is a token with alg "none".
func unsigned(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

func without(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func with(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func TestOIDCAcceptsTheProvidersTokens(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			p := testIssuer(t, alg)
			o := newTestOIDC(t, p)
			c, err := o.Verify(context.Background(), p.Sign(clerkClaims()))
			require.NoError(t, err)
			require.Equal(t, Claims{Subject: "u-123", Role: RoleClerk, Commune: "00004", Province: "001", Name: "Nguyễn Thị Lan",
				IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Issuer: p.Issuer()}, c)
			require.WithinDuration(t, time.Now().Add(5*time.Minute), c.ExpiresAt, 5*time.Second)
		})
	}
}

func TestOIDCRefusesBadTokens(t *testing.T) {
	t.Parallel()
	p := testIssuer(t, "RS256")
	other := testIssuer(t, "RS256")
	o := newTestOIDC(t, p)
	// A token of the other provider's key that claims to be p's.
	forged := other.Sign(with(clerkClaims(), "iss", p.Issuer()))
	cases := []struct {
		name, token, reason string
	}{
		{"wrong audience", p.Sign(with(clerkClaims(), "aud", "another-app")), `expected audience "lienthong-console"`},
		{"expired", p.Sign(with(with(clerkClaims(), "exp", time.Now().Add(-time.Minute).Unix()), "iat", time.Now().Add(-time.Hour).Unix())), "it expired at"},
		{"another issuer", p.Sign(with(clerkClaims(), "iss", other.Issuer())), "issued by a different provider"},
		{"another key", forged, "failed to verify signature"},
		{"not a token", "x.y.z", "malformed"},
		{"unsigned", unsigned(clerkClaims()), "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.Verify(context.Background(), tc.token)
			var te *TokenError
			require.ErrorAs(t, err, &te)
			require.Contains(t, te.Reason, tc.reason)
			var de *dossier.Error
			require.ErrorAs(t, VerifyError(err), &de)
			require.Equal(t, dossier.KindUnauthenticated, de.Kind)
			require.Contains(t, de.Message, tc.reason, "the caller reads why")
		})
	}
}

func TestOIDCNamesTheMissingClaim(t *testing.T) {
	t.Parallel()
	p := testIssuer(t, "ES256")
	o := newTestOIDC(t, p)
	cases := []struct {
		name         string
		claims       map[string]any
		claim, need  string
		problemMatch string
	}{
		{"clerk without a commune", without(clerkClaims(), "commune"), "commune", "commune", "is missing: a clerk's token must name the commune"},
		{"clerk with a bad commune", with(clerkClaims(), "commune", "4"), "commune", "commune", `holds "4", expected a 5-digit commune code`},
		{"commune as a number", with(clerkClaims(), "commune", 4), "commune", "commune", "holds 4"},
		{"clerk with a bad province", with(clerkClaims(), "province", "Hà Nội"), "province", "province", "3-digit province code"},
		{"no role", without(clerkClaims(), "roles"), "roles", "role", "is missing"},
		{"no lienthong role", with(clerkClaims(), "roles", []any{"offline_access"}), "roles", "role", "none of which is one of clerk"},
		{"two roles", with(clerkClaims(), "roles", []any{"clerk", "supervisor"}), "roles", "role", "more than one lienthong role (clerk, supervisor)"},
		{"officer without an agency", with(clerkClaims(), "roles", "officer"), "agency", "agency", "is missing"},
		{"officer of an unknown agency", with(with(clerkClaims(), "roles", "officer"), "agency", "army"), "agency", "agency", "one of justice, police, insurance, portal"},
		{"no subject", without(clerkClaims(), "sub"), "sub", "sub", "is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.Verify(context.Background(), p.Sign(tc.claims))
			var ce *ClaimError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.claim, ce.Claim)
			require.Equal(t, tc.need, ce.Need)
			require.Contains(t, ce.Problem, tc.problemMatch)
			var de *dossier.Error
			require.ErrorAs(t, VerifyError(err), &de)
			require.Equal(t, dossier.KindPermissionDenied, de.Kind)
			require.Contains(t, de.Message, `claim "`+tc.claim+`"`)
		})
	}
}

func TestOIDCClaimsAreConfigurable(t *testing.T) {
	t.Parallel()
	p := testIssuer(t, "RS256")
	roles, err := ParseRoleMap("lt-clerk=clerk, lt-sup=supervisor")
	require.NoError(t, err)
	o := newTestOIDC(t, p, func(o *OIDCOptions) {
		o.Claims = ClaimNames{Role: "realm_access.roles", Commune: "https://id.example.gov.vn/commune", Province: "tinh", Agency: "agency", Name: "display"}
		o.RoleMap = roles
	})
	tok := p.Sign(map[string]any{"sub": "u-9", "aud": []any{"account", testAudience},
		"realm_access":                      map[string]any{"roles": []any{"default-roles-lienthong", "lt-sup"}},
		"https://id.example.gov.vn/commune": "00004", "tinh": "040", "display": "Trần Văn Bình"})
	c, err := o.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, RoleSupervisor, c.Role)
	require.Equal(t, "040", c.Province)
	require.Empty(t, c.Commune, "a supervisor's scope is the province")
	require.Equal(t, "Trần Văn Bình", c.Name)

	// With a map, only mapped names count: "clerk" itself is not one.
	_, err = o.Verify(context.Background(), p.Sign(map[string]any{"sub": "u-9", "aud": testAudience,
		"realm_access": map[string]any{"roles": []any{"clerk"}}}))
	var ce *ClaimError
	require.ErrorAs(t, err, &ce)
	require.Contains(t, ce.Problem, "none of which is one of lt-clerk, lt-sup")

	_, err = ParseRoleMap("x=janitor")
	require.ErrorContains(t, err, `"janitor", which is not one of clerk`)
	_, err = ParseRoleMap("clerk")
	require.ErrorContains(t, err, "expected provider-name=role")
}

func TestTokensRefuseDevTokensForPeopleInProduction(t *testing.T) {
	t.Parallel()
	p := testIssuer(t, "RS256")
	o := newTestOIDC(t, p)
	clerk, err := Issue(key, Claims{Subject: "c", Role: RoleClerk, Commune: "00004"}, time.Hour)
	require.NoError(t, err)
	agency, err := Issue(key, Claims{Subject: "a", Role: RoleAgency, Agency: "police"}, time.Hour)
	require.NoError(t, err)
	ctx := context.Background()

	production := Tokens{OIDC: o, Key: key, HS256Roles: []Role{RoleAgency}}
	_, err = production.Verify(ctx, clerk)
	var te *TokenError
	require.ErrorAs(t, err, &te)
	require.Contains(t, te.Reason, "HS256 tokens are dev tokens, and a clerk signs in through the identity provider "+p.Issuer())
	c, err := production.Verify(ctx, agency)
	require.NoError(t, err, "agencies' systems are not people")
	require.Equal(t, RoleAgency, c.Role)
	c, err = production.Verify(ctx, p.Sign(clerkClaims()))
	require.NoError(t, err)
	require.Equal(t, "00004", c.Commune)

	// An HS256 token is checked against the HMAC key only, never the provider's keys.
	forged, err := Issue([]byte("another key of at least thirty-two bytes"), Claims{Subject: "c", Role: RoleAgency, Agency: "police"}, time.Hour)
	require.NoError(t, err)
	_, err = production.Verify(ctx, forged)
	require.ErrorContains(t, err, "signature is invalid")

	devCluster := production
	devCluster.DevTokens = true
	_, err = devCluster.Verify(ctx, clerk)
	require.NoError(t, err, "an explicit dev flag lets them in")

	providerOnly := Tokens{OIDC: o}
	_, err = providerOnly.Verify(ctx, agency)
	require.ErrorContains(t, err, "HS256 tokens are not accepted here")

	dev := Tokens{Key: key}
	_, err = dev.Verify(ctx, clerk)
	require.NoError(t, err, "without a provider (dev), HS256 is the only kind")
}

func TestOIDCProviderUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	o, err := NewOIDC(OIDCOptions{Issuer: url, Audience: testAudience, Claims: DefaultClaimNames()})
	require.NoError(t, err)
	_, err = o.Verify(context.Background(), "a.b.c")
	require.Equal(t, dossier.KindUnavailable, dossier.KindOf(VerifyError(err)))
	require.ErrorContains(t, o.Ready(context.Background()), "cannot be reached")

	_, err = NewOIDC(OIDCOptions{Issuer: "id.example.gov.vn", Audience: "x", Claims: DefaultClaimNames()})
	require.ErrorContains(t, err, "http(s) URL")
}
