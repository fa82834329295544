package auth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// Rule says who may call one method.
type Rule struct {
	Roles []Role
	// Anonymous lets a call without a token through. A call that presents a
	// token is still held to Roles, so a bad token is never ignored.
	Anonymous bool
}

// Policy maps full gRPC method names to their rule. A method missing from
// the policy is refused for everyone: new methods are closed until listed.
type Policy map[string]Rule

// EnginePolicy is the engine API's policy. Scope within a role (a clerk's
// own commune, a supervisor's own province, an agency's own steps) is checked
// by the handlers, which know the dossier.
//
// The citizen's lookup is open without a token: the dossier code and the
// applicant's phone number together are the credential, and a wrong pair is
// answered exactly like an unknown code.
func EnginePolicy() Policy {
	clerkWrite := Rule{Roles: []Role{RoleClerk, RoleAdmin}}
	clerkRead := Rule{Roles: []Role{RoleClerk, RoleSupervisor, RoleAdmin}}
	supervisor := Rule{Roles: []Role{RoleSupervisor, RoleAdmin}}
	desk := Rule{Roles: []Role{RoleOfficer, RoleAdmin}}
	admin := Rule{Roles: []Role{RoleAdmin}}
	// people are the roles a person signs in with; agencies' systems are not people.
	people := []Role{RoleClerk, RoleOfficer, RoleSupervisor, RoleCitizen, RoleAdmin}
	return Policy{
		enginev1.ClerkService_SubmitBirth_FullMethodName:       clerkWrite,
		enginev1.ClerkService_SubmitDeath_FullMethodName:       clerkWrite,
		enginev1.ClerkService_GetDossier_FullMethodName:        clerkRead,
		enginev1.ClerkService_ListDossiers_FullMethodName:      clerkRead,
		enginev1.ClerkService_SupplementDossier_FullMethodName: clerkWrite,
		enginev1.ClerkService_CancelDossier_FullMethodName:     clerkWrite,

		enginev1.AgencyCallbackService_ReportCase_FullMethodName: {Roles: []Role{RoleAgency, RoleAdmin}},

		enginev1.SupervisorService_ListStuck_FullMethodName:     supervisor,
		enginev1.SupervisorService_TraceDossier_FullMethodName:  supervisor,
		enginev1.SupervisorService_RetryStep_FullMethodName:     supervisor,
		enginev1.SupervisorService_EscalateStep_FullMethodName:  supervisor,
		enginev1.SupervisorService_CancelDossier_FullMethodName: supervisor,
		enginev1.SupervisorService_GetStatistics_FullMethodName: supervisor,

		enginev1.ClerkService_GetExtract_FullMethodName:      clerkRead,
		enginev1.SupervisorService_RetryBatch_FullMethodName: supervisor,
		enginev1.SupervisorService_ListAudit_FullMethodName:  supervisor,
		// Apologies carry no personal data: codes, agencies, dates, reasons.
		enginev1.SupervisorService_ListApologies_FullMethodName: supervisor,

		enginev1.CitizenService_LookupDossier_FullMethodName: {Roles: []Role{RoleCitizen, RoleAdmin}, Anonymous: true},
		// Anyone holding an extract may check it; it is the holder's own document.
		enginev1.CitizenService_VerifyExtract_FullMethodName: {Roles: people, Anonymous: true},

		// Places are public reference data.
		enginev1.ReferenceService_ListPlaces_FullMethodName: {Roles: people, Anonymous: true},

		enginev1.SessionService_ListSignInOptions_FullMethodName: {Anonymous: true},
		enginev1.SessionService_SignIn_FullMethodName:            {Anonymous: true},
		enginev1.SessionService_GetSession_FullMethodName:        {Roles: people},
		enginev1.SessionService_SignOut_FullMethodName:           {Anonymous: true},
		// Renewal needs no live token, which may just have expired: the
		// sealed refresh cookie is the credential, with the CSRF token.
		enginev1.SessionService_RefreshSession_FullMethodName: {Anonymous: true},

		enginev1.DeskService_ListCases_FullMethodName:    desk,
		enginev1.DeskService_GetCase_FullMethodName:      desk,
		enginev1.DeskService_ClaimCase_FullMethodName:    desk,
		enginev1.DeskService_DecideCase_FullMethodName:   desk,
		enginev1.DeskService_IssueApology_FullMethodName: desk,

		enginev1.OperationsService_ListAgencies_FullMethodName:    admin,
		enginev1.OperationsService_SetAgencyMode_FullMethodName:   admin,
		enginev1.OperationsService_SetAgencyOutage_FullMethodName: admin,

		healthpb.Health_Check_FullMethodName: {Anonymous: true},
		healthpb.Health_List_FullMethodName:  {Anonymous: true},
	}
}

type claimsKey struct{}

// NewContext returns ctx carrying the caller's claims.
func NewContext(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the caller's claims; ok is false for an anonymous call.
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// BearerToken returns the token of an `authorization: Bearer <token>`
// header in the incoming metadata, or "".
func BearerToken(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

// Authorize decides one call: it verifies the presented token, if any,
// against the method's rule and returns the context with the claims. Its
// errors are dossier errors (unauthenticated, permission denied), mapped to
// gRPC codes by the API's one error table.
func (p Policy) Authorize(ctx context.Context, v Verifier, method string) (context.Context, error) {
	rule, listed := p[method]
	tok := BearerToken(ctx)
	if tok == "" {
		if listed && rule.Anonymous {
			return ctx, nil
		}
		return ctx, dossier.Errorf(dossier.KindUnauthenticated, "a bearer token is required: send `authorization: Bearer <token>`")
	}
	c, err := v.Verify(ctx, tok)
	if err != nil {
		return ctx, VerifyError(err)
	}
	// A method open to all (health) lets any valid token through.
	public := listed && rule.Anonymous && len(rule.Roles) == 0
	if !public && !slices.Contains(rule.Roles, c.Role) {
		return ctx, dossier.Errorf(dossier.KindPermissionDenied, "role %s may not call %s", c.Role, shortMethod(method))
	}
	return NewContext(ctx, c), nil
}

// VerifyError turns a verifier's refusal into the error a caller reads.
// The reason (expired, another audience, a missing claim) helps the caller
// and reveals nothing: a token that does not say who its holder is in
// lienthong is permission denied, naming the claim; any other is
// unauthenticated.
func VerifyError(err error) error {
	var de *dossier.Error
	if errors.As(err, &de) {
		return de
	}
	var ce *ClaimError
	if errors.As(err, &ce) {
		return &dossier.Error{Kind: dossier.KindPermissionDenied, Message: "the token does not say who you are in lienthong: " + ce.Error(), Err: err}
	}
	return &dossier.Error{Kind: dossier.KindUnauthenticated, Message: "the token is not valid: " + err.Error(), Err: err}
}

// UnaryInterceptor enforces p on every unary call.
func UnaryInterceptor(v Verifier, p Policy) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := p.Authorize(ctx, v, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// shortMethod turns "/pkg.Service/Method" into "Service.Method".
func shortMethod(full string) string {
	full = strings.TrimPrefix(full, "/")
	svc, m, _ := strings.Cut(full, "/")
	if i := strings.LastIndex(svc, "."); i >= 0 {
		svc = svc[i+1:]
	}
	return svc + "." + m
}
