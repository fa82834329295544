// Package auth owns who may call the engine API: bearer tokens carrying a
// role and its scope (from an OpenID Connect provider, or lienthong's own
// HS256 dev tokens), agencies' certificates (peer.go), and the per-method
// policy the gRPC interceptors enforce. Scope that depends on a dossier (its
// commune or province) is checked by the handlers with the claims this
// package puts in the context. It may import dossier, pki and the generated
// engine contracts; it must not import store, workflows, activities or api.
package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a token's holder does.
type Role string

const (
	// RoleClerk is a commune one-stop clerk; the token names the commune.
	RoleClerk Role = "clerk"
	// RoleAgency is an agency's system pushing case changes; the token names the agency.
	RoleAgency Role = "agency"
	// RoleOfficer is a person working one agency's queue at its desk; the
	// token names the agency.
	RoleOfficer Role = "officer"
	// RoleSupervisor watches a province, or the whole country when the token names none.
	RoleSupervisor Role = "supervisor"
	// RoleCitizen may only look up a dossier by code and phone.
	RoleCitizen Role = "citizen"
	// RoleAdmin may call everything.
	RoleAdmin Role = "admin"
)

// Roles lists every role, for flags and docs.
func Roles() []Role {
	return []Role{RoleClerk, RoleAgency, RoleOfficer, RoleSupervisor, RoleCitizen, RoleAdmin}
}

// Valid says r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles() {
		if r == k {
			return true
		}
	}
	return false
}

// Claims are what a token says about its holder.
type Claims struct {
	Subject string
	Role    Role
	// Commune is a clerk's 5-digit commune code.
	Commune string
	// Agency is an agency token's agency: justice, police, insurance or portal.
	Agency string
	// Province is a supervisor's 3-digit province code; empty means national.
	Province string
	// Name is what the console shows for the holder; empty shows the subject.
	Name      string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Issuer is who signed the token: an identity provider's URL, or
	// "lienthong" for a dev token.
	Issuer string
}

// Actor names the holder in audit rows and trace events, e.g. "clerk:clerk-1".
func (c Claims) Actor() string {
	if c.Role == "" {
		return "anonymous"
	}
	return string(c.Role) + ":" + c.Subject
}

// Check says whether the claims are complete for their role.
func (c Claims) Check() error {
	if c.Subject == "" {
		return &IssueError{Claim: "sub", Reason: "a token needs a subject"}
	}
	switch c.Role {
	case RoleClerk:
		if c.Commune == "" {
			return &IssueError{Claim: "commune", Reason: "a clerk token needs a commune"}
		}
	case RoleAgency, RoleOfficer:
		if c.Agency == "" {
			return &IssueError{Claim: "agency", Reason: fmt.Sprintf("an %s token needs an agency", c.Role)}
		}
	case RoleSupervisor, RoleCitizen, RoleAdmin:
	default:
		return &IssueError{Claim: "role", Reason: fmt.Sprintf("%q is not one of clerk, agency, officer, supervisor, citizen, admin", c.Role)}
	}
	return nil
}

// IssueError is a claim a token cannot be issued with as it is. Claim is
// the claim's name in the token (sub, role, commune, agency), which is also
// the flag of `lienthong token` that sets it.
type IssueError struct {
	Claim  string
	Reason string
}

func (e *IssueError) Error() string { return e.Claim + ": " + e.Reason }

// MinKeyLength is the shortest HMAC key accepted, in bytes.
const MinKeyLength = 32

type jwtClaims struct {
	Role     Role   `json:"role"`
	Commune  string `json:"commune,omitempty"`
	Agency   string `json:"agency,omitempty"`
	Province string `json:"province,omitempty"`
	jwt.RegisteredClaims
}

// DevIssuer is the issuer of lienthong's own HS256 tokens.
const DevIssuer = "lienthong"

const issuer = DevIssuer

// Issue signs a token for c that expires after ttl.
func Issue(key []byte, c Claims, ttl time.Duration) (string, error) {
	if len(key) < MinKeyLength {
		return "", fmt.Errorf("issuing token: the key must be at least %d bytes", MinKeyLength)
	}
	if ttl <= 0 {
		return "", errors.New("issuing token: ttl must be positive")
	}
	if err := c.Check(); err != nil {
		return "", fmt.Errorf("issuing token: %w", err)
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		Role:     c.Role,
		Commune:  c.Commune,
		Agency:   c.Agency,
		Province: c.Province,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   c.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	})
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("issuing token: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature, algorithm, issuer and lifetime and
// returns its claims.
func Verify(key []byte, token string) (Claims, error) {
	if len(key) < MinKeyLength {
		return Claims{}, errors.New("verifying token: no usable key is configured")
	}
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("verifying token: %w", err)
	}
	c := Claims{
		Subject:  jc.Subject,
		Role:     jc.Role,
		Commune:  jc.Commune,
		Agency:   jc.Agency,
		Province: jc.Province,
	}
	if jc.IssuedAt != nil {
		c.IssuedAt = jc.IssuedAt.Time
	}
	if jc.ExpiresAt != nil {
		c.ExpiresAt = jc.ExpiresAt.Time
	}
	c.Issuer = jc.Issuer
	if err := c.Check(); err != nil {
		return Claims{}, fmt.Errorf("verifying token: %w", err)
	}
	return c, nil
}

// Verifier checks a bearer token and says who holds it.
type Verifier interface {
	Verify(ctx context.Context, token string) (Claims, error)
}

// Tokens is the engine's verifier: tokens from the identity provider and,
// as configured, lienthong's own HS256 tokens.
type Tokens struct {
	// OIDC verifies the provider's tokens; nil accepts HS256 tokens only (dev).
	OIDC *OIDC
	// Key verifies HS256 tokens; nil refuses them all.
	Key []byte
	// HS256Roles are the roles an HS256 token may carry while OIDC is set:
	// systems, not people. Nil with OIDC set refuses every HS256 token but
	// under DevTokens.
	HS256Roles []Role
	// DevTokens accepts HS256 tokens of every role beside the provider's:
	// dev and test clusters only.
	DevTokens bool
}

// Verify picks the verifier by the token's declared algorithm, so a
// provider's token is never checked against the HMAC key, nor the reverse.
func (t Tokens) Verify(ctx context.Context, token string) (Claims, error) {
	if t.OIDC != nil && tokenAlg(token) != jwt.SigningMethodHS256.Alg() {
		return t.OIDC.Verify(ctx, token)
	}
	if len(t.Key) == 0 {
		return Claims{}, &TokenError{Reason: "HS256 tokens are not accepted here; sign in through the identity provider"}
	}
	c, err := Verify(t.Key, token)
	if err != nil {
		return Claims{}, &TokenError{Reason: strings.TrimPrefix(err.Error(), "verifying token: ")}
	}
	if t.OIDC != nil && !t.DevTokens && !slices.Contains(t.HS256Roles, c.Role) {
		return Claims{}, &TokenError{Reason: fmt.Sprintf("HS256 tokens are dev tokens, and a %s signs in through the identity provider %s", c.Role, t.OIDC.Issuer())}
	}
	return c, nil
}

// tokenAlg reads a JWT's declared algorithm without trusting it: it only
// chooses which verifier checks the token.
func tokenAlg(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}
