package agency

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// Method prefixes the interceptors tell apart. Health and reflection are
// outside lienthong.agency.v1 and stay open.
var (
	agencyPrefix = "/" + strings.TrimSuffix(agencyv1.AdminService_ServiceDesc.ServiceName, "AdminService")
	adminPrefix  = "/" + agencyv1.AdminService_ServiceDesc.ServiceName + "/"
)

func isAgencyMethod(m string) bool   { return strings.HasPrefix(m, agencyPrefix) }
func isAdminMethod(m string) bool    { return strings.HasPrefix(m, adminPrefix) }
func isBusinessMethod(m string) bool { return isAgencyMethod(m) && !isAdminMethod(m) }

// apiKeys holds the accepted API keys as digests, so that every
// comparison takes the same time whatever the key's length.
type apiKeys struct {
	keys []apiKey
}

type apiKey struct {
	digest [sha256.Size]byte
	client string
}

func newAPIKeys(keys map[string]string) apiKeys {
	var c apiKeys
	for k, client := range keys {
		if k == "" {
			continue
		}
		c.keys = append(c.keys, apiKey{digest: sha256.Sum256([]byte(k)), client: client})
	}
	return c
}

// client returns the client whose key the call presents: `authorization:
// Bearer <key>` or `x-api-key: <key>`. Every key is compared, in constant time.
func (c apiKeys) client(md metadata.MD) (string, bool) {
	var presented string
	if v := md.Get("authorization"); len(v) > 0 {
		scheme, token, ok := strings.Cut(strings.TrimSpace(v[0]), " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			presented = strings.TrimSpace(token)
		}
	}
	if presented == "" {
		if v := md.Get("x-api-key"); len(v) > 0 {
			presented = strings.TrimSpace(v[0])
		}
	}
	if presented == "" {
		return "", false
	}
	digest := sha256.Sum256([]byte(presented))
	found := ""
	for _, k := range c.keys {
		if subtle.ConstantTimeCompare(digest[:], k.digest[:]) == 1 {
			found = k.client
		}
	}
	return found, found != ""
}

type loggerKey struct{}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// authenticate refuses agency calls from unknown callers before anything
// else runs, so a refused call writes nothing. Over mutual TLS the caller is
// the identity its certificate names; without TLS, the client its API key
// names. AdminService wants the admin client.
func (s *Server) authenticate(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !isAgencyMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if s.mutual {
		return s.authenticatePeer(ctx, req, md, info, handler)
	}
	client, ok := s.keys.client(md)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "missing or unknown API key: send `authorization: Bearer <key>`")
	}
	if isAdminMethod(info.FullMethod) && client != AdminClient {
		return nil, status.Errorf(codes.PermissionDenied, "client %q may not change the agency's settings; use the admin key", client)
	}
	return handler(context.WithValue(ctx, clientKey{}, client), req)
}

// authenticatePeer names the caller by its verified certificate. Only the
// engine calls an agency; the mocks' AdminService also wants the admin key,
// a second credential for changing how the agency behaves.
func (s *Server) authenticatePeer(ctx context.Context, req any, md metadata.MD, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	id, ok := pki.PeerIdentity(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "a client certificate naming a lienthong:// identity is required")
	}
	if id != pki.Engine() {
		return nil, status.Errorf(codes.PermissionDenied, "%s may not call %s's services; only the engine may", id, s.name)
	}
	if isAdminMethod(info.FullMethod) {
		if client, ok := s.keys.client(md); !ok || client != AdminClient {
			return nil, status.Error(codes.PermissionDenied, "changing the agency's settings also needs the admin key: send `authorization: Bearer <key>`")
		}
	}
	return handler(context.WithValue(ctx, clientKey{}, id.String()), req)
}

type clientKey struct{}

// clientFrom names the authenticated client of a call.
func clientFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// logCalls logs each agency call's outcome without its content: requests
// carry personal data.
func (s *Server) logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx = context.WithValue(ctx, loggerKey{}, s.log)
	if !isAgencyMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	start := time.Now()
	resp, err := handler(ctx, req)
	s.log.Debug("call", "method", info.FullMethod, "code", status.Code(err).String(), "ms", time.Since(start).Milliseconds())
	return resp, err
}

// recoverPanics turns a handler's panic into Internal rather than a crash.
func (s *Server) recoverPanics(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panicked", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return handler(ctx, req)
}
