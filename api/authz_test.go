package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

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
// at a harmless FailedPrecondition.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	tc := temporalClient(t)
	e := newEnv(t, tc)
	sub, err := e.clerk().SubmitBirth(as(t, clerkA), validBirth(time.Now(), "matrix-open"))
	require.NoError(t, err)
	open := sub.GetCode()
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
			return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+forged)
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
}
