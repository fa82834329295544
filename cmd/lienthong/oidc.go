package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
)

// oidcVerifier trusts the provider at --oidc-issuer, with the configured
// audience and claims.
func oidcVerifier(cfg config.Config) (*auth.OIDC, error) {
	roles, err := auth.ParseRoleMap(cfg.OIDCRoleMap)
	if err != nil {
		return nil, fmt.Errorf("--oidc-role-map: %w", err)
	}
	audience := cfg.OIDCAudience
	if audience == "" {
		audience = cfg.OIDCClientID
	}
	return auth.NewOIDC(auth.OIDCOptions{
		Issuer: cfg.OIDCIssuer, Audience: audience, RoleMap: roles,
		Claims: auth.ClaimNames{Role: cfg.OIDCRoleClaim, Commune: cfg.OIDCCommuneClaim, Province: cfg.OIDCProvinceClaim,
			Agency: cfg.OIDCAgencyClaim, Name: cfg.OIDCNameClaim},
	})
}

// oidcOptions are the console's sign-in through the provider, or nil
// without --oidc-issuer.
func oidcOptions(cfg config.Config) (*api.OIDCOptions, error) {
	if cfg.OIDCIssuer == "" {
		return nil, nil
	}
	v, err := oidcVerifier(cfg)
	if err != nil {
		return nil, err
	}
	return &api.OIDCOptions{
		Tokens: v, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		Scopes: strings.Fields(cfg.OIDCScopes), PublicURL: cfg.PublicURL, Name: cfg.OIDCProviderName,
	}, nil
}

// devPublicURL is where a dev stack's console answers: --public-url, or
// the API's HTTP address.
func devPublicURL(cfg config.Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	host, port, err := net.SplitHostPort(cfg.APIHTTPAddr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// clientCredentialsToken asks the provider for an access token of the
// client --oidc-client-id itself (a service account), for the CLI.
func clientCredentialsToken(ctx context.Context, cfg config.Config) (string, error) {
	if cfg.OIDCIssuer == "" || cfg.OIDCClientID == "" || cfg.OIDCClientSecret == "" {
		return "", errors.New("--client-credentials needs --oidc-issuer, --oidc-client-id and --oidc-client-secret (or their LIENTHONG_* settings)")
	}
	v, err := oidcVerifier(cfg)
	if err != nil {
		return "", err
	}
	p, err := v.Provider(ctx)
	if err != nil {
		return "", err
	}
	cc := clientcredentials.Config{ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, TokenURL: p.Endpoint().TokenURL}
	tok, err := cc.Token(v.Context(ctx))
	if err != nil {
		return "", fmt.Errorf("asking %s for a token: %w", cfg.OIDCIssuer, err)
	}
	// Checked here as the API will check it, so a service account without
	// its role claim is found now, not at the first call.
	if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
		return "", fmt.Errorf("the provider's token would be refused by the API (is --oidc-audience the API's?): %w", err)
	}
	return tok.AccessToken, nil
}
