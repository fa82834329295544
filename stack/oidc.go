package stack

import (
	"fmt"
	"net"
	"strings"

	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
)

// OIDCVerifier trusts the provider at --oidc-issuer, with the configured
// audience and claims.
func OIDCVerifier(cfg config.Config) (*auth.OIDC, error) {
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
	v, err := OIDCVerifier(cfg)
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
