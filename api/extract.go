package api

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// maxExtractPayload bounds what a verifier may send: a real extract is a
// few hundred bytes.
const maxExtractPayload = 16 << 10

// GetExtract fetches the newest signed extract of a dossier's registration
// from the civil-status office.
func (cs *clerkService) GetExtract(ctx context.Context, req *enginev1.GetExtractRequest) (*enginev1.GetExtractResponse, error) {
	s := cs.s
	snap, err := s.visibleDossier(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	if !seesPersonalData(caller(ctx)) {
		return nil, dossier.Errorf(dossier.KindPermissionDenied, "only the commune's clerks may print a certificate extract")
	}
	reg := snap.Step(dossier.StepBirthRegistration)
	if snap.Group == dossier.GroupDeath {
		reg = snap.Step(dossier.StepDeathRegistration)
	}
	if reg == nil || reg.Status != dossier.StepApproved || reg.CaseID == "" {
		return nil, dossier.Errorf(dossier.KindFailedPrecondition, "the registration is not approved yet, so there is no extract to print")
	}
	a, err := s.agencyClients()
	if err != nil {
		return nil, err
	}
	got, err := a.Justice.GetExtract(ctx, &agencyv1.GetExtractRequest{CaseId: reg.CaseID})
	if err != nil {
		return nil, agencyError(dossier.AgencyJustice, err)
	}
	if err := s.audit(ctx, "view extract", snap.Code, "printing the certificate extract"); err != nil {
		return nil, err
	}
	e := got.GetExtract()
	return &enginev1.GetExtractResponse{Extract: &enginev1.CertificateExtract{
		CaseId: e.GetCaseId(), Kind: e.GetKind(), RegistrationBook: e.GetRegistrationBook(),
		RegistrationEntry: e.GetRegistrationEntry(), Payload: e.GetPayload(), Signature: e.GetSignature(),
		KeyId: e.GetKeyId(), IssuedAt: e.GetIssuedAt(),
	}}, nil
}

// VerifyExtract asks the civil-status office whether an extract is intact.
// The office holds the keys, including retired ones, so old extracts keep
// verifying after a key rotation.
func (cs *citizenService) VerifyExtract(ctx context.Context, req *enginev1.VerifyExtractRequest) (*enginev1.VerifyExtractResponse, error) {
	s := cs.s
	e := req.GetExtract()
	var vs []dossier.FieldViolation
	switch {
	case e == nil:
		vs = append(vs, violation("extract", "is required: paste or upload the extract, or open its QR link"))
	default:
		if len(e.GetPayload()) == 0 {
			vs = append(vs, violation("extract.payload", "is required"))
		} else if len(e.GetPayload()) > maxExtractPayload {
			vs = append(vs, violation("extract.payload", "is too long to be an extract"))
		}
		if len(e.GetSignature()) == 0 {
			vs = append(vs, violation("extract.signature", "is required"))
		}
		if e.GetKeyId() == "" {
			vs = append(vs, violation("extract.key_id", "is required"))
		}
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	a, err := s.agencyClients()
	if err != nil {
		return nil, err
	}
	got, err := a.Justice.VerifyExtract(ctx, &agencyv1.VerifyExtractRequest{Extract: &agencyv1.Extract{
		CaseId: e.GetCaseId(), Kind: e.GetKind(), RegistrationBook: e.GetRegistrationBook(),
		RegistrationEntry: e.GetRegistrationEntry(), Payload: e.GetPayload(), Signature: e.GetSignature(),
		KeyId: e.GetKeyId(), IssuedAt: e.GetIssuedAt(),
	}})
	if err != nil {
		return nil, agencyError(dossier.AgencyJustice, err)
	}
	resp := &enginev1.VerifyExtractResponse{Authentic: got.GetAuthentic(), Reason: got.GetReason(), KeyId: e.GetKeyId()}
	if !resp.GetAuthentic() {
		if resp.Reason == "" {
			resp.Reason = "the signature does not match the content"
		}
		return resp, nil
	}
	// Only signed content is read back: what the office vouched for.
	var doc map[string]any
	if err := json.Unmarshal(e.GetPayload(), &doc); err == nil {
		text := func(k string) string { v, _ := doc[k].(string); return v }
		resp.Kind = text("type")
		if resp.Kind == "" {
			resp.Kind = e.GetKind()
		}
		resp.RegistrationNumber = text("registration_number")
		resp.SignedBy = text("issuer")
		if t, err := time.Parse(time.RFC3339, text("issued_at")); err == nil {
			resp.SignedAt = timestamppb.New(t)
		}
	}
	if resp.SignedBy == "" {
		resp.SignedBy = "the civil-status office (key " + e.GetKeyId() + ")"
	}
	return resp, nil
}
