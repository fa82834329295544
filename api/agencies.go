package api

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// AgencyClients are the agencies' own services, which the officers' desk,
// the certificate checks and the operations page call. The agency stays the
// system of record: the API keeps none of their state.
type AgencyClients struct {
	// Cases holds each deciding agency's case service, by agency name.
	Cases map[string]agencyv1.CaseServiceClient
	// Admin holds each agency's admin service, by agency name.
	Admin   map[string]agencyv1.AdminServiceClient
	Justice agencyv1.JusticeServiceClient
}

// UseAgencies gives the server its agency clients. A dev stack starts the
// agencies after the API (they push to it), so this may come after New but
// before any desk call; until then those calls answer Unavailable.
func (s *Server) UseAgencies(a AgencyClients) { s.agencies.Store(&a) }

func (s *Server) agencyClients() (*AgencyClients, error) {
	a := s.agencies.Load()
	if a == nil {
		return nil, dossier.Errorf(dossier.KindUnavailable, "the agencies are not connected yet")
	}
	return a, nil
}

// deskAgencies are the agencies with officers and a case queue.
var deskAgencies = []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance}

// agencyOfCase reads the agency from a case id's prefix (JUS-, POL-, INS-).
func agencyOfCase(id string) string {
	switch {
	case strings.HasPrefix(id, "JUS-"):
		return dossier.AgencyJustice
	case strings.HasPrefix(id, "POL-"):
		return dossier.AgencyPolice
	case strings.HasPrefix(id, "INS-"):
		return dossier.AgencyInsurance
	}
	return ""
}

// agencyError turns an agency's answer into the API's: the agency's own
// refusals (a case claimed by another officer, bad input, unknown case)
// reach the caller as they are; an agency that cannot be reached is
// Unavailable; anything else is an internal fault.
func agencyError(agency string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &dossier.Error{Kind: dossier.KindInternal, Message: "calling " + agency, Err: err}
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.AlreadyExists, codes.PermissionDenied:
		return status.Error(st.Code(), agency+": "+st.Message())
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Unauthenticated:
		return &dossier.Error{Kind: dossier.KindUnavailable, Message: agency + " is not answering", Err: err}
	}
	return &dossier.Error{Kind: dossier.KindInternal, Message: "calling " + agency, Err: err}
}
