package dossier

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// CaseFromProto converts an agency's case into the engine's view.
func CaseFromProto(c *agencyv1.Case) Case {
	out := Case{
		CaseID:      c.GetCaseId(),
		Agency:      c.GetAgency(),
		Kind:        c.GetKind(),
		DossierCode: c.GetDossierCode(),
		Step:        StepKind(c.GetStep()),
		Status:      CaseStatus(strings.TrimPrefix(c.GetStatus().String(), "CASE_STATUS_")),
		Version:     c.GetVersion(),
		Reason:      c.GetReason(),
		Missing:     c.GetMissing(),
		Result:      c.GetResult(),
		DecidedAt:   timePtr(c.GetDecidedAt()),
		UpdatedAt:   c.GetUpdatedAt().AsTime(),
	}
	out.NewAppointmentAt = timePtr(c.GetNewAppointmentAt())
	out.Apology = ApologyFromProto(c.GetApology())
	return out
}

// ApologyFromProto converts an agency's apology; nil stays nil.
func ApologyFromProto(a *agencyv1.Apology) *Apology {
	if a == nil {
		return nil
	}
	return &Apology{
		RequestedAt:      a.GetRequestedAt().AsTime(),
		MissedDueAt:      a.GetMissedDueAt().AsTime(),
		IssuedAt:         timePtr(a.GetIssuedAt()),
		Number:           a.GetNumber(),
		Reason:           a.GetReason(),
		NewAppointmentAt: timePtr(a.GetNewAppointmentAt()),
		IssuedBy:         a.GetIssuedBy(),
	}
}

// Proto converts an apology; nil stays nil.
func (a *Apology) Proto() *enginev1.Apology {
	if a == nil {
		return nil
	}
	return &enginev1.Apology{
		RequestedAt:      timestamppb.New(a.RequestedAt),
		MissedDueAt:      timestamppb.New(a.MissedDueAt),
		IssuedAt:         tsPtr(a.IssuedAt),
		Number:           a.Number,
		Reason:           a.Reason,
		NewAppointmentAt: tsPtr(a.NewAppointmentAt),
		IssuedBy:         a.IssuedBy,
	}
}

func timePtr(ts *timestamppb.Timestamp) *time.Time {
	if ts == nil {
		return nil
	}
	t := ts.AsTime()
	return &t
}

func tsPtr(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// Proto converts a group.
func (g Group) Proto() enginev1.Group {
	switch g {
	case GroupBirth:
		return enginev1.Group_GROUP_BIRTH
	case GroupDeath:
		return enginev1.Group_GROUP_DEATH
	}
	return enginev1.Group_GROUP_UNSPECIFIED
}

// GroupFromProto converts a group; unknown values give "".
func GroupFromProto(g enginev1.Group) Group {
	switch g {
	case enginev1.Group_GROUP_BIRTH:
		return GroupBirth
	case enginev1.Group_GROUP_DEATH:
		return GroupDeath
	}
	return ""
}

// Proto converts a status.
func (s Status) Proto() enginev1.DossierStatus {
	return enginev1.DossierStatus(enginev1.DossierStatus_value["DOSSIER_STATUS_"+string(s)])
}

// StatusFromProto converts a status; unknown values give "".
func StatusFromProto(s enginev1.DossierStatus) Status {
	if s == enginev1.DossierStatus_DOSSIER_STATUS_UNSPECIFIED {
		return ""
	}
	return Status(strings.TrimPrefix(s.String(), "DOSSIER_STATUS_"))
}

// Proto converts a step kind.
func (k StepKind) Proto() enginev1.StepKind {
	return enginev1.StepKind(enginev1.StepKind_value["STEP_KIND_"+strings.ToUpper(string(k))])
}

// StepKindFromProto converts a step kind; unknown values give "".
func StepKindFromProto(k enginev1.StepKind) StepKind {
	if k == enginev1.StepKind_STEP_KIND_UNSPECIFIED {
		return ""
	}
	return StepKind(strings.ToLower(strings.TrimPrefix(k.String(), "STEP_KIND_")))
}

// Proto converts a step status.
func (s StepStatus) Proto() enginev1.StepStatus {
	return enginev1.StepStatus(enginev1.StepStatus_value["STEP_STATUS_"+string(s)])
}

// Proto converts a step.
func (st Step) Proto() *enginev1.Step {
	return &enginev1.Step{
		Kind:             st.Kind.Proto(),
		Agency:           st.Agency,
		Status:           st.Status.Proto(),
		StartedAt:        tsPtr(st.StartedAt),
		DueAt:            tsPtr(st.DueAt),
		DecidedAt:        tsPtr(st.DecidedAt),
		Overdue:          st.Overdue,
		Attempts:         int32(st.Attempts),
		LastError:        st.LastError,
		LastErrorCode:    st.LastErrorCode,
		Reason:           st.Reason,
		Missing:          st.Missing,
		AgencyCaseId:     st.CaseID,
		Result:           st.Result,
		NewAppointmentAt: tsPtr(st.NewAppointmentAt),
		UpdatedAt:        timestamppb.New(st.UpdatedAt),
		StatusSince:      tsOrNil(st.StatusSince),
		Apology:          st.Apology.Proto(),
	}
}

func tsOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Proto converts a snapshot, without the form.
func (s Snapshot) Proto() *enginev1.Dossier {
	d := &enginev1.Dossier{
		Code:          s.Code,
		Group:         s.Group.Proto(),
		Status:        s.Status.Proto(),
		CommuneCode:   s.CommuneCode,
		ProvinceCode:  s.ProvinceCode,
		ReceivedAt:    timestamppb.New(s.ReceivedAt),
		DueAt:         timestamppb.New(s.DueAt),
		AppointmentAt: timestamppb.New(s.AppointmentAt),
		CompletedAt:   tsPtr(s.CompletedAt),
		Version:       s.Version,
		OutcomeReason: s.OutcomeReason,
		Overdue:       s.Overdue,
	}
	for _, st := range s.Steps {
		d.Steps = append(d.Steps, st.Proto())
	}
	for _, l := range s.LateRegistrations {
		d.LateRegistrations = append(d.LateRegistrations, &enginev1.LateRegistration{
			Step: l.Step.Proto(), Days: int32(l.Days), LimitDays: int32(l.LimitDays),
			DaysLate: int32(l.Days - l.LimitDays), CountedFrom: l.CountedFrom,
		})
	}
	return d
}
