package stack

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/workflows"
)

// conn connects to the stack's API, or to one of its agencies as the
// engine, the way the stack is secured, sending credential (a token, an
// API key or the admin key) on every call.
func (s *stack) conn(t *testing.T, addr, credential string) *grpc.ClientConn {
	t.Helper()
	for name, a := range s.addrs.Agencies {
		if a != addr {
			continue
		}
		tr, err := EngineTransport(s.cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		c, err := tr.DialAgency(addr, name, credential, true, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	creds, err := APICredentials(s.cfg)
	require.NoError(t, err)
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithPerRPCCredentials(auth.Bearer(credential)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (s *stack) stepOf(d *enginev1.Dossier, k enginev1.StepKind) *enginev1.Step {
	for _, st := range d.GetSteps() {
		if st.GetKind() == k {
			return st
		}
	}
	return nil
}

// TestSupervisorUnsticksAnOutage is the supervisor's day: Police is down, a
// death dossier's residence cancellation keeps failing; the supervisor finds
// it among the stuck cases with a diagnosis, reads its trace, and once
// Police is back retries it and sees it complete.
// policeOutage takes Police down for an hour, and gives its admin client
// (to bring it back) and a national supervisor's client.
func (s *stack) policeOutage(t *testing.T) (agencyv1.AdminServiceClient, enginev1.SupervisorServiceClient) {
	t.Helper()
	police := agencyv1.NewAdminServiceClient(s.conn(t, s.addrs.Agencies["police"], s.cfg.AgencyAdminKey))
	supervisor := enginev1.NewSupervisorServiceClient(s.conn(t, s.addrs.API, s.addrs.Tokens["supervisor supervisor-national"]))
	now := time.Now()
	_, err := police.SetFaults(context.Background(), &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{
		Seed: 1, OutageFrom: timestamppb.New(now.Add(-time.Minute)), OutageUntil: timestamppb.New(now.Add(time.Hour)),
	}})
	require.NoError(t, err)
	return police, supervisor
}

func TestSupervisorUnsticksAnOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{})
	ctx := context.Background()
	police, supervisor := s.policeOutage(t)
	now := time.Now()

	sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(40, now, "stuck-death-1", false))
	require.NoError(t, err)
	code := sub.GetCode()

	// The supervisor finds it: retries failing, with the count and the last error.
	var found *enginev1.StuckCase
	require.Eventually(t, func() bool {
		resp, err := supervisor.ListStuck(ctx, &enginev1.ListStuckRequest{
			Rules: []enginev1.StuckRule{enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING}, MinAttempts: 3, Agency: "police"})
		if err != nil {
			return false
		}
		for _, c := range resp.GetCases() {
			if c.GetCode() == code {
				found = c
				return true
			}
		}
		return false
	}, 90*time.Second, 250*time.Millisecond, "the dossier never showed as stuck")
	require.Equal(t, enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION, found.GetStep())
	require.GreaterOrEqual(t, found.GetAttempts(), int32(3))
	require.Contains(t, found.GetDiagnosis(), "failed attempts, last error UNAVAILABLE")
	require.Contains(t, found.GetDiagnosis(), "Police residence cancellation")
	require.NotEmpty(t, found.GetRemedy())

	trace, err := supervisor.TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: code})
	require.NoError(t, err)
	failures := 0
	for _, ev := range trace.GetEvents() {
		if ev.GetKind() == "attempt_failed" && ev.GetStep() == enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION {
			failures++
			require.Contains(t, ev.GetError(), "UNAVAILABLE")
		}
	}
	require.GreaterOrEqual(t, failures, 3)

	// Police comes back; the backoff has grown, so the supervisor retries now.
	_, err = police.SetFaults(ctx, &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{Seed: 1}})
	require.NoError(t, err)
	retried := time.Now()
	_, err = supervisor.RetryStep(ctx, &enginev1.RetryStepRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION, Reason: "police is back"})
	require.NoError(t, err)
	d := s.waitTerminal(t, code, 60*time.Second)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
	require.Less(t, time.Since(retried), 30*time.Second)
	s.checkConsistent(t, code)

	trace, err = supervisor.TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: code})
	require.NoError(t, err)
	remedies := 0
	for _, ev := range trace.GetEvents() {
		if ev.GetKind() == "remedy" {
			remedies++
		}
	}
	require.Equal(t, 1, remedies, "the retry is in the trace")
}

// TestPoliceReturnWakesTheHeldSteps: after half a minute of Police down, the
// held steps sleep on backoffs of 32 s and more. The first dossier whose call
// Police answers again tells the worker it is back, and the held steps call
// it at once, with no supervisor acting.
func TestPoliceReturnWakesTheHeldSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{})
	ctx := context.Background()
	police, supervisor := s.policeOutage(t)
	now := time.Now()
	var held []string
	for i := range 2 {
		sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(50+i, now, "held-death-"+string(rune('a'+i)), false))
		require.NoError(t, err)
		held = append(held, sub.GetCode())
	}
	// Six failed calls: the next waits 32 s, and Police has been failing
	// for longer than the 30 s that make it down.
	require.Eventually(t, func() bool {
		var fewest int
		err := s.pool.QueryRow(ctx, `SELECT coalesce(min(attempts), 0) FROM engine.steps
			WHERE code = ANY($1) AND step = 'residence_cancellation'`, held).Scan(&fewest)
		return err == nil && fewest >= 6
	}, 2*time.Minute, 250*time.Millisecond, "the held steps did not fail six times")

	_, err := police.SetFaults(ctx, &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{Seed: 1}})
	require.NoError(t, err)
	// A new dossier's call reaches Police: its answer is the sign it is back.
	sub, err := s.clerk.SubmitBirth(ctx, s.forms.Birth(52, now, "after-the-outage"))
	require.NoError(t, err)

	for _, code := range held {
		d := s.waitTerminal(t, code, 60*time.Second)
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
		trace, err := supervisor.TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: code})
		require.NoError(t, err)
		var lastFailure, sent time.Time
		for _, ev := range trace.GetEvents() {
			if ev.GetStep() != enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION {
				continue
			}
			switch ev.GetKind() {
			case "attempt_failed":
				lastFailure = ev.GetAt().AsTime()
			case "sent":
				sent = ev.GetAt().AsTime()
			case "remedy":
				t.Errorf("%s: a remedy in the trace, but no supervisor acted", code)
			}
		}
		require.False(t, sent.IsZero(), code)
		// Its own timer would have fired 32 s or more after the last failure.
		require.Less(t, sent.Sub(lastFailure), 20*time.Second, "%s: sent %s after its last failed call", code, sent.Sub(lastFailure))
		s.checkConsistent(t, code)
		s.record(t, "death-police-back-wakes-the-held-step", code)
	}
	s.waitTerminal(t, sub.GetCode(), 60*time.Second)

	// The sweep holds off while the workers are behind: it reads their
	// backlog from the server.
	waiting, err := taskBacklog(s.temporal, s.cfg.TemporalNamespace, workflows.TaskQueueDossiers)(ctx)
	require.NoError(t, err, "reading the dossiers' workflow task backlog")
	require.GreaterOrEqual(t, waiting, int64(0))
}

// TestHeldStepsWaitForTheReturn: once a step's backoff has reached
// --retry-max it stops calling the agency on its own timer and waits for the
// agency's return. No new dossier calls Police here: the worker's probe is
// what sees it answer again, and the resume sweep wakes the held steps.
func TestHeldStepsWaitForTheReturn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{}, func(cfg *config.Config) { cfg.RetryMax = 4 * time.Second })
	ctx := context.Background()
	police, supervisor := s.policeOutage(t)
	now := time.Now()
	var held []string
	for i := range 2 {
		sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(60+i, now, "waits-for-return-"+string(rune('a'+i)), false))
		require.NoError(t, err)
		held = append(held, sub.GetCode())
	}
	attempts := func() (fewest, most int) {
		err := s.pool.QueryRow(ctx, `SELECT coalesce(min(attempts), 0), coalesce(max(attempts), 0) FROM engine.steps
			WHERE code = ANY($1) AND step = 'residence_cancellation'`, held).Scan(&fewest, &most)
		require.NoError(t, err)
		return fewest, most
	}
	// Failed calls at 0, 1 s and 3 s; the next backoff would be the 4 s cap.
	require.Eventually(t, func() bool { fewest, _ := attempts(); return fewest >= 3 }, time.Minute, 250*time.Millisecond,
		"the held steps did not fail three times")
	// On their own timers they would call five times more in 20 s.
	time.Sleep(20 * time.Second)
	_, most := attempts()
	require.Equal(t, 3, most, "a held step called again while Police was still down")

	_, err := police.SetFaults(ctx, &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{Seed: 1}})
	require.NoError(t, err)
	back := time.Now()
	for _, code := range held {
		d := s.waitTerminal(t, code, 90*time.Second)
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
		trace, err := supervisor.TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: code})
		require.NoError(t, err)
		var failures int
		var sent time.Time
		for _, ev := range trace.GetEvents() {
			if ev.GetStep() != enginev1.StepKind_STEP_KIND_RESIDENCE_CANCELLATION {
				continue
			}
			switch ev.GetKind() {
			case "attempt_failed":
				failures++
			case "sent":
				sent = ev.GetAt().AsTime()
			case "remedy":
				t.Errorf("%s: a remedy in the trace, but no supervisor acted", code)
			}
		}
		require.Equal(t, 3, failures, code)
		require.False(t, sent.IsZero(), code)
		// The safety timer is 30 minutes: only the return can have woken it.
		require.True(t, sent.After(back), "%s: sent at %s, before Police was back at %s", code, sent, back)
		s.checkConsistent(t, code)
		s.record(t, "death-held-step-waits-for-return", code)
	}
}

// TestSupplementThroughManualMode has a Justice officer ask for a supplement;
// the supervisor sees the dossier awaiting it, the clerk supplies it, and the
// officer approves.
func TestSupplementThroughManualMode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{})
	ctx := context.Background()
	justiceConn := s.conn(t, s.addrs.Agencies["justice"], s.cfg.AgencyAdminKey)
	_, err := agencyv1.NewAdminServiceClient(justiceConn).SetMode(ctx, &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
	require.NoError(t, err)
	desk := agencyv1.NewCaseServiceClient(s.conn(t, s.addrs.Agencies["justice"], s.cfg.AgencyAPIKey))
	supervisor := enginev1.NewSupervisorServiceClient(s.conn(t, s.addrs.API, s.addrs.Tokens["supervisor supervisor-national"]))

	sub, err := s.clerk.SubmitBirth(ctx, s.forms.Birth(41, time.Now(), "manual-birth-1"))
	require.NoError(t, err)
	code := sub.GetCode()

	// Supplements are refused while nothing awaits one.
	_, err = s.clerk.SupplementDossier(ctx, &enginev1.SupplementDossierRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION,
		Fields: map[string]string{"birth_certificate_scan": "scan-2"}, RequestId: "sup-early"})
	require.Error(t, err)

	var caseID string
	require.Eventually(t, func() bool {
		resp, err := desk.ListCases(ctx, &agencyv1.ListCasesRequest{Statuses: []agencyv1.CaseStatus{agencyv1.CaseStatus_CASE_STATUS_RECEIVED}})
		if err != nil {
			return false
		}
		for _, c := range resp.GetCases() {
			if c.GetDossierCode() == code {
				caseID = c.GetCaseId()
				return true
			}
		}
		return false
	}, 60*time.Second, 100*time.Millisecond)
	_, err = desk.ClaimCase(ctx, &agencyv1.ClaimCaseRequest{CaseId: caseID, Officer: "officer-1"})
	require.NoError(t, err)
	_, err = desk.DecideCase(ctx, &agencyv1.DecideCaseRequest{CaseId: caseID, Officer: "officer-1",
		Decision: agencyv1.Decision_DECISION_REQUEST_SUPPLEMENT, Reason: "hospital certificate unreadable", Missing: []string{"birth_certificate_scan"}})
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		resp, err := supervisor.ListStuck(ctx, &enginev1.ListStuckRequest{Rules: []enginev1.StuckRule{enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT}})
		if err != nil {
			return false
		}
		for _, c := range resp.GetCases() {
			if c.GetCode() == code {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
	got, err := s.clerk.GetDossier(ctx, &enginev1.GetDossierRequest{Code: code, Purpose: "supplement"})
	require.NoError(t, err)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_NEEDS_SUPPLEMENT, got.GetDossier().GetStatus())
	require.Equal(t, []string{"birth_certificate_scan"}, s.stepOf(got.GetDossier(), enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION).GetMissing())

	_, err = s.clerk.SupplementDossier(ctx, &enginev1.SupplementDossierRequest{Code: code, Step: enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION,
		Fields: map[string]string{"birth_certificate_scan": "scan-2"}, RequestId: "sup-1"})
	require.NoError(t, err)
	_, err = desk.ClaimCase(ctx, &agencyv1.ClaimCaseRequest{CaseId: caseID, Officer: "officer-1"})
	require.NoError(t, err)
	_, err = desk.DecideCase(ctx, &agencyv1.DecideCaseRequest{CaseId: caseID, Officer: "officer-1", Decision: agencyv1.Decision_DECISION_APPROVE})
	require.NoError(t, err)
	d := s.waitTerminal(t, code, 60*time.Second)
	require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
	s.checkConsistent(t, code)
}
