package agency_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/internal/pgtest"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("the same seed gives the same faults", func(t *testing.T) {
		t.Parallel()
		faults := &agencyv1.Faults{Seed: 42, UnavailableRatio: 0.3, UnauthenticatedBurstEvery: 7, UnauthenticatedBurstLength: 2}
		pool := pgtest.New(t)
		run := func() []codes.Code {
			a := start(t, agency.Options{Name: "portal", Pool: pool, Faults: faults})
			var out []codes.Code
			for range 60 {
				_, err := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-0001", Phone: "0912345678"})
				out = append(out, status.Code(err))
			}
			return out
		}
		first, second := run(), run()
		require.Equal(t, first, second)
		require.Contains(t, first, codes.Unavailable)
		require.Contains(t, first, codes.Unauthenticated)
		require.Contains(t, first, codes.NotFound, "calls that are not faulted reach the handler")
		require.Equal(t, codes.Unauthenticated, first[7])
		require.Equal(t, codes.Unauthenticated, first[8])

		other := start(t, agency.Options{Name: "portal", Pool: pool, Faults: &agencyv1.Faults{Seed: 43, UnavailableRatio: 0.3}})
		var third []codes.Code
		for range 60 {
			_, err := other.portal.LookupStatus(other.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-0001", Phone: "0912345678"})
			third = append(third, status.Code(err))
		}
		require.NotEqual(t, first, third)
	})

	t.Run("an outage answers UNAVAILABLE, then recovers", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})
		until := time.Now().Add(400 * time.Millisecond)
		_, err := a.admin.SetFaults(a.adminCtx(t), &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{
			OutageFrom: timestamppb.New(time.Now().Add(-time.Second)), OutageUntil: timestamppb.New(until),
		}})
		require.NoError(t, err)
		req := birthRequest(t, "")
		_, err = a.justice.RegisterBirth(a.ctx(t), req)
		requireCode(t, codes.Unavailable, err)
		require.Contains(t, err.Error(), "outage")
		_, err = a.admin.GetSettings(a.adminCtx(t), &agencyv1.GetSettingsRequest{})
		require.NoError(t, err, "the admin service is never faulted")
		health, err := healthpb.NewHealthClient(a.conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
		require.NoError(t, err, "health is never faulted")
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, health.GetStatus())
		require.Equal(t, 0, a.count(t, "justice.cases"))

		time.Sleep(time.Until(until) + 20*time.Millisecond)
		resp, err := a.justice.RegisterBirth(a.ctx(t), req)
		require.NoError(t, err)
		require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_RECEIVED, resp.GetCase().GetStatus())
	})

	t.Run("a faulted call writes nothing", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "police", Faults: &agencyv1.Faults{UnavailableRatio: 1}})
		req := &agencyv1.IssueIdNumberRequest{
			IdempotencyKey: key(t), DossierCode: "00004-250701-0010", ProvinceCode: "001",
			FullName: "Đỗ Quang Huy", Sex: agencyv1.Sex_SEX_MALE, BirthDate: "2025-06-01",
		}
		for range 3 {
			_, err := a.police.IssueIdNumber(a.ctx(t), req)
			requireCode(t, codes.Unavailable, err)
		}
		require.Equal(t, 0, a.count(t, "police.cases"))
		require.Equal(t, 0, a.count(t, "police.persons"))
		require.Equal(t, 0, a.count(t, "police.outbox"))

		set, err := a.admin.SetFaults(a.adminCtx(t), &agencyv1.SetFaultsRequest{})
		require.NoError(t, err)
		require.Zero(t, set.GetSettings().GetFaults().GetUnavailableRatio())
		_, err = a.police.IssueIdNumber(a.ctx(t), req)
		require.NoError(t, err)
		require.Equal(t, 1, a.count(t, "police.cases"))
		require.Equal(t, 1, a.count(t, "police.persons"))
	})

	t.Run("a hung call waits out the caller's deadline", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "justice", Faults: &agencyv1.Faults{HangRatio: 1}})
		ctx, cancel := context.WithTimeout(a.ctx(t), 100*time.Millisecond)
		defer cancel()
		req := birthRequest(t, "")
		deadline, _ := ctx.Deadline()
		_, err := a.justice.RegisterBirth(ctx, req)
		requireCode(t, codes.DeadlineExceeded, err)
		// Measured against the deadline itself: a clock started after the
		// context would count the time between the two as the call's.
		require.False(t, time.Now().Before(deadline), "the call came back before the caller's deadline")
		require.Eventually(t, func() bool { return a.count(t, "justice.cases") == 0 }, time.Second, 10*time.Millisecond)
	})

	t.Run("added latency delays every call", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "portal", Faults: &agencyv1.Faults{AddedLatency: durationpb.New(80 * time.Millisecond)}})
		began := time.Now()
		_, err := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "x", Phone: "0912345678"})
		requireCode(t, codes.NotFound, err)
		require.GreaterOrEqual(t, time.Since(began), 80*time.Millisecond)
	})

	t.Run("lost callbacks are recorded as sent but never arrive", func(t *testing.T) {
		t.Parallel()
		engine, addr := startFakeEngine(t, 0)
		a := start(t, agency.Options{Name: "justice", CallbackAddr: addr, Faults: &agencyv1.Faults{LostCallbackRatio: 1}})
		resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, ""))
		require.NoError(t, err)
		id := resp.GetCase().GetCaseId()
		got := a.waitCase(t, id, hasStatus(agencyv1.CaseStatus_CASE_STATUS_APPROVED_PENDING_ID))
		require.Eventually(t, func() bool {
			// Every version after intake was pushed, and every push was lost.
			return a.count(t, "justice.outbox", "case_id = '"+id+"' AND lost AND sent_at IS NOT NULL") == int(got.GetVersion())-1
		}, 5*time.Second, 10*time.Millisecond)
		calls, _, _ := engine.snapshot()
		require.Empty(t, calls)
	})

	t.Run("bad fault settings are refused", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "portal"})
		_, err := a.admin.SetFaults(a.adminCtx(t), &agencyv1.SetFaultsRequest{Faults: &agencyv1.Faults{UnavailableRatio: 1.5}})
		requireCode(t, codes.InvalidArgument, err)
	})
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL})

	for _, tc := range []struct {
		name string
		md   metadata.MD
	}{
		{"missing key", metadata.MD{}},
		{"wrong key", metadata.Pairs("authorization", "Bearer not-a-key")},
		{"key without the bearer scheme", metadata.Pairs("authorization", engineKey)},
		{"wrong x-api-key", metadata.Pairs("x-api-key", "not-a-key")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := metadata.NewOutgoingContext(t.Context(), tc.md)
			req := birthRequest(t, "")
			_, err := a.justice.RegisterBirth(ctx, req)
			requireCode(t, codes.Unauthenticated, err)
			require.Equal(t, 0, a.count(t, "justice.cases", "idempotency_key = '"+req.GetIdempotencyKey()+"'"))
			_, err = a.cases.ListCases(ctx, &agencyv1.ListCasesRequest{})
			requireCode(t, codes.Unauthenticated, err)
			_, err = a.admin.GetSettings(ctx, &agencyv1.GetSettingsRequest{})
			requireCode(t, codes.Unauthenticated, err)
		})
	}

	t.Run("x-api-key is accepted", func(t *testing.T) {
		t.Parallel()
		ctx := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("x-api-key", engineKey))
		_, err := a.justice.RegisterBirth(ctx, birthRequest(t, ""))
		require.NoError(t, err)
	})

	t.Run("only the admin client may change settings", func(t *testing.T) {
		t.Parallel()
		_, err := a.admin.SetMode(a.ctx(t), &agencyv1.SetModeRequest{Mode: agencyv1.DecisionMode_DECISION_MODE_AUTO})
		requireCode(t, codes.PermissionDenied, err)
		settings, err := a.admin.GetSettings(a.adminCtx(t), &agencyv1.GetSettingsRequest{})
		require.NoError(t, err)
		require.Equal(t, "justice", settings.GetSettings().GetAgency())
		require.Equal(t, agencyv1.DecisionMode_DECISION_MODE_MANUAL, settings.GetSettings().GetMode())
	})

	t.Run("health needs no key", func(t *testing.T) {
		t.Parallel()
		_, err := healthpb.NewHealthClient(a.conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: "lienthong.agency.v1.JusticeService"})
		require.NoError(t, err)
	})
}

func TestCallbackRetried(t *testing.T) {
	t.Parallel()
	engine, addr := startFakeEngine(t, 2)
	a := start(t, agency.Options{Name: "justice", Mode: agencyv1.DecisionMode_DECISION_MODE_MANUAL, CallbackAddr: addr})

	resp, err := a.justice.RegisterBirth(a.ctx(t), birthRequest(t, bornYesterdayID(t, 31)))
	require.NoError(t, err)
	id := resp.GetCase().GetCaseId()
	_, err = a.cases.ClaimCase(a.ctx(t), &agencyv1.ClaimCaseRequest{CaseId: id, Officer: "officer-a"})
	require.NoError(t, err)
	_, err = a.cases.DecideCase(a.ctx(t), &agencyv1.DecideCaseRequest{CaseId: id, Officer: "officer-a", Decision: agencyv1.Decision_DECISION_APPROVE})
	require.NoError(t, err)

	// Version 1 went back in RegisterBirth's answer; the claim (2) and the
	// approval (3) are pushed.
	require.Eventually(t, func() bool { return len(engine.ackedFor(id)) == 2 }, 10*time.Second, 10*time.Millisecond)
	calls, acked, auth := engine.snapshot()
	require.Len(t, calls, 4, "two refused pushes, then two acknowledged")
	var versions []int64
	for _, c := range acked {
		versions = append(versions, c.GetVersion())
	}
	require.Equal(t, []int64{2, 3}, versions)
	for i := 1; i < len(calls); i++ {
		require.LessOrEqual(t, calls[i-1].GetVersion(), calls[i].GetVersion(), "pushes go in version order")
	}
	require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_IN_REVIEW, acked[0].GetStatus())
	require.Equal(t, agencyv1.CaseStatus_CASE_STATUS_APPROVED, acked[1].GetStatus())
	require.Equal(t, "justice", acked[1].GetAgency())
	require.Equal(t, "birth_registration", acked[1].GetStep())
	require.NotEmpty(t, acked[1].GetResult()["registration_number"])
	for _, h := range auth {
		require.Equal(t, "Bearer "+callbackToken, h)
	}
	require.Eventually(t, func() bool { return a.count(t, "justice.outbox", "sent_at IS NULL") == 0 }, time.Second, 10*time.Millisecond)
	require.Equal(t, 1, a.count(t, "justice.outbox", "case_id = '"+id+"' AND version = 2 AND attempts = 3"))
}
