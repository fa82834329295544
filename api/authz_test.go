package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// outcome is the authorization decision a call meets.
type outcome int

const (
	allow  outcome = iota // passes authorization; the answer may still be a business refusal
	deny                  // PermissionDenied: the role may not call this
	hidden                // NotFound: the dossier is outside the caller's scope
	unauth                // Unauthenticated: no token or a bad one
)

func (o outcome) String() string {
	return [...]string{"allow", "deny", "hidden", "unauth"}[o]
}

func decision(err error) outcome {
	switch status.Code(err) {
	case codes.PermissionDenied:
		return deny
	case codes.NotFound:
		return hidden
	case codes.Unauthenticated:
		return unauth
	}
	return allow
}

// TestAuthorizationMatrix calls every endpoint as every role. Dossier open
// is in commune 00004 (province 001) with a running workflow; dossier done
// is there too, already COMPLETED, so writes that pass authorization stop
// at a harmless FailedPrecondition. The agencies are fakes; justice's case
// JUS-1 is open's birth registration.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	fa := newFakeAgencies()
	e := newEnv(t, tc, withAgencies(fa.clients()))

	// Every method the server serves has a rule: a method missing from the
	// policy would be refused to everyone.
	policy := auth.EnginePolicy()
	for svc, info := range e.srv.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			if m.IsClientStream || m.IsServerStream {
				continue // reflection and health watch: no unary interceptor
			}
			full := "/" + svc + "/" + m.Name
			rule, ok := policy[full]
			require.True(t, ok, "%s is served but has no rule", full)
			require.True(t, rule.Anonymous || len(rule.Roles) > 0, "%s admits no one", full)
		}
	}

	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "matrix-open"))
	require.NoError(t, err)
	open := sub.GetCode()
	fa.cases["justice"].add(&agencyv1.Case{CaseId: "JUS-1", Agency: "justice", DossierCode: open, Step: "birth_registration",
		Status: agencyv1.CaseStatus_CASE_STATUS_RECEIVED, Version: 1})
	done := seedDossier(t, e.store, dossier.GroupBirth, "00004", "001", time.Now(), func(s *dossier.Snapshot) {
		s.Status = dossier.StatusCompleted
	}).Code

	type caller struct {
		name string
		ctx  func(t *testing.T) context.Context
	}
	withClaims := func(c auth.Claims) func(t *testing.T) context.Context {
		return func(t *testing.T) context.Context { return as(t, c) }
	}
	callers := []caller{
		{"clerkA", withClaims(clerkA)},
		{"clerkB", withClaims(clerkB)},
		{"supHN", withClaims(supHN)},
		{"supNA", withClaims(supNA)},
		{"supNational", withClaims(supNational)},
		{"agency", withClaims(agencyPolice)},
		{"officer", withClaims(officerJustice)},
		{"citizen", withClaims(citizen)},
		{"admin", withClaims(admin)},
		{"anonymous", func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t.Cleanup(cancel)
			return ctx
		}},
		{"badToken", func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t.Cleanup(cancel)
			forged, err := auth.Issue([]byte("another-key-another-key-another-k"), admin, time.Hour)
			require.NoError(t, err)
			return auth.WithBearer(ctx, forged)
		}},
	}
	n := 0
	fresh := func(prefix string) string {
		n++
		return fmt.Sprintf("%s-%d", prefix, n)
	}

	type endpoint struct {
		name string
		call func(ctx context.Context) error
		want map[string]outcome // callers not listed: deny, except anonymous and badToken: unauth
	}
	clerkRW := map[string]outcome{"clerkA": allow, "clerkB": hidden, "admin": allow}
	clerkRead := map[string]outcome{"clerkA": allow, "clerkB": hidden, "supHN": allow, "supNA": hidden, "supNational": allow, "admin": allow}
	supervisorOnDossier := map[string]outcome{"supHN": allow, "supNA": hidden, "supNational": allow, "admin": allow}
	supervisorOnly := map[string]outcome{"supHN": allow, "supNA": allow, "supNational": allow, "admin": allow}
	// people are everyone who signs in as a person; agencies' systems are not.
	people := map[string]outcome{"clerkA": allow, "clerkB": allow, "supHN": allow, "supNA": allow, "supNational": allow,
		"officer": allow, "citizen": allow, "admin": allow}
	peopleOrAnonymous := map[string]outcome{"anonymous": allow}
	// public methods take no token, or any valid one.
	public := map[string]outcome{"agency": allow, "anonymous": allow}
	for k, v := range people {
		peopleOrAnonymous[k], public[k] = v, v
	}
	desk := map[string]outcome{"officer": allow, "admin": allow}
	adminOnly := map[string]outcome{"admin": allow}
	endpoints := []endpoint{
		{"SubmitBirth", func(ctx context.Context) error {
			_, err := e.clerk().SubmitBirth(ctx, validBirth(time.Now(), fresh("m-birth")))
			return err
		}, map[string]outcome{"clerkA": allow, "admin": allow}},
		{"SubmitDeath", func(ctx context.Context) error {
			_, err := e.clerk().SubmitDeath(ctx, validDeath(time.Now(), fresh("m-death")))
			return err
		}, map[string]outcome{"clerkA": allow, "admin": allow}},
		{"GetDossier", func(ctx context.Context) error {
			_, err := e.clerk().GetDossier(ctx, &enginev1.GetDossierRequest{Code: open, Purpose: "matrix"})
			return err
		}, clerkRead},
		{"ListDossiers", func(ctx context.Context) error {
			_, err := e.clerk().ListDossiers(ctx, &enginev1.ListDossiersRequest{})
			return err
		}, map[string]outcome{"clerkA": allow, "clerkB": allow, "supHN": allow, "supNA": allow, "supNational": allow, "admin": allow}},
		{"SupplementDossier", func(ctx context.Context) error {
			_, err := e.clerk().SupplementDossier(ctx, &enginev1.SupplementDossierRequest{Code: done, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD, Note: "x"})
			return err
		}, clerkRW},
		{"ClerkCancelDossier", func(ctx context.Context) error {
			_, err := e.clerk().CancelDossier(ctx, &enginev1.CancelDossierRequest{Code: done, Reason: "matrix"})
			return err
		}, clerkRW},
		{"ReportCase", func(ctx context.Context) error {
			_, err := e.callback().ReportCase(ctx, &enginev1.ReportCaseRequest{Case: &agencyv1.Case{
				CaseId: "m", Agency: "police", DossierCode: open, Step: "id_number", Status: agencyv1.CaseStatus_CASE_STATUS_RECEIVED, Version: 1,
			}})
			return err
		}, map[string]outcome{"agency": allow, "admin": allow}},
		{"ListStuck", func(ctx context.Context) error {
			_, err := e.supervisor().ListStuck(ctx, &enginev1.ListStuckRequest{})
			return err
		}, supervisorOnly},
		{"TraceDossier", func(ctx context.Context) error {
			_, err := e.supervisor().TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: open})
			return err
		}, supervisorOnDossier},
		{"RetryStep", func(ctx context.Context) error {
			_, err := e.supervisor().RetryStep(ctx, &enginev1.RetryStepRequest{Code: done, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD})
			return err
		}, supervisorOnDossier},
		{"EscalateStep", func(ctx context.Context) error {
			_, err := e.supervisor().EscalateStep(ctx, &enginev1.EscalateStepRequest{Code: done, Step: enginev1.StepKind_STEP_KIND_CHILD_CARD})
			return err
		}, supervisorOnDossier},
		{"SupervisorCancelDossier", func(ctx context.Context) error {
			_, err := e.supervisor().CancelDossier(ctx, &enginev1.SupervisorServiceCancelDossierRequest{Code: done, Reason: "matrix"})
			return err
		}, supervisorOnDossier},
		{"GetStatistics", func(ctx context.Context) error {
			_, err := e.supervisor().GetStatistics(ctx, &enginev1.GetStatisticsRequest{})
			return err
		}, supervisorOnly},
		{"LookupDossier", func(ctx context.Context) error {
			_, err := e.citizen().LookupDossier(ctx, &enginev1.LookupDossierRequest{Code: open, Phone: "0912345678"})
			return err
		}, map[string]outcome{"citizen": allow, "admin": allow, "anonymous": allow}},
		{"GetExtract", func(ctx context.Context) error {
			_, err := e.clerk().GetExtract(ctx, &enginev1.GetExtractRequest{Code: done})
			return err
		}, map[string]outcome{"clerkA": allow, "clerkB": hidden, "supHN": deny, "supNA": hidden, "supNational": deny, "admin": allow}},
		{"RetryBatch", func(ctx context.Context) error {
			_, err := e.supervisor().RetryBatch(ctx, &enginev1.RetryBatchRequest{Reason: "matrix", DryRun: true})
			return err
		}, supervisorOnly},
		{"ListApologies", func(ctx context.Context) error {
			_, err := e.supervisor().ListApologies(ctx, &enginev1.ListApologiesRequest{})
			return err
		}, supervisorOnly},
		{"ListAudit", func(ctx context.Context) error {
			_, err := e.supervisor().ListAudit(ctx, &enginev1.ListAuditRequest{Code: open})
			return err
		}, supervisorOnDossier},
		{"VerifyExtract", func(ctx context.Context) error {
			_, err := e.citizen().VerifyExtract(ctx, &enginev1.VerifyExtractRequest{Extract: &enginev1.CertificateExtract{
				Payload: []byte(`{"type":"birth"}`), Signature: []byte("x"), KeyId: "k1",
			}})
			return err
		}, peopleOrAnonymous},
		{"ListPlaces", func(ctx context.Context) error {
			_, err := enginev1.NewReferenceServiceClient(e.conn).ListPlaces(ctx, &enginev1.ListPlacesRequest{})
			return err
		}, peopleOrAnonymous},
		{"ListSignInOptions", func(ctx context.Context) error {
			_, err := enginev1.NewSessionServiceClient(e.conn).ListSignInOptions(ctx, &enginev1.ListSignInOptionsRequest{})
			return err
		}, public},
		{"SignIn", func(ctx context.Context) error { // no demo users here: FailedPrecondition
			_, err := enginev1.NewSessionServiceClient(e.conn).SignIn(ctx, &enginev1.SignInRequest{DemoUserId: "x"})
			return err
		}, public},
		{"GetSession", func(ctx context.Context) error {
			_, err := enginev1.NewSessionServiceClient(e.conn).GetSession(ctx, &enginev1.GetSessionRequest{})
			return err
		}, people},
		{"RefreshSession", func(ctx context.Context) error { // no identity provider here: FailedPrecondition
			_, err := enginev1.NewSessionServiceClient(e.conn).RefreshSession(ctx, &enginev1.RefreshSessionRequest{})
			return err
		}, public},
		{"SignOut", func(ctx context.Context) error {
			_, err := enginev1.NewSessionServiceClient(e.conn).SignOut(ctx, &enginev1.SignOutRequest{})
			return err
		}, public},
		{"ListCases", func(ctx context.Context) error {
			_, err := enginev1.NewDeskServiceClient(e.conn).ListCases(ctx, &enginev1.ListCasesRequest{Agency: "justice"})
			return err
		}, desk},
		{"GetCase", func(ctx context.Context) error {
			_, err := enginev1.NewDeskServiceClient(e.conn).GetCase(ctx, &enginev1.GetCaseRequest{CaseId: "JUS-1"})
			return err
		}, desk},
		{"ClaimCase", func(ctx context.Context) error {
			_, err := enginev1.NewDeskServiceClient(e.conn).ClaimCase(ctx, &enginev1.ClaimCaseRequest{CaseId: "JUS-1"})
			return err
		}, desk},
		{"DecideCase", func(ctx context.Context) error {
			_, err := enginev1.NewDeskServiceClient(e.conn).DecideCase(ctx, &enginev1.DecideCaseRequest{CaseId: "JUS-1", Decision: enginev1.CaseDecision_CASE_DECISION_APPROVE})
			return err
		}, desk},
		{"IssueApology", func(ctx context.Context) error {
			_, err := enginev1.NewDeskServiceClient(e.conn).IssueApology(ctx, &enginev1.IssueApologyRequest{CaseId: "JUS-1", Reason: "matrix",
				NewAppointmentAt: timestamppb.New(time.Now().AddDate(0, 0, 7))})
			return err
		}, desk},
		{"ListAgencies", func(ctx context.Context) error {
			_, err := enginev1.NewOperationsServiceClient(e.conn).ListAgencies(ctx, &enginev1.ListAgenciesRequest{})
			return err
		}, adminOnly},
		{"SetAgencyMode", func(ctx context.Context) error {
			_, err := enginev1.NewOperationsServiceClient(e.conn).SetAgencyMode(ctx, &enginev1.SetAgencyModeRequest{Agency: "police", Mode: enginev1.AgencyMode_AGENCY_MODE_AUTO})
			return err
		}, adminOnly},
		{"SetAgencyOutage", func(ctx context.Context) error {
			_, err := enginev1.NewOperationsServiceClient(e.conn).SetAgencyOutage(ctx, &enginev1.SetAgencyOutageRequest{Agency: "police", Reason: "matrix"})
			return err
		}, adminOnly},
	}

	for _, ep := range endpoints {
		for _, c := range callers {
			want, listed := ep.want[c.name]
			if !listed {
				want = deny
				if c.name == "anonymous" || c.name == "badToken" {
					want = unauth
				}
			}
			err := ep.call(c.ctx(t))
			got := decision(err)
			require.Equal(t, want, got, "%s as %s: %v", ep.name, c.name, err)
			if got == allow && err != nil {
				// Allowed calls on the completed dossier stop at its state.
				require.Contains(t, []codes.Code{codes.FailedPrecondition}, status.Code(err), "%s as %s: %v", ep.name, c.name, err)
			}
		}
	}

	// The same decisions over REST: 401, 403 and 404.
	code, _ := e.rest(t, http.MethodGet, "/v1/dossiers/"+open, "", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = e.rest(t, http.MethodGet, "/v1/dossiers/"+open, "not-a-token", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = e.rest(t, http.MethodGet, "/v1/supervisor/stuck", token(t, clerkA), nil)
	require.Equal(t, http.StatusForbidden, code)
	code, body := e.rest(t, http.MethodGet, "/v1/dossiers/"+open, token(t, clerkB), nil)
	require.Equal(t, http.StatusNotFound, code)
	_, unknown := e.rest(t, http.MethodGet, "/v1/dossiers/00004-000101-0001", token(t, clerkB), nil)
	require.Equal(t, unknown["message"], body["message"], "another commune's dossier reads like an unknown one")
	code, _ = e.rest(t, http.MethodGet, "/v1/dossiers/"+open, token(t, clerkA), nil)
	require.Equal(t, http.StatusOK, code)
	code, _ = e.rest(t, http.MethodPost, "/v1/dossiers/birth", token(t, clerkB), validBirth(time.Now(), "rest-b"))
	require.Equal(t, http.StatusForbidden, code, "a clerk submits only for the own commune")
	code, _ = e.rest(t, http.MethodGet, "/v1/operations/agencies", token(t, supNational), nil)
	require.Equal(t, http.StatusForbidden, code)
	code, _ = e.rest(t, http.MethodGet, "/v1/desk/cases", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = e.rest(t, http.MethodGet, "/v1/places", "", nil)
	require.Equal(t, http.StatusOK, code)
}
