package api

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
)

type citizenService struct {
	enginev1.UnimplementedCitizenServiceServer
	s *Server
}

// The look-up's throttle: failures count against the client
// and against the client's pair with the code, never against the code alone,
// so nobody's wrong tries lock out the applicant. After a few free tries
// each further failure doubles the wait. The state lives in PostgreSQL,
// shared by every replica, and each attempt is counted before it is judged,
// so parallel guesses get no more tries than guesses one after another.
var (
	lookupPairPolicy   = store.ThrottlePolicy{Free: 3, Base: 2 * time.Second, Max: time.Hour, Window: time.Hour}
	lookupClientPolicy = store.ThrottlePolicy{Free: 30, Base: 2 * time.Second, Max: time.Hour, Window: time.Hour}
)

// lookupThrottleRows bounds the throttle table; the oldest rows go first.
const lookupThrottleRows = 200_000

// lookupKeys are the throttle's keys for a client and a code. A client is an
// address, an IPv6 prefix or "unknown", never with a "|" in it.
func lookupKeys(client, code string) (clientKey, pairKey string) {
	return "c:" + client, "p:" + client + "|" + code
}

// LookupDossier answers "where is my file?" for the applicant. A wrong phone
// is answered exactly like an unknown code. The answer carries statuses,
// what the applicant must supply and what they were sent, never personal
// data or agency results.
//
// Every other answer (a wrong phone, an unknown code, a refusal by the
// throttle, bad input, a failure) takes at least the server's look-up
// floor. Each reads the throttle and looks the code up, a refused client's
// too (whose phone is then never compared), so the work under the floor
// differs by the one transaction that counts an attempt at most. Timing so
// tells a guesser nothing: not whether a code exists, nor whether a refused
// guess was right. A refusal keeps its own status (429, with when to try
// again): the applicant needs to know to wait, and it says nothing about
// the code or the phone. The dossier itself is answered at once.
func (cs *citizenService) LookupDossier(ctx context.Context, req *enginev1.LookupDossierRequest) (resp *enginev1.LookupDossierResponse, err error) {
	s := cs.s
	start := time.Now()
	defer func() {
		if err != nil {
			s.padLookup(ctx, start)
		}
	}()
	var vs []dossier.FieldViolation
	if strings.TrimSpace(req.GetCode()) == "" || len(req.GetCode()) > 64 {
		vs = append(vs, violation("code", "is required: the dossier code on the receipt"))
	}
	phone, perr := civil.NormalizePhone(req.GetPhone())
	if strings.TrimSpace(req.GetPhone()) == "" {
		vs = append(vs, violation("phone", "is required: the applicant's phone number given at submission"))
	} else if perr != nil {
		vs = append(vs, violation("phone", "%s", perr))
	}
	if len(vs) > 0 {
		return nil, invalid(vs...)
	}
	code := req.GetCode()
	clientKey, pairKey := lookupKeys(s.clientOfCtx(ctx), code)
	now := s.now()
	verdict, err := s.store.ThrottleAttempt(ctx, []store.ThrottleKey{
		{Key: clientKey, Policy: lookupClientPolicy}, {Key: pairKey, Policy: lookupPairPolicy},
	}, now)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.PhoneHash(ctx, code)
	known := err == nil
	if err != nil && dossier.KindOf(err) != dossier.KindNotFound {
		return nil, err
	}
	if verdict.Refused {
		return nil, throttled(verdict.Until.Sub(now))
	}
	// A wrong phone is answered exactly like an unknown code.
	if !known || subtle.ConstantTimeCompare([]byte(stored), []byte(civil.PhoneHash(phone))) != 1 {
		if !verdict.Until.IsZero() {
			return nil, throttled(verdict.Until.Sub(now))
		}
		return nil, dossier.Errorf(dossier.KindNotFound, "no dossier with this code and phone number")
	}
	// The right phone: the attempt counted against the client is handed
	// back, and the pair's count is forgotten.
	if err := s.store.ThrottleSucceeded(ctx, pairKey, []string{clientKey}); err != nil {
		return nil, err
	}
	snap, err := s.store.Dossier(ctx, code)
	if err != nil {
		return nil, err
	}
	history, err := s.store.History(ctx, code)
	if err != nil {
		return nil, err
	}
	resp = &enginev1.LookupDossierResponse{
		Code:          snap.Code,
		Group:         snap.Group.Proto(),
		Status:        snap.Status.Proto(),
		AppointmentAt: timestamppb.New(snap.AppointmentAt),
	}
	for _, st := range snap.Steps {
		p := &enginev1.Step{
			Kind:             st.Kind.Proto(),
			Agency:           st.Agency,
			Status:           st.Status.Proto(),
			Overdue:          st.Overdue || (!st.Status.Terminal() && st.DueAt != nil && now.After(*st.DueAt)),
			Missing:          st.Missing,
			NewAppointmentAt: tsOrNil(st.NewAppointmentAt),
			UpdatedAt:        timestamppb.New(st.UpdatedAt),
			StartedAt:        tsOrNil(st.StartedAt),
			DueAt:            tsOrNil(st.DueAt),
			DecidedAt:        tsOrNil(st.DecidedAt),
			// The apology is addressed to the applicant: its reason and new date are theirs to read.
			Apology: st.Apology.Proto(),
		}
		resp.Steps = append(resp.Steps, p)
	}
	resp.Timeline = timeline(snap, history)
	notes, err := s.store.Notifications(ctx, code)
	if err != nil {
		return nil, err
	}
	resp.Notifications = notificationsProto(notes, false)
	return resp, nil
}

// timeline is a dossier's statuses, oldest first, for the people who follow it.
func timeline(snap dossier.Snapshot, history []store.HistoryEntry) []*enginev1.TimelineEntry {
	out := []*enginev1.TimelineEntry{{
		At: timestamppb.New(snap.ReceivedAt), Note: "dossier received", DossierStatus: dossier.StatusReceived.Proto(),
	}}
	for _, h := range history {
		e := &enginev1.TimelineEntry{
			At: timestamppb.New(h.At), Note: "dossier " + strings.ToLower(strings.ReplaceAll(string(h.Status), "_", " ")),
			DossierStatus: h.Status.Proto(),
		}
		if h.Step != "" {
			e.Step = h.Step.Proto()
			e.Status = h.StepStatus.Proto()
		}
		out = append(out, e)
	}
	return out
}

func tsOrNil(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// padLookup waits until the look-up floor has passed since start, or the
// caller is gone. An answer already slower than the floor is counted: the
// floor no longer hides its timing and should be raised.
func (s *Server) padLookup(ctx context.Context, start time.Time) {
	if s.lookupFloor <= 0 {
		return
	}
	wait := s.lookupFloor - time.Since(start)
	if wait <= 0 {
		s.metrics.lookupOverFloor.Inc()
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// throttled refuses a look-up for wait, rounded up to whole seconds; the
// REST gateway answers 429.
func throttled(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return status.Errorf(codes.ResourceExhausted, "too many wrong look-ups from here; try again in %d s, or ask the commune", secs)
}
