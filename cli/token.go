package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"golang.org/x/oauth2/clientcredentials"
)

// runToken issues an API token signed with --token-key and prints it. In a
// dev data directory it falls back to the key `lienthong dev` generated.
// With --client-credentials it asks the identity provider instead, for the
// service account --oidc-client-id: the CLI's token in production.
func runToken(ctx context.Context, args []string) error {
	var role, sub, commune, agency, province string
	var ttl time.Duration
	var fromProvider bool
	cfg, rest, err := parseCLI("token", args, "lienthong token --role clerk --commune 00004 --sub clerk-1 [--ttl 24h]", func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "clerk, agency, officer, supervisor, citizen or admin")
		fs.StringVar(&sub, "sub", "", "who the token is for, e.g. clerk-1 (recorded in the audit trail)")
		fs.StringVar(&commune, "commune", "", "a clerk's 5-digit commune code")
		fs.StringVar(&agency, "agency", "", "an agency token's agency: justice, police, insurance or portal")
		fs.StringVar(&province, "province", "", "a supervisor's 3-digit province code; empty means national")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
		fs.BoolVar(&fromProvider, "client-credentials", false, "ask the identity provider (--oidc-issuer) for the service account --oidc-client-id's token instead")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("token: unexpected argument %q", rest[0])
	}
	if fromProvider {
		tok, err := clientCredentialsToken(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	}
	if ttl <= 0 {
		return errors.New("--ttl must be positive")
	}
	if !auth.Role(role).Valid() {
		return fmt.Errorf("--role: got %q, expected one of clerk, agency, officer, supervisor, citizen, admin", role)
	}
	if sub == "" {
		sub = role
	}
	key, err := stack.TokenKey(cfg)
	if err != nil {
		return err
	}
	tok, err := auth.Issue(key, auth.Claims{
		Subject: sub, Role: auth.Role(role), Commune: commune, Agency: agency, Province: province,
	}, ttl)
	// Each claim is set by the flag of its name.
	if ie := (*auth.IssueError)(nil); errors.As(err, &ie) {
		return fmt.Errorf("--%s: %s", ie.Claim, ie.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// clientCredentialsToken asks the provider for an access token of the
// client --oidc-client-id itself (a service account), for the CLI.
func clientCredentialsToken(ctx context.Context, cfg config.Config) (string, error) {
	if cfg.OIDCIssuer == "" || cfg.OIDCClientID == "" || cfg.OIDCClientSecret == "" {
		return "", errors.New("--client-credentials needs --oidc-issuer, --oidc-client-id and --oidc-client-secret (or their LIENTHONG_* settings)")
	}
	v, err := stack.OIDCVerifier(cfg)
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
