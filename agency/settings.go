package agency

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// settings is what AdminService switches at run time: the decision mode and
// the auto decider's shape. Faults live with their injector.
type settings struct {
	agency string
	mu     sync.Mutex
	mode   agencyv1.DecisionMode
	auto   *agencyv1.AutoDecider
}

func newSettings(agency string, mode agencyv1.DecisionMode, auto *agencyv1.AutoDecider) (*settings, error) {
	s := &settings{agency: agency}
	if err := s.set(mode, auto); err != nil {
		return nil, err
	}
	return s, nil
}

// set switches the mode; a nil auto keeps the current auto settings.
func (s *settings) set(mode agencyv1.DecisionMode, auto *agencyv1.AutoDecider) error {
	var v violations
	if mode != agencyv1.DecisionMode_DECISION_MODE_AUTO && mode != agencyv1.DecisionMode_DECISION_MODE_MANUAL {
		v.add("mode", "must be DECISION_MODE_AUTO or DECISION_MODE_MANUAL")
	}
	if auto != nil {
		checkAuto(&v, auto)
	}
	if err := v.err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
	if auto != nil {
		s.auto = proto.CloneOf(auto)
	}
	return nil
}

func checkAuto(v *violations, a *agencyv1.AutoDecider) {
	lo, hi := a.GetMinDelay().AsDuration(), a.GetMaxDelay().AsDuration()
	if lo < 0 {
		v.add("auto.min_delay", "must not be negative")
	}
	if hi < lo {
		v.add("auto.max_delay", "must not be shorter than min_delay")
	}
	if a.GetLateIdDelay().AsDuration() < 0 {
		v.add("auto.late_id_delay", "must not be negative")
	}
	ratio(v, "auto.reject_ratio", a.GetRejectRatio())
	ratio(v, "auto.supplement_ratio", a.GetSupplementRatio())
	ratio(v, "auto.late_id_ratio", a.GetLateIdRatio())
	if a.GetRejectRatio()+a.GetSupplementRatio() > 1 {
		v.add("auto.supplement_ratio", "reject_ratio + supplement_ratio must not exceed 1")
	}
}

func ratio(v *violations, field string, r float64) {
	if !(r >= 0 && r <= 1) {
		v.add(field, "must be between 0 and 1")
	}
}

// current returns the mode and a copy of the auto settings.
func (s *settings) current() (agencyv1.DecisionMode, *agencyv1.AutoDecider) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode, proto.CloneOf(s.auto)
}

func (s *settings) isAuto() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode == agencyv1.DecisionMode_DECISION_MODE_AUTO
}

func modeName(m agencyv1.DecisionMode) string {
	return strings.ToLower(strings.TrimPrefix(m.String(), "DECISION_MODE_"))
}
