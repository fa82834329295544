package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenCmd issues an API token signed with --token-key and prints it. In a
// dev data directory it falls back to the key `lienthong dev` generated.
// With --client-credentials it asks the identity provider instead, for the
// service account --oidc-client-id: the CLI's token in production.
type tokenCmd struct {
	config.Data
	config.Tokens
	config.OIDC
	Role         string        `name:"role" help:"clerk, agency, officer, supervisor, citizen or admin"`
	Sub          string        `name:"sub" help:"who the token is for, e.g. clerk-1 (recorded in the audit trail); empty is the role"`
	Commune      string        `name:"commune" help:"a clerk's 5-digit commune code"`
	Agency       string        `name:"agency" help:"an agency token's agency: justice, police, insurance or portal"`
	Province     string        `name:"province" help:"a supervisor's 3-digit province code; empty means national"`
	TTL          time.Duration `name:"ttl" default:"24h" help:"how long the token is valid"`
	FromProvider bool          `name:"client-credentials" help:"ask the identity provider (--oidc-issuer) for the service account --oidc-client-id's token instead"`
}

func (c *tokenCmd) Run(ctx context.Context, out io.Writer) error {
	cfg := config.From(c)
	if c.FromProvider {
		tok, err := clientCredentialsToken(ctx, cfg)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, tok)
		return err
	}
	if c.TTL <= 0 {
		return errors.New("--ttl must be positive")
	}
	if !auth.Role(c.Role).Valid() {
		return fmt.Errorf("--role: got %q, expected one of clerk, agency, officer, supervisor, citizen, admin", c.Role)
	}
	sub := c.Sub
	if sub == "" {
		sub = c.Role
	}
	key, err := stack.TokenKey(cfg)
	if err != nil {
		return err
	}
	tok, err := auth.Issue(key, auth.Claims{
		Subject: sub, Role: auth.Role(c.Role), Commune: c.Commune, Agency: c.Agency, Province: c.Province,
	}, c.TTL)
	// Each claim is set by the flag of its name.
	if ie := (*auth.IssueError)(nil); errors.As(err, &ie) {
		return fmt.Errorf("--%s: %s", ie.Claim, ie.Reason)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, tok)
	return err
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
