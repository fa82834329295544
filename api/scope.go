package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
)

// caller returns the caller's claims; an anonymous caller has an empty role.
func caller(ctx context.Context) auth.Claims {
	c, _ := auth.FromContext(ctx)
	return c
}

// inScope says whether the caller may know that the dossier exists: a clerk
// sees the own commune's dossiers, a supervisor the own province's (all for a
// national supervisor), an admin everything.
func inScope(c auth.Claims, snap dossier.Snapshot) bool {
	switch c.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleClerk:
		return snap.CommuneCode == c.Commune
	case auth.RoleSupervisor:
		return c.Province == "" || snap.ProvinceCode == c.Province
	}
	return false
}

// seesPersonalData says whether the caller's role may read a dossier's form.
// Supervisors watch volumes and lateness; they do not need the applicants'
// data, so they get the read model only.
func seesPersonalData(c auth.Claims) bool {
	return c.Role == auth.RoleClerk || c.Role == auth.RoleAdmin
}

// checkCode validates a dossier code argument.
func checkCode(code string) error {
	switch {
	case strings.TrimSpace(code) == "":
		return invalid(violation("code", "is required"))
	case len(code) > 64:
		return invalid(violation("code", "is not a dossier code"))
	}
	return nil
}

// visibleDossier loads a dossier the caller may see. A dossier outside the
// caller's scope is reported exactly like an unknown one: its existence is
// private.
func (s *Server) visibleDossier(ctx context.Context, code string) (dossier.Snapshot, error) {
	if err := checkCode(code); err != nil {
		return dossier.Snapshot{}, err
	}
	snap, err := s.store.Dossier(ctx, code)
	if err != nil {
		return snap, err
	}
	if !inScope(caller(ctx), snap) {
		return dossier.Snapshot{}, dossier.ErrNotFound
	}
	return snap, nil
}

// dossierProto converts a snapshot for a response, judging lateness at now:
// the read model's flag can trail a deadline that has just passed.
func dossierProto(snap dossier.Snapshot, now time.Time) *enginev1.Dossier {
	d := snap.Proto()
	if !snap.Status.Terminal() && now.After(snap.DueAt) {
		d.Overdue = true
	}
	for i, st := range snap.Steps {
		if !st.Status.Terminal() && st.DueAt != nil && now.After(*st.DueAt) {
			d.Steps[i].Overdue = true
		}
	}
	return d
}

// attachForm decodes a stored form into the dossier's oneof.
func attachForm(d *enginev1.Dossier, group dossier.Group, raw []byte) error {
	switch group {
	case dossier.GroupBirth:
		f := &enginev1.BirthForm{}
		if err := proto.Unmarshal(raw, f); err != nil {
			return &dossier.Error{Kind: dossier.KindInternal, Message: "decoding stored birth form", Err: err}
		}
		d.Form = &enginev1.Dossier_Birth{Birth: f}
	case dossier.GroupDeath:
		f := &enginev1.DeathForm{}
		if err := proto.Unmarshal(raw, f); err != nil {
			return &dossier.Error{Kind: dossier.KindInternal, Message: "decoding stored death form", Err: err}
		}
		d.Form = &enginev1.Dossier_Death{Death: f}
	}
	return nil
}

// pageToken is the opaque position of ListDossiers' next page.
type pageToken struct {
	ReceivedAt time.Time `json:"r"`
	Code       string    `json:"c"`
}

func encodePageToken(snap dossier.Snapshot) string {
	b, _ := json.Marshal(pageToken{ReceivedAt: snap.ReceivedAt, Code: snap.Code})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(s string) (*store.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := invalid(violation("page_token", "is not a token this API returned"))
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.Code == "" || t.ReceivedAt.IsZero() {
		return nil, bad
	}
	return &store.Cursor{ReceivedAt: t.ReceivedAt, Code: t.Code}, nil
}

// audit records an access to personal data. It must succeed before the data
// leaves the server, so its failure fails the request.
func (s *Server) audit(ctx context.Context, action, code, purpose string) error {
	c := caller(ctx)
	return s.store.Audit(ctx, store.AuditEntry{
		At:      s.now(),
		Actor:   c.Actor(),
		Role:    string(c.Role),
		Action:  action,
		Code:    code,
		Purpose: purpose,
	})
}

// decorate adds what the read model's row does not hold: how fresh each
// dossier's status is, here and at the national portal, and its time limit
// in working days. A freshness that cannot be read leaves those fields
// unset rather than failing the request.
func (s *Server) decorate(ctx context.Context, ds ...*enginev1.Dossier) {
	codes := make([]string, 0, len(ds))
	for _, d := range ds {
		codes = append(codes, d.GetCode())
	}
	fresh, err := s.store.FreshnessOf(ctx, codes)
	if err != nil {
		s.log.WarnContext(ctx, "reading freshness", "error", err)
	}
	for _, d := range ds {
		if f, ok := fresh[d.GetCode()]; ok {
			d.SyncedAt = timestamppb.New(f.SyncedAt)
			d.PortalVersion = f.PortalVersion
			if f.PortalSyncedAt != nil {
				d.PortalSyncedAt = timestamppb.New(*f.PortalSyncedAt)
			}
		}
		if r, due := d.GetReceivedAt(), d.GetDueAt(); r != nil && due != nil {
			d.WorkingDays = int32(s.cal.WorkingDaysBetween(r.AsTime(), due.AsTime()))
		}
	}
}
