package api

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// Metadata the REST gateway adds to every call it makes for a browser: the
// client's address, and the key that proves the gateway sent it.
const (
	mdClient     = "lienthong-client"
	mdGatewayKey = "lienthong-gateway-key"
)

// forwardClient names the HTTP client to the gRPC side: the address it
// connects from, or, when that is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one.
func (s *Server) forwardClient(_ context.Context, r *http.Request) metadata.MD {
	return metadata.Pairs(mdClient, httpClient(r, s.trustedProxies), mdGatewayKey, s.gatewayKey)
}

func httpClient(r *http.Request, trusted []netip.Prefix) string {
	addr := remoteAddr(r.RemoteAddr)
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0 && isTrusted(addr, trusted); i-- {
		next, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = next.Unmap()
	}
	return clientKey(addr)
}

func remoteAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is how the throttle names a client: its IPv4 address, or its
// IPv6 /64, since one subscriber holds a whole /64 and could rotate within it.
func clientKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// clientOfCtx is the client a call serves: the one the REST gateway names, if
// the gateway made the call, or the gRPC peer's address.
func (s *Server) clientOfCtx(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if key := md.Get(mdGatewayKey); len(key) == 1 && subtle.ConstantTimeCompare([]byte(key[0]), []byte(s.gatewayKey)) == 1 {
		if c := md.Get(mdClient); len(c) == 1 && c[0] != "" {
			return c[0]
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if a := remoteAddr(p.Addr.String()); a.IsValid() {
			return clientKey(a)
		}
		return p.Addr.String()
	}
	return "unknown"
}
