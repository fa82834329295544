package api

import (
	"context"
	"crypto/subtle"
	"strings"
	"sync"
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

// Wrong code-and-phone pairs allowed per code before lookups of that code
// are refused for a while. Failures are counted per code whether or not it
// exists, so the refusal tells nothing either.
const (
	lookupFailures = 10
	lookupWindow   = time.Hour
)

// LookupDossier answers "where is my file?" for the applicant. A wrong phone
// is answered exactly like an unknown code. The answer carries statuses,
// what the applicant must supply and what they were sent, never personal
// data or agency results.
func (cs *citizenService) LookupDossier(ctx context.Context, req *enginev1.LookupDossierRequest) (*enginev1.LookupDossierResponse, error) {
	s := cs.s
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
	if !s.lookups.allow(code, s.now()) {
		// Not a domain kind: only the lookup throttles, and only by this code.
		return nil, status.Error(codes.ResourceExhausted, "too many wrong lookups of this dossier code; try again later or ask the commune")
	}
	notFound := dossier.Errorf(dossier.KindNotFound, "no dossier with this code and phone number")
	stored, err := s.store.PhoneHash(ctx, code)
	if dossier.KindOf(err) == dossier.KindNotFound {
		s.lookups.fail(code, s.now())
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(civil.PhoneHash(phone))) != 1 {
		s.lookups.fail(code, s.now())
		return nil, notFound
	}
	snap, err := s.store.Dossier(ctx, code)
	if err != nil {
		return nil, err
	}
	history, err := s.store.History(ctx, code)
	if err != nil {
		return nil, err
	}
	now := s.now()
	resp := &enginev1.LookupDossierResponse{
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

// attemptLimiter counts failures per key in a fixed window.
type attemptLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string]*attempts
}

type attempts struct {
	since time.Time
	n     int
}

// maxTrackedKeys bounds the limiter's memory; old windows are dropped first.
const maxTrackedKeys = 100_000

func newAttemptLimiter(max int, window time.Duration) *attemptLimiter {
	return &attemptLimiter{max: max, window: window, seen: map[string]*attempts{}}
}

func (l *attemptLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.seen[key]
	if !ok {
		return true
	}
	if now.Sub(a.since) >= l.window {
		delete(l.seen, key)
		return true
	}
	return a.n < l.max
}

func (l *attemptLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) >= maxTrackedKeys {
		for k, a := range l.seen {
			if now.Sub(a.since) >= l.window {
				delete(l.seen, k)
			}
		}
		if len(l.seen) >= maxTrackedKeys {
			return
		}
	}
	a, ok := l.seen[key]
	if !ok || now.Sub(a.since) >= l.window {
		l.seen[key] = &attempts{since: now, n: 1}
		return
	}
	a.n++
}
