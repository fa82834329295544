package api

import (
	"context"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// operationsService forwards an admin's switches to the agencies' own
// admin services.
type operationsService struct {
	enginev1.UnimplementedOperationsServiceServer
	s *Server
}

// maxOutage bounds an outage set from the console.
const maxOutage = 24 * time.Hour

// smsGateway names the SMS gateway the applicants are notified through; it
// has the agencies' admin service, so its outages are set the same way.
const smsGateway = "sms"

var operatedAgencies = []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance, dossier.AgencyPortal, smsGateway}

func (ops *operationsService) admin(agency string) (agencyv1.AdminServiceClient, error) {
	if !slices.Contains(operatedAgencies, agency) {
		return nil, invalid(violation("agency", "must be justice, police, insurance, portal or sms"))
	}
	a, err := ops.s.agencyClients()
	if err != nil {
		return nil, err
	}
	c := a.Admin[agency]
	if c == nil {
		return nil, dossier.Errorf(dossier.KindUnavailable, "the %s admin service is not connected", agency)
	}
	return c, nil
}

func (ops *operationsService) ListAgencies(ctx context.Context, _ *enginev1.ListAgenciesRequest) (*enginev1.ListAgenciesResponse, error) {
	resp := &enginev1.ListAgenciesResponse{}
	for _, name := range operatedAgencies {
		c, err := ops.admin(name)
		if err != nil {
			resp.Agencies = append(resp.Agencies, &enginev1.AgencyState{Agency: name, Error: publicMessage(err)})
			continue
		}
		got, err := c.GetSettings(ctx, &agencyv1.GetSettingsRequest{})
		if err != nil {
			resp.Agencies = append(resp.Agencies, &enginev1.AgencyState{Agency: name, Error: publicMessage(agencyError(name, err))})
			continue
		}
		resp.Agencies = append(resp.Agencies, ops.s.agencyState(name, got.GetSettings()))
	}
	return resp, nil
}

func (s *Server) agencyState(name string, st *agencyv1.Settings) *enginev1.AgencyState {
	out := &enginev1.AgencyState{Agency: name, Reachable: true, Mode: enginev1.AgencyMode(st.GetMode())}
	f := st.GetFaults()
	out.UnavailableRatio = f.GetUnavailableRatio()
	now := s.now()
	if from, until := f.GetOutageFrom(), f.GetOutageUntil(); from != nil && until != nil &&
		!now.Before(from.AsTime()) && now.Before(until.AsTime()) {
		out.OutageUntil = until
	}
	return out
}

func (ops *operationsService) SetAgencyMode(ctx context.Context, req *enginev1.SetAgencyModeRequest) (*enginev1.SetAgencyModeResponse, error) {
	s := ops.s
	var vs []dossier.FieldViolation
	switch req.GetAgency() {
	case dossier.AgencyPortal:
		vs = append(vs, violation("agency", "the portal has no officers: it only publishes statuses"))
	case smsGateway:
		vs = append(vs, violation("agency", "the SMS gateway has no officers: it only sends messages"))
	}
	if req.GetMode() != enginev1.AgencyMode_AGENCY_MODE_AUTO && req.GetMode() != enginev1.AgencyMode_AGENCY_MODE_MANUAL {
		vs = append(vs, violation("mode", "is required: AGENCY_MODE_AUTO or AGENCY_MODE_MANUAL"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	c, err := ops.admin(req.GetAgency())
	if err != nil {
		return nil, err
	}
	got, err := c.SetMode(ctx, &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode(req.GetMode())})
	if err != nil {
		return nil, agencyError(req.GetAgency(), err)
	}
	if err := s.audit(ctx, "set agency mode", "", req.GetAgency()+" "+req.GetMode().String()); err != nil {
		return nil, err
	}
	s.log.Info("agency mode set", "agency", req.GetAgency(), "mode", req.GetMode().String(), "actor", caller(ctx).Actor())
	return &enginev1.SetAgencyModeResponse{Agency: s.agencyState(req.GetAgency(), got.GetSettings())}, nil
}

func (ops *operationsService) SetAgencyOutage(ctx context.Context, req *enginev1.SetAgencyOutageRequest) (*enginev1.SetAgencyOutageResponse, error) {
	s := ops.s
	var vs []dossier.FieldViolation
	d := req.GetDuration().AsDuration()
	if req.GetDuration() != nil && (d < 0 || d > maxOutage) {
		vs = append(vs, violation("duration", "must be between 0 (ends an outage) and 24h"))
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		vs = append(vs, violation("reason", "is required"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	c, err := ops.admin(req.GetAgency())
	if err != nil {
		return nil, err
	}
	cur, err := c.GetSettings(ctx, &agencyv1.GetSettingsRequest{})
	if err != nil {
		return nil, agencyError(req.GetAgency(), err)
	}
	// Keep the agency's other faults; change only the outage window.
	faults := cur.GetSettings().GetFaults()
	if faults == nil {
		faults = &agencyv1.Faults{}
	}
	now := s.now()
	if d > 0 {
		faults.OutageFrom, faults.OutageUntil = timestamppb.New(now.Add(-time.Second)), timestamppb.New(now.Add(d))
	} else {
		faults.OutageFrom, faults.OutageUntil = nil, nil
	}
	got, err := c.SetFaults(ctx, &agencyv1.SetFaultsRequest{Faults: faults})
	if err != nil {
		return nil, agencyError(req.GetAgency(), err)
	}
	if err := s.audit(ctx, "set agency outage", "", req.GetAgency()+" for "+d.String()+": "+reason); err != nil {
		return nil, err
	}
	s.log.Info("agency outage set", "agency", req.GetAgency(), "duration", d.String(), "actor", caller(ctx).Actor())
	return &enginev1.SetAgencyOutageResponse{Agency: s.agencyState(req.GetAgency(), got.GetSettings())}, nil
}
