package auth

import (
	"context"
	"slices"

	"google.golang.org/grpc"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/pki"
)

// PeerAgency is the agency a call comes from, by the client certificate
// the server verified during the TLS handshake: the agency's claims when
// the certificate names lienthong://agency/<name>, ok false otherwise
// (no TLS, no certificate, or another identity).
func PeerAgency(ctx context.Context) (Claims, bool) {
	id, ok := pki.PeerIdentity(ctx)
	if !ok || id.Role != pki.RoleAgency {
		return Claims{}, false
	}
	return Claims{Subject: "agency-" + id.Name, Role: RoleAgency, Agency: id.Name}, true
}

// CertificateInterceptor authenticates agencies by their certificates, in
// front of tokens (next, the token interceptor). On a method p opens to
// agencies, a verified agency certificate is the caller's credential and
// its claims are the caller's; the handlers then hold the agency to its
// own cases. When required is set (the API serves TLS) such a method wants
// that certificate and refuses tokens, so a leaked token cannot push. Every
// other call goes on to next.
func CertificateInterceptor(p Policy, required bool, next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		rule, listed := p[info.FullMethod]
		if !listed || !slices.Contains(rule.Roles, RoleAgency) {
			return next(ctx, req, info, handler)
		}
		if c, ok := PeerAgency(ctx); ok {
			return handler(NewContext(ctx, c), req)
		}
		if required {
			return nil, dossier.Errorf(dossier.KindUnauthenticated,
				"%s takes an agency's client certificate (lienthong://agency/<name>), not a token", shortMethod(info.FullMethod))
		}
		return next(ctx, req, info, handler)
	}
}
