package cli

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/internal/oidctest"
	"github.com/lienthong/lienthong/stack"
)

func TestClientCredentialsToken(t *testing.T) {
	t.Parallel()
	idp, err := oidctest.New(oidctest.Options{Alg: "ES256", Audience: "lienthong-api", Clients: []oidctest.Client{
		{ID: "lienthong-cli", Secret: "s3cret", Claims: map[string]any{"roles": []any{"admin"}}},
		{ID: "no-role", Secret: "s3cret"},
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(idp)
	t.Cleanup(srv.Close)
	idp.SetIssuer(srv.URL)
	cfg := config.Defaults()
	cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret, cfg.OIDCAudience = srv.URL, "lienthong-cli", "s3cret", "lienthong-api"
	ctx := context.Background()

	tok, err := clientCredentialsToken(ctx, cfg)
	require.NoError(t, err)
	v, err := stack.OIDCVerifier(cfg)
	require.NoError(t, err)
	c, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "lienthong-cli", c.Subject)
	require.Equal(t, "admin", string(c.Role))

	wrongAudience := cfg
	wrongAudience.OIDCAudience = ""
	_, err = clientCredentialsToken(ctx, wrongAudience)
	require.ErrorContains(t, err, "would be refused by the API")
	require.ErrorContains(t, err, `expected audience "lienthong-cli"`)

	noRole := cfg
	noRole.OIDCClientID = "no-role"
	_, err = clientCredentialsToken(ctx, noRole)
	require.ErrorContains(t, err, `claim "roles" (role): is missing`)

	wrongSecret := cfg
	wrongSecret.OIDCClientSecret = "guess"
	_, err = clientCredentialsToken(ctx, wrongSecret)
	require.ErrorContains(t, err, "invalid_client")

	_, err = clientCredentialsToken(ctx, config.Defaults())
	require.ErrorContains(t, err, "needs --oidc-issuer")
}
