// Package pki owns lienthong's transport security material: the identities
// certificates name, certificate, key and CA files loaded and reloaded
// when they change (no restart), the TLS configurations built from them for
// servers (TLS 1.2 or later, client certificates verified on mutual hops)
// and clients (the server's name and identity checked), and a local
// certificate authority that issues the dev stack's certificates.
//
// It must not import other lienthong packages.
package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Scheme is the URI scheme of lienthong identities. A certificate names its
// holder with exactly one URI subject alternative name in it:
//
//	lienthong://engine           the engine (API and worker)
//	lienthong://agency/justice   one agency: justice, police, insurance, portal, sms
//	lienthong://temporal         the Temporal frontend
const Scheme = "lienthong"

// Roles a certificate may name.
const (
	RoleEngine   = "engine"
	RoleAgency   = "agency"
	RoleTemporal = "temporal"
)

// Identity is who a certificate says its holder is.
type Identity struct {
	// Role is engine, agency or temporal.
	Role string
	// Name is the agency's name; empty for the other roles.
	Name string
}

// Engine is the engine's identity.
func Engine() Identity { return Identity{Role: RoleEngine} }

// Agency is one agency's identity.
func Agency(name string) Identity { return Identity{Role: RoleAgency, Name: name} }

// Temporal is the Temporal frontend's identity.
func Temporal() Identity { return Identity{Role: RoleTemporal} }

// IsZero says no identity is named.
func (id Identity) IsZero() bool { return id == Identity{} }

// URI is the identity as it appears in a certificate.
func (id Identity) URI() *url.URL {
	u := &url.URL{Scheme: Scheme, Host: id.Role}
	if id.Name != "" {
		u.Path = "/" + id.Name
	}
	return u
}

// String is the identity without the scheme: "engine", "agency/police".
func (id Identity) String() string {
	if id.Name == "" {
		return id.Role
	}
	return id.Role + "/" + id.Name
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// Check says the identity is well formed: a known role, and a name exactly
// when the role is agency.
func (id Identity) Check() error {
	switch id.Role {
	case RoleEngine, RoleTemporal:
		if id.Name != "" {
			return fmt.Errorf("identity %s: the %s role takes no name", id, id.Role)
		}
	case RoleAgency:
		if !namePattern.MatchString(id.Name) {
			return fmt.Errorf("identity %s: an agency identity needs a name of lower-case letters, digits and dashes", id)
		}
	default:
		return fmt.Errorf("identity %q: role is not one of engine, agency, temporal", id.String())
	}
	return nil
}

// ParseIdentity reads a lienthong:// URI.
func ParseIdentity(u *url.URL) (Identity, error) {
	if u == nil || u.Scheme != Scheme {
		return Identity{}, errors.New("not a " + Scheme + ":// URI")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
		return Identity{}, fmt.Errorf("%s: an identity has no user, port, query or fragment", u)
	}
	id := Identity{Role: u.Host, Name: strings.TrimPrefix(u.Path, "/")}
	if err := id.Check(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// IdentityOf is the identity a certificate names: its one lienthong:// URI
// subject alternative name. A certificate naming none, or two, has none.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	var found []Identity
	for _, u := range cert.URIs {
		if u.Scheme != Scheme {
			continue
		}
		id, err := ParseIdentity(u)
		if err != nil {
			return Identity{}, fmt.Errorf("certificate %q: %w", cert.Subject.CommonName, err)
		}
		found = append(found, id)
	}
	switch len(found) {
	case 0:
		return Identity{}, fmt.Errorf("certificate %q names no %s:// identity among its URI SANs", cert.Subject.CommonName, Scheme)
	case 1:
		return found[0], nil
	default:
		return Identity{}, fmt.Errorf("certificate %q names %d %s:// identities; it must name one", cert.Subject.CommonName, len(found), Scheme)
	}
}

// PeerIdentity is the identity of a gRPC call's client, from the
// certificate the server verified during the handshake. ok is false for a
// call without TLS, without a verified client certificate, or whose
// certificate names no identity.
func PeerIdentity(ctx context.Context) (Identity, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{}, false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return Identity{}, false
	}
	id, err := IdentityOf(info.State.VerifiedChains[0][0])
	if err != nil {
		return Identity{}, false
	}
	return id, true
}
