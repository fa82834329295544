package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
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
	if !auth.Role(role).Valid() {
		return fmt.Errorf("--role: got %q, expected one of clerk, agency, officer, supervisor, citizen, admin", role)
	}
	if sub == "" {
		sub = role
	}
	key, err := tokenKey(cfg)
	if err != nil {
		return err
	}
	tok, err := auth.Issue(key, auth.Claims{
		Subject: sub, Role: auth.Role(role), Commune: commune, Agency: agency, Province: province,
	}, ttl)
	if err != nil {
		// auth's messages start with the claim at fault; name the flag instead.
		return errors.New(strings.Replace(err.Error(), "issuing token: ", "--", 1))
	}
	fmt.Println(tok)
	return nil
}

// tokenKey is --token-key, or else the key a dev stack keeps in its data directory.
func tokenKey(cfg config.Config) ([]byte, error) {
	if cfg.TokenKey != "" {
		return cfg.TokenKeyBytes(), nil
	}
	path := filepath.Join(cfg.DataDir, "dev-keys.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.New("--token-key (or LIENTHONG_TOKEN_KEY / LIENTHONG_TOKEN_KEY_FILE): required; under `lienthong dev` the key is in --data-dir/dev-keys.json")
	}
	var keys struct{ TokenKey string }
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("reading the token key from %s: %w", path, err)
	}
	if keys.TokenKey == "" {
		return nil, fmt.Errorf("%s holds no TokenKey; set --token-key", path)
	}
	key, err := base64.StdEncoding.DecodeString(keys.TokenKey)
	if err != nil || len(key) < auth.MinKeyLength {
		return nil, fmt.Errorf("%s: the token key is not base64 of at least %d bytes", path, auth.MinKeyLength)
	}
	fmt.Fprintf(os.Stderr, "lienthong: using the dev token key from %s\n", path)
	return key, nil
}
