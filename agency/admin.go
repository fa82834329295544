package agency

import (
	"context"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// adminService switches an agency's mode and faults at run time. Only the
// admin client may call it, and it is never faulted.
type adminService struct {
	agencyv1.UnimplementedAdminServiceServer
	s *Server
}

func (a *adminService) snapshot() *agencyv1.Settings {
	mode, auto := a.s.settings.current()
	return &agencyv1.Settings{Agency: a.s.name, Mode: mode, Auto: auto, Faults: a.s.faults.current()}
}

func (a *adminService) GetSettings(context.Context, *agencyv1.GetSettingsRequest) (*agencyv1.GetSettingsResponse, error) {
	return &agencyv1.GetSettingsResponse{Settings: a.snapshot()}, nil
}

// SetMode switches between auto and manual. Cases already received stay in
// the queue; in auto mode the decider takes up those that are due.
func (a *adminService) SetMode(ctx context.Context, req *agencyv1.SetModeRequest) (*agencyv1.SetModeResponse, error) {
	if err := a.s.settings.set(req.GetMode(), req.GetAuto()); err != nil {
		return nil, err
	}
	if a.s.desk != nil {
		a.s.desk.wake()
	}
	a.s.log.Info("decision mode set", "mode", modeName(req.GetMode()))
	return &agencyv1.SetModeResponse{Settings: a.snapshot()}, nil
}

// SetFaults replaces every fault and restarts their seeded sequence.
func (a *adminService) SetFaults(ctx context.Context, req *agencyv1.SetFaultsRequest) (*agencyv1.SetFaultsResponse, error) {
	if err := a.s.faults.set(req.GetFaults()); err != nil {
		return nil, err
	}
	a.s.log.Info("faults set", "unavailable_ratio", req.GetFaults().GetUnavailableRatio(), "hang_ratio", req.GetFaults().GetHangRatio(),
		"added_latency", req.GetFaults().GetAddedLatency().AsDuration().String(), "lost_callback_ratio", req.GetFaults().GetLostCallbackRatio(),
		"outage", req.GetFaults().GetOutageFrom() != nil || req.GetFaults().GetOutageUntil() != nil)
	return &agencyv1.SetFaultsResponse{Settings: a.snapshot()}, nil
}
