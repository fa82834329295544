package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	in := Claims{Subject: "clerk-1", Role: RoleClerk, Commune: "00004"}
	tok, err := Issue(key, in, time.Hour)
	require.NoError(t, err)
	got, err := Verify(key, tok)
	require.NoError(t, err)
	require.Equal(t, "clerk-1", got.Subject)
	require.Equal(t, RoleClerk, got.Role)
	require.Equal(t, "00004", got.Commune)
	require.Equal(t, "clerk:clerk-1", got.Actor())
	require.WithinDuration(t, time.Now().Add(time.Hour), got.ExpiresAt, 5*time.Second)
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	good, err := Issue(key, Claims{Subject: "s", Role: RoleAdmin}, time.Hour)
	require.NoError(t, err)

	expired := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "s", ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Hour)),
	}})
	expiredTok, err := expired.SignedString(key)
	require.NoError(t, err)

	noExpiry, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "s",
	}}).SignedString(key)
	require.NoError(t, err)

	otherIssuer, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "someone", Subject: "s", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}).SignedString(key)
	require.NoError(t, err)

	unknownRole, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Role: "mayor", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "s", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}).SignedString(key)
	require.NoError(t, err)

	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"role":"admin","sub":"x","iss":"lienthong","exp":9999999999}`)) + "." + parts[2]

	for name, tok := range map[string]string{
		"expired":      expiredTok,
		"no expiry":    noExpiry,
		"other issuer": otherIssuer,
		"unknown role": unknownRole,
		"alg none":     none,
		"tampered":     tampered,
		"garbage":      "not-a-token",
		"empty":        "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Verify(key, tok)
			require.Error(t, err)
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		_, err := Verify(bytes.Repeat([]byte{8}, 32), good)
		require.Error(t, err)
	})
}

func TestIssueChecksClaims(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Claims{
		"clerk without commune": {Subject: "c", Role: RoleClerk},
		"agency without agency": {Subject: "a", Role: RoleAgency},
		"no subject":            {Role: RoleAdmin},
		"unknown role":          {Subject: "x", Role: "mayor"},
	} {
		_, err := Issue(key, c, time.Hour)
		require.Error(t, err, name)
	}
	_, err := Issue(key[:16], Claims{Subject: "x", Role: RoleAdmin}, time.Hour)
	require.Error(t, err, "short key")
	_, err = Issue(key, Claims{Subject: "x", Role: RoleAdmin}, 0)
	require.Error(t, err, "zero ttl")
}

func TestPolicyAuthorize(t *testing.T) {
	t.Parallel()
	p := EnginePolicy()
	tokenFor := func(c Claims) string {
		tok, err := Issue(key, c, time.Hour)
		require.NoError(t, err)
		return tok
	}
	withToken := func(tok string) context.Context {
		if tok == "" {
			return context.Background()
		}
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	}
	clerk := tokenFor(Claims{Subject: "c", Role: RoleClerk, Commune: "00004"})
	citizen := tokenFor(Claims{Subject: "z", Role: RoleCitizen})
	cases := []struct {
		name   string
		tok    string
		method string
		want   dossier.Kind // "" means allowed
	}{
		{"clerk submits", clerk, enginev1.ClerkService_SubmitBirth_FullMethodName, ""},
		{"clerk may not trace", clerk, enginev1.SupervisorService_TraceDossier_FullMethodName, dossier.KindPermissionDenied},
		{"no token", "", enginev1.ClerkService_GetDossier_FullMethodName, dossier.KindUnauthenticated},
		{"bad token", "x.y.z", enginev1.ClerkService_GetDossier_FullMethodName, dossier.KindUnauthenticated},
		{"anonymous lookup", "", enginev1.CitizenService_LookupDossier_FullMethodName, ""},
		{"citizen lookup", citizen, enginev1.CitizenService_LookupDossier_FullMethodName, ""},
		{"bad token on lookup", "x.y.z", enginev1.CitizenService_LookupDossier_FullMethodName, dossier.KindUnauthenticated},
		{"clerk lookup", clerk, enginev1.CitizenService_LookupDossier_FullMethodName, dossier.KindPermissionDenied},
		{"unknown method", clerk, "/lienthong.engine.v1.ClerkService/DropTables", dossier.KindPermissionDenied},
		{"health", "", "/grpc.health.v1.Health/Check", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := p.Authorize(withToken(tc.tok), Tokens{Key: key}, tc.method)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.want, dossier.KindOf(err))
			_, ok := FromContext(ctx)
			require.False(t, ok)
		})
	}
}

func TestEnginePolicyCoversEveryMethod(t *testing.T) {
	t.Parallel()
	p := EnginePolicy()
	for _, sd := range []struct {
		name    string
		methods []string
	}{
		{enginev1.ClerkService_ServiceDesc.ServiceName, methodNames(enginev1.ClerkService_ServiceDesc.Methods)},
		{enginev1.AgencyCallbackService_ServiceDesc.ServiceName, methodNames(enginev1.AgencyCallbackService_ServiceDesc.Methods)},
		{enginev1.SupervisorService_ServiceDesc.ServiceName, methodNames(enginev1.SupervisorService_ServiceDesc.Methods)},
		{enginev1.CitizenService_ServiceDesc.ServiceName, methodNames(enginev1.CitizenService_ServiceDesc.Methods)},
		{enginev1.ReferenceService_ServiceDesc.ServiceName, methodNames(enginev1.ReferenceService_ServiceDesc.Methods)},
		{enginev1.SessionService_ServiceDesc.ServiceName, methodNames(enginev1.SessionService_ServiceDesc.Methods)},
		{enginev1.DeskService_ServiceDesc.ServiceName, methodNames(enginev1.DeskService_ServiceDesc.Methods)},
		{enginev1.OperationsService_ServiceDesc.ServiceName, methodNames(enginev1.OperationsService_ServiceDesc.Methods)},
	} {
		for _, m := range sd.methods {
			full := "/" + sd.name + "/" + m
			rule, ok := p[full]
			require.True(t, ok, "%s has no rule", full)
			if !rule.Anonymous {
				require.NotEmpty(t, rule.Roles, "%s names no role", full)
			}
		}
	}
}

func methodNames(ms []grpc.MethodDesc) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.MethodName
	}
	return out
}
