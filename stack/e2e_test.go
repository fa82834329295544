package stack

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lienthong/lienthong/internal/freeport"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/activities"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/forms"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/payloadcodec"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

var recordHistories = flag.Bool("record-histories", false, "write the end-to-end dossiers' histories to workflows/testdata/histories")

// record saves a finished dossier's history for the replay test.
func (s *stack) record(t *testing.T, name, code string) {
	t.Helper()
	if !*recordHistories {
		return
	}
	iter := s.temporal.GetWorkflowHistory(context.Background(), workflows.WorkflowID(code), "", false, 0)
	var h historypb.History
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	dir := filepath.Join("..", "workflows", "testdata", "histories")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644))
}

// stack is a running dev stack for a test.
type stack struct {
	addrs    Addrs
	cfg      config.Config
	pool     *pgxpool.Pool
	temporal client.Client
	clerk    enginev1.ClerkServiceClient
	forms    *forms.Forms
}

// startStack runs the dev stack on free ports against a fresh database;
// tweaks change the configuration before it starts.
func startStack(t *testing.T, opts DevOptions, tweaks ...func(*config.Config)) *stack {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = pgtest.NewURL(t)
	OnLoopback(&cfg, freeport.Port(t))
	cfg.LogLevel = "warn"
	cfg.AgencyMinDelay, cfg.AgencyMaxDelay = 20*time.Millisecond, 80*time.Millisecond
	cfg.SeedPeople = 10000
	// Recorded histories must be readable by the replay test.
	cfg.CodecKey = base64.StdEncoding.EncodeToString(payloadcodec.ReplayFixtureKey)
	for _, tweak := range tweaks {
		tweak(&cfg)
	}

	if opts.Temporal == nil {
		opts.Temporal = testTemporal
	}
	running, err := Start(context.Background(), cfg, io.Discard, opts, 3*time.Minute)
	require.NoError(t, err, "dev stack")
	t.Cleanup(func() { require.NoError(t, running.Stop(60*time.Second)) })
	addrs := running.Addrs

	s := &stack{addrs: addrs, cfg: addrs.Config}
	pool, err := pgxpool.New(context.Background(), s.cfg.DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s.pool = pool
	s.temporal, err = NewTemporalClient(context.Background(), s.cfg, NewLogger(s.cfg), nil, nil)
	require.NoError(t, err)
	t.Cleanup(s.temporal.Close)
	s.clerk = enginev1.NewClerkServiceClient(s.conn(t, addrs.API, addrs.Tokens["admin admin"]))
	s.forms = forms.NewForms(population.Generate(s.cfg.AgencySeed, s.cfg.SeedPeople))
	return s
}

// waitTerminal polls the read model until the dossier is terminal.
func (s *stack) waitTerminal(t *testing.T, code string, within time.Duration) *enginev1.Dossier {
	t.Helper()
	deadline := time.Now().Add(within)
	var last *enginev1.Dossier
	for time.Now().Before(deadline) {
		resp, err := s.clerk.GetDossier(context.Background(), &enginev1.GetDossierRequest{Code: code, Purpose: "end-to-end test"})
		if err == nil {
			last = resp.GetDossier()
			if dossier.StatusFromProto(last.GetStatus()).Terminal() {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("dossier %s not terminal within %s; last seen %v", code, within, last.GetStatus())
	return nil
}

// checkConsistent asserts the invariants durability promises for one
// dossier: the read model equals the workflow's state, the portal holds the
// latest version, every version reached the read model in order, and each
// step has exactly one agency case.
func (s *stack) checkConsistent(t *testing.T, code string) {
	t.Helper()
	ctx := context.Background()
	// The workflow closes only once every version reached the read model and
	// the portal; compare after that.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, s.temporal.GetWorkflow(wctx, workflows.WorkflowID(code), "").Get(wctx, nil))
	st := store.New(s.pool)
	rm, err := st.Dossier(ctx, code)
	require.NoError(t, err)

	resp, err := s.temporal.QueryWorkflow(ctx, workflows.WorkflowID(code), "", workflows.QueryState)
	require.NoError(t, err)
	var wf dossier.Snapshot
	require.NoError(t, resp.Get(&wf))
	require.Equal(t, wf.Version, rm.Version, "read model version")
	require.Equal(t, wf.Status, rm.Status, "read model status")
	require.Len(t, rm.Steps, len(wf.Steps))
	for i, want := range wf.Steps {
		got := rm.Steps[i]
		require.Equal(t, want.Kind, got.Kind)
		require.Equal(t, want.Status, got.Status, "step %s", want.Kind)
		require.Equal(t, want.CaseID, got.CaseID, "step %s", want.Kind)
		require.Equal(t, want.Result, got.Result, "step %s", want.Kind)
		require.Equal(t, want.Attempts, got.Attempts, "step %s", want.Kind)
	}

	// The portal follows the read model, a moment behind it; after a worker
	// died, one lease behind it.
	var history []store.HistoryEntry
	require.Eventually(t, func() bool {
		var err error
		history, err = st.History(ctx, code)
		require.NoError(t, err)
		for _, h := range history {
			if h.PortalSyncedAt == nil {
				return false
			}
		}
		return true
	}, 45*time.Second, 100*time.Millisecond, "every version of %s reached the portal", code)
	for i, h := range history {
		require.Equal(t, int64(i+1), h.Version, "status history has a gap or a repeat")
	}
	require.Equal(t, rm.Version, history[len(history)-1].Version)

	var portalVersion int64
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT version FROM portal.statuses WHERE dossier_code = $1", code).Scan(&portalVersion))
	require.Equal(t, rm.Version, portalVersion, "portal version")

	for _, step := range rm.Steps {
		if step.CaseID == "" {
			continue
		}
		var n int
		require.NoError(t, s.pool.QueryRow(ctx,
			fmt.Sprintf("SELECT count(*) FROM %s.cases WHERE dossier_code = $1 AND step = $2", step.Agency),
			code, string(step.Kind)).Scan(&n))
		require.Equal(t, 1, n, "agency records for %s", step.Kind)
	}
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{})
	ctx := context.Background()
	now := time.Now()
	var birthCode string

	t.Run("birth", func(t *testing.T) {
		req := s.forms.Birth(3, now, "e2e-birth-1")
		sub, err := s.clerk.SubmitBirth(ctx, req)
		require.NoError(t, err)
		require.NotEmpty(t, sub.GetCode())
		birthCode = sub.GetCode()
		d := s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
		results := map[enginev1.StepKind]map[string]string{}
		for _, st := range d.GetSteps() {
			require.Equal(t, enginev1.StepStatus_STEP_STATUS_APPROVED, st.GetStatus(), "%s: %s", st.GetKind(), st.GetReason())
			results[st.GetKind()] = st.GetResult()
		}
		require.Len(t, results[enginev1.StepKind_STEP_KIND_ID_NUMBER]["id_number"], 12)
		require.NotEmpty(t, results[enginev1.StepKind_STEP_KIND_BIRTH_REGISTRATION]["registration_number"])
		require.NotEmpty(t, results[enginev1.StepKind_STEP_KIND_CHILD_CARD]["card_code"])
		s.checkConsistent(t, sub.GetCode())
		s.record(t, "birth-completed", sub.GetCode())

		// The citizen sees the same status on the portal with the applicant's phone.
		conn := s.conn(t, s.addrs.Agencies["portal"], s.cfg.AgencyAPIKey)
		got, err := agencyv1.NewPortalServiceClient(conn).LookupStatus(ctx, &agencyv1.LookupStatusRequest{
			DossierCode: sub.GetCode(), Phone: req.GetForm().GetRequester().GetPhone()})
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", got.GetStatus().GetStatus())
		require.Equal(t, d.GetVersion(), got.GetStatus().GetVersion())

		// The same request id returns the same dossier.
		again, err := s.clerk.SubmitBirth(ctx, req)
		require.NoError(t, err)
		require.Equal(t, sub.GetCode(), again.GetCode())
	})

	t.Run("death with allowance", func(t *testing.T) {
		sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(5, now, "e2e-death-1", true))
		require.NoError(t, err)
		d := s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		require.Contains(t, []enginev1.DossierStatus{enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED,
			enginev1.DossierStatus_DOSSIER_STATUS_PARTIALLY_COMPLETED}, d.GetStatus(), d.GetOutcomeReason())
		require.Len(t, d.GetSteps(), 3)
		s.checkConsistent(t, sub.GetCode())
		s.record(t, "death-three-procedures", sub.GetCode())
	})

	t.Run("death with the survivor benefit", func(t *testing.T) {
		// A pensioner who left a family: Social Insurance pays the survivor
		// benefit, monthly or as a lump sum, beside the other procedures.
		i := s.survivorDeath(t, func(p population.Person) bool { return p.Pensioner })
		req, _ := s.forms.DeathWithSurvivors(i, now, "e2e-death-four-1")
		sub, err := s.clerk.SubmitDeath(ctx, req)
		require.NoError(t, err)
		d := s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		require.Len(t, d.GetSteps(), 4)
		survivor := d.GetSteps()[3]
		require.Equal(t, enginev1.StepKind_STEP_KIND_SURVIVOR_BENEFIT, survivor.GetKind())
		require.Equal(t, enginev1.StepStatus_STEP_STATUS_APPROVED, survivor.GetStatus(), survivor.GetReason())
		require.Contains(t, []string{"monthly", "lump_sum"}, survivor.GetResult()["kind"])
		require.Contains(t, survivor.GetResult()["basis"], "pension")
		require.Equal(t, enginev1.StepStatus_STEP_STATUS_APPROVED, d.GetSteps()[2].GetStatus(), "a pensioner's funeral allowance is paid too")
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, d.GetStatus(), d.GetOutcomeReason())
		s.checkConsistent(t, sub.GetCode())
		s.record(t, "death-four-procedures", sub.GetCode())
	})

	t.Run("an ineligible survivor claim is rejected with its reason", func(t *testing.T) {
		// Nobody Social Insurance has a record of: nothing is payable, and the
		// step is rejected with why, not failed.
		i := s.survivorDeath(t, func(p population.Person) bool {
			return p.CompulsoryMonths == 0 && p.VoluntaryMonths == 0 && !p.Pensioner && !p.WorkInjuryBenefit
		})
		req, _ := s.forms.DeathWithSurvivors(i, now, "e2e-death-four-2")
		// Registered 20 days after the death: accepted, and flagged on the dossier.
		req.Form.Deceased.DeathTime = timestamppb.New(now.AddDate(0, 0, -20))
		sub, err := s.clerk.SubmitDeath(ctx, req)
		require.NoError(t, err)
		d := s.waitTerminal(t, sub.GetCode(), 90*time.Second)
		require.Equal(t, enginev1.DossierStatus_DOSSIER_STATUS_PARTIALLY_COMPLETED, d.GetStatus())
		require.Len(t, d.GetLateRegistrations(), 1, "the flag outlives every version the workflow wrote")
		require.EqualValues(t, 5, d.GetLateRegistrations()[0].GetDaysLate())
		survivor := d.GetSteps()[3]
		require.Equal(t, enginev1.StepStatus_STEP_STATUS_REJECTED, survivor.GetStatus())
		require.Contains(t, survivor.GetReason(), "not eligible for the survivor benefit: no social-insurance record")
		require.Contains(t, d.GetOutcomeReason(), "survivor_benefit rejected")
		require.Equal(t, enginev1.StepStatus_STEP_STATUS_APPROVED, d.GetSteps()[0].GetStatus(), "the death is registered all the same")
		s.checkConsistent(t, sub.GetCode())
	})

	t.Run("every gRPC listener is mutual TLS", func(t *testing.T) {
		requirePlaintextRefused(t, s.addrs.API)
		bare, err := pki.Load(pki.Files{CA: s.cfg.TLSCAFile}, nil)
		require.NoError(t, err)
		for name, addr := range s.addrs.Agencies {
			requirePlaintextRefused(t, addr)
			// With the CA but no certificate of its own, a client is refused too.
			cfg, err := bare.ClientConfig("127.0.0.1", pki.Agency(name))
			require.NoError(t, err)
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
			require.NoError(t, err)
			_, err = agencyv1.NewAdminServiceClient(conn).GetSettings(ctx, &agencyv1.GetSettingsRequest{})
			_ = conn.Close()
			require.Equal(t, codes.Unavailable, status.Code(err), "%s: %v", name, err)
		}
	})
	t.Run("metrics after the work", func(t *testing.T) { s.checkMetrics(t) })
	t.Run("the codec endpoint decodes the birth's history", func(t *testing.T) { s.checkCodec(t, birthCode) })
}

// requirePlaintextRefused: a plaintext gRPC client of addr gets nowhere.
func requirePlaintextRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	require.Equal(t, codes.Unavailable, status.Code(err), "%s answered a plaintext client: %v", addr, err)
}

// survivorDeath returns a death index, away from the ones other tests use,
// whose deceased matches and left someone to claim for.
func (s *stack) survivorDeath(t *testing.T, match func(population.Person) bool) int {
	t.Helper()
	for start := 200; ; {
		i, ok := s.forms.DeathIndex(start, match)
		require.True(t, ok, "the seeded population has no such deceased")
		if _, claimed := s.forms.DeathWithSurvivors(i, time.Now(), ""); claimed {
			return i
		}
		start = i + 1
	}
}

// TestWorkerKilledMidDossier stops the worker while dossiers are in flight,
// starts a new one, and checks every step still created exactly one agency
// record and the read model matches each workflow.
func TestWorkerKilledMidDossier(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := startStack(t, DevOptions{NoWorker: true})
	ctx := context.Background()
	startWorker := func() func() {
		tr, err := EngineTransport(s.cfg, NewLogger(s.cfg))
		require.NoError(t, err)
		agencies, closeAgencies, err := DialAgencies(s.cfg, tr, nil)
		require.NoError(t, err)
		acts := &activities.Activities{Store: store.New(s.pool), Agencies: agencies}
		ws := NewWorkers(s.temporal, acts, s.cfg.WorkerRate)
		require.NoError(t, StartWorkers(ws))
		stopFeed := StartPortalFeed(acts)
		return func() { StopWorkers(ws); stopFeed(); closeAgencies() }
	}
	stop := startWorker()

	now := time.Now()
	var codes []string
	for i := 0; i < 8; i++ {
		var code string
		if i%2 == 0 {
			sub, err := s.clerk.SubmitBirth(ctx, s.forms.Birth(20+i, now, "kill-birth-"+strconv.Itoa(i)))
			require.NoError(t, err)
			code = sub.GetCode()
		} else {
			sub, err := s.clerk.SubmitDeath(ctx, s.forms.Death(20+i, now, "kill-death-"+strconv.Itoa(i), i%4 == 1))
			require.NoError(t, err)
			code = sub.GetCode()
		}
		codes = append(codes, code)
	}
	// Let the first sends reach the agencies, then take the worker away.
	require.Eventually(t, func() bool {
		var sent int
		err := s.pool.QueryRow(ctx, "SELECT count(*) FROM engine.steps WHERE agency_case_id <> ''").Scan(&sent)
		return err == nil && sent >= 4
	}, 60*time.Second, 50*time.Millisecond)
	stop()
	time.Sleep(2 * time.Second)
	stop = startWorker()
	defer stop()

	for _, code := range codes {
		d := s.waitTerminal(t, code, 2*time.Minute)
		require.NotEqual(t, enginev1.DossierStatus_DOSSIER_STATUS_CANCELLED, d.GetStatus())
		s.checkConsistent(t, code)
	}
}
