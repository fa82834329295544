package auth

import (
	"context"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// Bearer is a credential a client sends as `authorization: Bearer <token>` on
// every call of a connection (grpc.WithPerRPCCredentials): a person's token,
// an agency's API key or the mock agencies' admin key. BearerToken and the
// agencies read it on the other side.
type Bearer string

var _ credentials.PerRPCCredentials = Bearer("")

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b Bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: the credential also travels on the
// plaintext connections that only --insecure-plaintext makes
// (docs/security.md).
func (Bearer) RequireTransportSecurity() bool { return false }

// WithBearer returns ctx carrying tok as the `authorization: Bearer` header
// of the calls made with it, for a client that calls as several people.
func WithBearer(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}
