package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/notify"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// Legal time limits of the whole group, in working days from receipt.
const (
	birthGroupDays = 3
	deathGroupDays = 5
)

// Listing page sizes.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

type clerkService struct {
	enginev1.UnimplementedClerkServiceServer
	s *Server
}

// submitScope lets a clerk submit only for the own commune.
func submitScope(ctx context.Context, commune string) error {
	c := caller(ctx)
	if c.Role == auth.RoleClerk && commune != "" && commune != c.Commune {
		return dossier.Errorf(dossier.KindPermissionDenied, "a clerk of commune %s may submit only for commune %s", c.Commune, c.Commune)
	}
	return nil
}

// requestHash identifies a submission's body: the same request id must come
// with the same hash. Hashing the normalised request makes "0912 345 678" and
// "+84912345678" the same submission.
func requestHash(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

func (cs *clerkService) SubmitBirth(ctx context.Context, req *enginev1.SubmitBirthRequest) (*enginev1.SubmitBirthResponse, error) {
	s := cs.s
	if err := submitScope(ctx, req.GetCommuneCode()); err != nil {
		return nil, err
	}
	now := s.now()
	if vs := ValidateBirth(req, now); len(vs) > 0 {
		return nil, invalid(vs...)
	}
	norm := proto.CloneOf(req)
	phone, _ := civil.NormalizePhone(norm.GetForm().GetRequester().GetPhone())
	norm.Form.Requester.Phone = phone
	norm.RequestId = ""
	hash, err := requestHash(norm)
	if err != nil {
		return nil, fmt.Errorf("hashing request: %w", err)
	}
	form, err := proto.MarshalOptions{Deterministic: true}.Marshal(norm.GetForm())
	if err != nil {
		return nil, fmt.Errorf("encoding form: %w", err)
	}
	commune, _ := civil.LookupCommune(req.GetCommuneCode())
	snap, err := s.submit(ctx, store.NewDossier{
		RequestID:    req.GetRequestId(),
		RequestHash:  hash,
		Group:        dossier.GroupBirth,
		CommuneCode:  commune.Code,
		ProvinceCode: commune.ProvinceCode,
		ReceivedAt:   now,
		DueAt:        s.cal.AddWorkingDays(now, birthGroupDays),
		PhoneHash:    civil.PhoneHash(phone),
		Form:         form,
		Steps:        workflows.BirthSteps,
		Contact:      contact(phone, norm.GetForm().GetRequester()),
	}, nil)
	if err != nil {
		return nil, err
	}
	d := dossierProto(snap, now)
	s.decorate(ctx, d)
	return &enginev1.SubmitBirthResponse{Code: snap.Code, AppointmentAt: timestamppb.New(snap.AppointmentAt), Dossier: d}, nil
}

func (cs *clerkService) SubmitDeath(ctx context.Context, req *enginev1.SubmitDeathRequest) (*enginev1.SubmitDeathResponse, error) {
	s := cs.s
	if err := submitScope(ctx, req.GetForm().GetCommuneCode()); err != nil {
		return nil, err
	}
	now := s.now()
	if vs := ValidateDeath(req, now); len(vs) > 0 {
		return nil, invalid(vs...)
	}
	norm := proto.CloneOf(req)
	phone, _ := civil.NormalizePhone(norm.GetForm().GetDeclarant().GetPhone())
	norm.Form.Declarant.Phone = phone
	bundle := norm.GetForm().GetBundle()
	allowance := bundle == enginev1.DeathBundle_DEATH_BUNDLE_THREE || bundle == enginev1.DeathBundle_DEATH_BUNDLE_FOUR
	survivor := bundle == enginev1.DeathBundle_DEATH_BUNDLE_FOUR
	// Parts of the form that the chosen bundle does not use are not stored.
	if !allowance {
		norm.Form.Recipient = nil
	}
	if !survivor {
		norm.Form.SurvivorBenefit = nil
	}
	norm.RequestId = ""
	hash, err := requestHash(norm)
	if err != nil {
		return nil, fmt.Errorf("hashing request: %w", err)
	}
	form, err := proto.MarshalOptions{Deterministic: true}.Marshal(norm.GetForm())
	if err != nil {
		return nil, fmt.Errorf("encoding form: %w", err)
	}
	commune, _ := civil.LookupCommune(req.GetForm().GetCommuneCode())
	var note *dossier.Event
	var late []dossier.LateRegistration
	if days, isLate := LateDeathDays(req.GetForm(), now); isLate {
		note = &dossier.Event{
			At:     now,
			Kind:   dossier.EventLateRegistration,
			Actor:  "system",
			Step:   dossier.StepDeathRegistration,
			Detail: fmt.Sprintf("death registered %d days after it happened; families have %d days", days, DeathRegistrationDays),
		}
		late = []dossier.LateRegistration{{Step: dossier.StepDeathRegistration, Days: days,
			LimitDays: DeathRegistrationDays, CountedFrom: dossier.LateFromDeath}}
	}
	snap, err := s.submit(ctx, store.NewDossier{
		RequestID:    req.GetRequestId(),
		RequestHash:  hash,
		Group:        dossier.GroupDeath,
		CommuneCode:  commune.Code,
		ProvinceCode: commune.ProvinceCode,
		ReceivedAt:   now,
		DueAt:        s.cal.AddWorkingDays(now, deathGroupDays),
		PhoneHash:    civil.PhoneHash(phone),
		Form:         form,
		Steps:        workflows.DeathSteps(allowance, survivor),
		Contact:      contact(phone, norm.GetForm().GetDeclarant()),

		LateRegistrations: late,
	}, note)
	if err != nil {
		return nil, err
	}
	d := dossierProto(snap, now)
	s.decorate(ctx, d)
	return &enginev1.SubmitDeathResponse{Code: snap.Code, AppointmentAt: timestamppb.New(snap.AppointmentAt), Dossier: d}, nil
}

// applicant is the requester or declarant as far as notifying them goes.
type applicant interface {
	GetEmail() string
	GetSmsOptOut() bool
}

// contact is where the applicant is told of the dossier's progress: the
// normalised phone unless they opted out of SMS, and the e-mail if given.
func contact(phone string, a applicant) notify.Contact {
	c := notify.Contact{Email: a.GetEmail()}
	if !a.GetSmsOptOut() {
		c.Phone = phone
	}
	return c
}

// submit stores a validated submission, or finds it by request id, and
// queues its workflow's start (starter.go). The appointment is the legal due date.
func (s *Server) submit(ctx context.Context, nd store.NewDossier, note *dossier.Event) (dossier.Snapshot, error) {
	c := caller(ctx)
	nd.AppointmentAt = nd.DueAt
	nd.CreatedBy = c.Actor()
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		nd.TraceID = sc.TraceID().String()
	}
	created, err := s.store.CreateDossier(ctx, nd)
	if dossier.KindOf(err) == dossier.KindConflict {
		// The stored dossier may be another commune's: do not name it.
		return dossier.Snapshot{}, &dossier.Error{Kind: dossier.KindConflict,
			Message: fmt.Sprintf("request_id %q was already used for a different submission; use a new request_id for a new submission", nd.RequestID), Err: err}
	}
	if err != nil {
		return dossier.Snapshot{}, err
	}
	snap := created.Snapshot
	log := s.log.With("dossier_id", snap.Code)
	action := "submit"
	if !created.New {
		action = "submit_retry"
	}
	if err := s.audit(ctx, action, snap.Code, "receiving the application"); err != nil {
		return dossier.Snapshot{}, err
	}
	if created.New {
		log.InfoContext(ctx, "dossier received", "group", snap.Group, "commune", snap.CommuneCode)
		if note != nil {
			note.Code = snap.Code
			note.Key = snap.Code + "/" + note.Kind
			if err := s.store.AppendEvent(ctx, *note); err != nil {
				log.WarnContext(ctx, "recording submission note", "error", err)
			}
		}
	}
	if !created.WorkflowStarted {
		if err := s.startLater(ctx, snap); err != nil {
			log.WarnContext(ctx, "starting workflow", "error", err)
			return dossier.Snapshot{}, err
		}
	}
	return snap, nil
}

func (cs *clerkService) GetDossier(ctx context.Context, req *enginev1.GetDossierRequest) (*enginev1.GetDossierResponse, error) {
	s := cs.s
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	d := dossierProto(snap, s.now())
	s.decorate(ctx, d)
	if c := caller(ctx); seesPersonalData(c) && req.GetView() != enginev1.DossierView_DOSSIER_VIEW_STATUS {
		purpose := strings.TrimSpace(req.GetPurpose())
		if purpose == "" {
			purpose = "GetDossier"
		}
		group, raw, err := s.store.Form(ctx, snap.Code)
		if err != nil {
			return nil, err
		}
		if err := attachForm(d, group, raw); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, "view", snap.Code, purpose); err != nil {
			return nil, err
		}
		if err := s.store.AppendEvent(ctx, dossier.Event{
			Code: snap.Code, At: s.now(), Kind: dossier.EventViewed, Actor: c.Actor(), Detail: "purpose: " + purpose,
		}); err != nil {
			return nil, err
		}
	}
	history, err := s.store.History(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	notes, err := s.store.Notifications(ctx, snap.Code)
	if err != nil {
		return nil, err
	}
	// The recipient is personal data: only in the full, audited view.
	full := seesPersonalData(caller(ctx)) && req.GetView() != enginev1.DossierView_DOSSIER_VIEW_STATUS
	return &enginev1.GetDossierResponse{Dossier: d, Timeline: timeline(snap, history),
		Notifications: notificationsProto(notes, full)}, nil
}

func (cs *clerkService) ListDossiers(ctx context.Context, req *enginev1.ListDossiersRequest) (*enginev1.ListDossiersResponse, error) {
	s := cs.s
	now := s.now()
	f := store.DossierFilter{
		Group:        dossier.GroupFromProto(req.GetGroup()),
		CommuneCode:  req.GetCommuneCode(),
		ProvinceCode: req.GetProvinceCode(),
		OverdueOnly:  req.GetOverdueOnly(),
		Now:          now,
	}
	for _, st := range req.GetStatuses() {
		if v := dossier.StatusFromProto(st); v != "" {
			f.Statuses = append(f.Statuses, v)
		}
	}
	if t := req.GetReceivedFrom(); t != nil {
		f.ReceivedFrom = t.AsTime()
	}
	if t := req.GetReceivedUntil(); t != nil {
		f.ReceivedUntil = t.AsTime()
	}
	if err := listScope(caller(ctx), &f); err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalid(violation("page_size", "must not be negative"))
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	f.After = after
	f.Limit = size + 1
	snaps, err := s.store.ListDossiers(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &enginev1.ListDossiersResponse{}
	if len(snaps) > size {
		snaps = snaps[:size]
		resp.NextPageToken = encodePageToken(snaps[size-1])
	}
	for _, snap := range snaps {
		resp.Dossiers = append(resp.Dossiers, dossierProto(snap, now))
	}
	s.decorate(ctx, resp.Dossiers...)
	return resp, nil
}

// listScope narrows a listing to the caller's commune or province. Asking
// for another commune or province outright is refused; communes and
// provinces are public, unlike dossiers.
func listScope(c auth.Claims, f *store.DossierFilter) error {
	switch c.Role {
	case auth.RoleClerk:
		if f.CommuneCode != "" && f.CommuneCode != c.Commune {
			return dossier.Errorf(dossier.KindPermissionDenied, "a clerk of commune %s may list only that commune's dossiers", c.Commune)
		}
		f.CommuneCode = c.Commune
	case auth.RoleSupervisor:
		if c.Province == "" {
			return nil
		}
		if f.ProvinceCode != "" && f.ProvinceCode != c.Province {
			return dossier.Errorf(dossier.KindPermissionDenied, "a supervisor of province %s may list only that province's dossiers", c.Province)
		}
		f.ProvinceCode = c.Province
	case auth.RoleAdmin:
	default:
		return dossier.Errorf(dossier.KindPermissionDenied, "role %s may not list dossiers", c.Role)
	}
	return nil
}

func (cs *clerkService) SupplementDossier(ctx context.Context, req *enginev1.SupplementDossierRequest) (*enginev1.SupplementDossierResponse, error) {
	s := cs.s
	if err := checkCode(req.GetCode()); err != nil {
		return nil, err
	}
	step := dossier.StepKindFromProto(req.GetStep())
	var vs []dossier.FieldViolation
	if !step.Valid() {
		vs = append(vs, violation("step", "is required: the step whose agency asked for the supplement"))
	}
	if len(req.GetFields()) == 0 && strings.TrimSpace(req.GetNote()) == "" {
		vs = append(vs, violation("fields", "a supplement needs at least one field or a note"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	if err := terminalError(snap); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "supplement", snap.Code, "supplement for "+string(step)); err != nil {
		return nil, err
	}
	updateID := ""
	if req.GetRequestId() != "" {
		updateID = "supplement/" + req.GetRequestId()
	}
	out, err := s.update(ctx, snap, workflows.UpdateSupplement, updateID, workflows.SupplementInput{
		Step:      step,
		RequestID: req.GetRequestId(),
		Fields:    req.GetFields(),
		Note:      req.GetNote(),
		Actor:     caller(ctx).Actor(),
	})
	if err != nil {
		return nil, err
	}
	return &enginev1.SupplementDossierResponse{Dossier: dossierProto(out, s.now())}, nil
}

func (cs *clerkService) CancelDossier(ctx context.Context, req *enginev1.CancelDossierRequest) (*enginev1.CancelDossierResponse, error) {
	d, err := cs.s.cancel(ctx, req.GetCode(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &enginev1.CancelDossierResponse{Dossier: d}, nil
}

// cancel serves both the clerk's and the supervisor's cancellation.
func (s *Server) cancel(ctx context.Context, code, reason string) (*enginev1.Dossier, error) {
	var vs []dossier.FieldViolation
	if err := checkCode(code); err != nil {
		vs = append(vs, violation("code", "is required"))
	}
	if strings.TrimSpace(reason) == "" {
		vs = append(vs, violation("reason", "a cancellation needs a reason"))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	snap, err := s.visibleDossier(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := terminalError(snap); err != nil {
		return nil, err
	}
	out, err := s.update(ctx, snap, workflows.UpdateCancel, "", workflows.CancelInput{Reason: reason, Actor: caller(ctx).Actor()})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "dossier cancelled", "dossier_id", snap.Code, "actor", caller(ctx).Actor())
	return dossierProto(out, s.now()), nil
}
