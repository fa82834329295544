package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/pki"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/store/storetest"
	"github.com/lienthong/lienthong/temporalserver"
	"github.com/lienthong/lienthong/temporalserver/namespace"
	"github.com/lienthong/lienthong/workflows"
)

// One embedded Temporal server (in memory) serves the whole package, with a
// worker that runs fake dossier workflows: they keep a snapshot, answer the
// updates with the real workflows' validation messages, and apply case
// reports, so the API's paths to Temporal are exercised without agencies.

const testNamespace = "lienthong-test"

var testKey = []byte("0123456789abcdef0123456789abcdef")

var shared struct {
	once   sync.Once
	err    error
	server *temporalserver.Server
	client client.Client
	worker worker.Worker
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.worker != nil {
		shared.worker.Stop()
	}
	if shared.client != nil {
		shared.client.Close()
	}
	if shared.server != nil {
		shared.server.Stop()
	}
	os.Exit(code)
}

// temporalClient starts the shared server and worker on first use.
func temporalClient(t *testing.T) client.Client {
	t.Helper()
	shared.once.Do(func() {
		port, err := freeport.On("127.0.0.1")
		if err != nil {
			shared.err = err
			return
		}
		srv, err := temporalserver.Start(temporalserver.Options{Port: port})
		if err != nil {
			shared.err = err
			return
		}
		shared.server = srv
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := namespace.Ensure(ctx, srv.Address(), nil, testNamespace, workflows.SearchAttributes()); err != nil {
			shared.err = err
			return
		}
		c, err := client.DialContext(ctx, client.Options{HostPort: srv.Address(), Namespace: testNamespace,
			Logger: quietTemporalLogger{}})
		if err != nil {
			shared.err = err
			return
		}
		shared.client = c
		w := worker.New(c, workflows.TaskQueueDossiers, worker.Options{})
		w.RegisterWorkflowWithOptions(fakeBirth, workflow.RegisterOptions{Name: workflows.WorkflowBirth})
		w.RegisterWorkflowWithOptions(fakeDeath, workflow.RegisterOptions{Name: workflows.WorkflowDeath})
		if err := w.Start(); err != nil {
			shared.err = err
			return
		}
		shared.worker = w
	})
	if shared.err != nil {
		t.Fatalf("starting the embedded temporal server: %v", shared.err)
	}
	return shared.client
}

// quietTemporalLogger drops the SDK's chatter.
type quietTemporalLogger struct{}

func (quietTemporalLogger) Debug(string, ...any) {}
func (quietTemporalLogger) Info(string, ...any)  {}
func (quietTemporalLogger) Warn(string, ...any)  {}
func (quietTemporalLogger) Error(string, ...any) {}

// signalFinish ends a fake workflow as if every step were done.
const signalFinish = "test-finish"

func fakeBirth(ctx workflow.Context, in workflows.BirthInput) (workflows.BirthResult, error) {
	snap, err := fakeDossier(ctx, dossier.GroupBirth, in.Dossier, workflows.BirthSteps)
	return workflows.BirthResult{Final: snap}, err
}

func fakeDeath(ctx workflow.Context, in workflows.DeathInput) (workflows.DeathResult, error) {
	snap, err := fakeDossier(ctx, dossier.GroupDeath, in.Dossier, workflows.DeathSteps(in.FuneralAllowance, in.SurvivorBenefit))
	return workflows.DeathResult{Final: snap}, err
}

func fakeDossier(ctx workflow.Context, group dossier.Group, in workflows.DossierInput, kinds []dossier.StepKind) (dossier.Snapshot, error) {
	snap := dossier.Snapshot{
		Code: in.Code, Group: group, Status: dossier.StatusReceived, CommuneCode: in.CommuneCode, ProvinceCode: in.ProvinceCode,
		ReceivedAt: in.ReceivedAt, DueAt: in.DueAt, AppointmentAt: in.AppointmentAt,
	}
	for i, k := range kinds {
		st := dossier.StepPending
		if i == 0 {
			st = dossier.StepSending
		}
		snap.Steps = append(snap.Steps, dossier.Step{Kind: k, Agency: k.Agency(), Status: st, StatusSince: in.ReceivedAt})
	}
	done := false
	result := func() workflows.UpdateResult {
		snap.Version++
		return workflows.UpdateResult{Snapshot: snap}
	}
	if err := workflow.SetQueryHandler(ctx, workflows.QueryState, func() (dossier.Snapshot, error) { return snap, nil }); err != nil {
		return snap, err
	}
	_ = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateSupplement,
		func(_ workflow.Context, in workflows.SupplementInput) (workflows.UpdateResult, error) {
			st := snap.Step(in.Step)
			st.Status, st.Missing = dossier.StepAwaitingAgency, nil
			return result(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in workflows.SupplementInput) error {
			st := snap.Step(in.Step)
			if st == nil {
				return workflows.RefuseState("this dossier has no step %q", in.Step)
			}
			if st.Status != dossier.StepNeedsSupplement {
				return workflows.RefuseState("%s is not awaiting a supplement (it is %s)", in.Step, st.Status)
			}
			if len(in.Fields) == 0 && strings.TrimSpace(in.Note) == "" {
				return workflows.RefuseInput("fields", "a supplement needs at least one field or a note")
			}
			return nil
		}})
	_ = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateCancel,
		func(_ workflow.Context, in workflows.CancelInput) (workflows.UpdateResult, error) {
			snap.Status, snap.OutcomeReason, done = dossier.StatusCancelled, in.Reason, true
			for i := range snap.Steps {
				if !snap.Steps[i].Status.Terminal() {
					snap.Steps[i].Status = dossier.StepCancelled
				}
			}
			return result(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in workflows.CancelInput) error {
			if strings.TrimSpace(in.Reason) == "" {
				return workflows.RefuseInput("reason", "a cancellation needs a reason")
			}
			if snap.Status.Terminal() {
				return workflows.RefuseState("the dossier is already %s", snap.Status)
			}
			return nil
		}})
	_ = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateRetryStep,
		func(_ workflow.Context, in workflows.RetryInput) (workflows.UpdateResult, error) {
			snap.Step(in.Step).Attempts++
			return result(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in workflows.RetryInput) error {
			st := snap.Step(in.Step)
			if st == nil {
				return workflows.RefuseState("this dossier has no step %q", in.Step)
			}
			if st.Status != dossier.StepSending && st.Status != dossier.StepAwaitingAgency {
				return workflows.RefuseState("%s cannot be retried while it is %s", in.Step, st.Status)
			}
			return nil
		}})
	_ = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateEscalate,
		func(_ workflow.Context, _ workflows.EscalateInput) (workflows.UpdateResult, error) {
			return result(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in workflows.EscalateInput) error {
			st := snap.Step(in.Step)
			if st == nil {
				return workflows.RefuseState("this dossier has no step %q", in.Step)
			}
			if st.Status.Terminal() {
				return workflows.RefuseState("%s is already %s", in.Step, st.Status)
			}
			return nil
		}})
	cases := workflow.GetSignalChannel(ctx, workflows.SignalCaseUpdate)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var c dossier.Case
			if !cases.Receive(gctx, &c) {
				return
			}
			st := snap.Step(c.Step)
			if st == nil || c.DossierCode != in.Code {
				continue
			}
			switch c.Status {
			case dossier.CaseNeedsSupplement:
				st.Status, st.Missing = dossier.StepNeedsSupplement, c.Missing
			case dossier.CaseApproved:
				st.Status = dossier.StepApproved
			case dossier.CaseRejected:
				st.Status, st.Reason = dossier.StepRejected, c.Reason
			default:
				st.Status = dossier.StepAwaitingAgency
			}
			snap.Version++
		}
	})
	workflow.Go(ctx, func(gctx workflow.Context) {
		workflow.GetSignalChannel(gctx, signalFinish).Receive(gctx, nil)
		done = true
	})
	err := workflow.Await(ctx, func() bool { return done })
	return snap, err
}

// testDB is a fresh, migrated database, dropped when the test ends.
func testDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := storetest.Pool(t)
	// Every test database shares the Temporal server, and workflow ids come
	// from dossier codes: start each database's daily sequences at a random
	// point so two tests never make the same code.
	_, err := pool.Exec(ctx, `INSERT INTO engine.dossier_sequences (commune_code, day, last)
		SELECT c, d::date, (random() * 9000000)::int + 1000
		FROM unnest($1::text[]) c, generate_series(current_date - 400, current_date + 2, interval '1 day') d`,
		[]string{"00004", "00008", "16681", "25747"})
	require.NoError(t, err)
	return pool
}

// env is one API server on its own database.
type env struct {
	srv   *Server
	store *store.Store
	pool  *pgxpool.Pool
	conn  *grpc.ClientConn
	base  string
	// http reaches base: the default client, or one trusting the test CA.
	http *http.Client
}

type envOption func(*Options)

// withAgencies hands the server the given agency clients (usually fakes).
func withAgencies(a AgencyClients) envOption {
	return func(o *Options) { o.Agencies = &a }
}

// newEnv starts an API server on a fresh database. The sweeper and gauge
// loops are slowed down so tests call them when they want.
func newEnv(t *testing.T, tc client.Client, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, tc, testDB(t), opts...)
}

// newEnvOn starts an API server on pool's database: a second one on the
// same pool is another replica.
func newEnvOn(t *testing.T, tc client.Client, pool *pgxpool.Pool, opts ...envOption) *env {
	t.Helper()
	st := store.New(pool)
	o := Options{
		Store: st, Temporal: tc, TokenKey: testKey,
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	if testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := New(context.Background(), o)
	require.NoError(t, err)
	srv.sweepEvery, srv.refreshEvery = time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	e := &env{srv: srv, store: st, pool: pool, base: "http://" + srv.HTTPAddr(), http: http.DefaultClient}
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		// People's tools: the CA, no certificate of their own.
		bare, err := pki.Load(pki.Files{CA: o.TLS.Files().CA}, nil)
		require.NoError(t, err)
		cfg, err := bare.ClientConfig("127.0.0.1", pki.Engine())
		require.NoError(t, err)
		creds = credentials.NewTLS(cfg)
		if o.HTTPTLS != nil {
			e.base = "https://" + srv.HTTPAddr()
			e.http = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		}
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	e.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		require.NoError(t, <-done)
	})
	return e
}

// waitStarted waits for a submission's workflow, which starts just after the
// clerk's answer.
func (e *env) waitStarted(t *testing.T, code string) {
	t.Helper()
	require.Eventually(t, func() bool {
		started, err := e.store.WorkflowStarted(context.Background(), code)
		return err == nil && started
	}, 30*time.Second, 20*time.Millisecond, "workflow of %s started", code)
}

func (e *env) clerk() enginev1.ClerkServiceClient { return enginev1.NewClerkServiceClient(e.conn) }
func (e *env) supervisor() enginev1.SupervisorServiceClient {
	return enginev1.NewSupervisorServiceClient(e.conn)
}
func (e *env) citizen() enginev1.CitizenServiceClient {
	return enginev1.NewCitizenServiceClient(e.conn)
}
func (e *env) callback() enginev1.AgencyCallbackServiceClient {
	return enginev1.NewAgencyCallbackServiceClient(e.conn)
}

// Callers used across the tests.
var (
	clerkA       = auth.Claims{Subject: "clerk-a", Role: auth.RoleClerk, Commune: "00004"}
	clerkB       = auth.Claims{Subject: "clerk-b", Role: auth.RoleClerk, Commune: "16681"}
	supHN        = auth.Claims{Subject: "sup-hn", Role: auth.RoleSupervisor, Province: "001"}
	supNA        = auth.Claims{Subject: "sup-na", Role: auth.RoleSupervisor, Province: "040"}
	supNational  = auth.Claims{Subject: "sup-vn", Role: auth.RoleSupervisor}
	agencyPolice = auth.Claims{Subject: "agency-police", Role: auth.RoleAgency, Agency: dossier.AgencyPolice}
	citizen      = auth.Claims{Subject: "citizen-1", Role: auth.RoleCitizen}
	admin        = auth.Claims{Subject: "admin-1", Role: auth.RoleAdmin}
)

func token(t *testing.T, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Issue(testKey, c, time.Hour)
	require.NoError(t, err)
	return tok
}

// cookieFor is the session cookie a browser signed in with tok holds.
func (e *env) cookieFor(t *testing.T, tok string) string {
	t.Helper()
	v, err := seal(e.srv.keys, SessionCookie, browserSession{Token: tok, SID: "sid-" + tok[len(tok)-8:], Ends: time.Now().Add(time.Hour).Unix()}, time.Now().Add(time.Hour))
	require.NoError(t, err)
	return v
}

// openSession opens a session cookie the server set.
func (e *env) openSession(t *testing.T, c *http.Cookie) browserSession {
	t.Helper()
	bs, err := unseal[browserSession](e.srv.keys, SessionCookie, c.Value, time.Now())
	require.NoError(t, err, "the session cookie is sealed by this server")
	return bs
}

// as returns a context that calls with c's token.
func as(t *testing.T, c auth.Claims) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return auth.WithBearer(ctx, token(t, c))
}

// rest calls the REST gateway and decodes the JSON answer.
func (e *env) rest(t *testing.T, method, path, tok string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case proto.Message:
		j, err := protojson.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.base+path, r)
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

// violationsOf lists the field violations of a REST error body.
func violationsOf(body map[string]any) map[string]string {
	out := map[string]string{}
	details, _ := body["details"].([]any)
	for _, d := range details {
		dm, _ := d.(map[string]any)
		fvs, _ := dm["fieldViolations"].([]any)
		for _, fv := range fvs {
			m, _ := fv.(map[string]any)
			out[fmt.Sprint(m["field"])] = fmt.Sprint(m["description"])
		}
	}
	return out
}

// seedDossier stores a dossier directly, as a submission would, and then
// applies snap (when given) as its read model at version 1. It starts no
// workflow.
func seedDossier(t *testing.T, st *store.Store, group dossier.Group, commune, province string, received time.Time, edit func(*dossier.Snapshot)) dossier.Snapshot {
	t.Helper()
	ctx := context.Background()
	steps := workflows.BirthSteps
	if group == dossier.GroupDeath {
		steps = workflows.DeathSteps(true, false)
	}
	var rid [8]byte
	_, _ = rand.Read(rid[:])
	created, err := st.CreateDossier(ctx, store.NewDossier{
		RequestID: "seed-" + hex.EncodeToString(rid[:]), RequestHash: rid[:], Group: group,
		CommuneCode: commune, ProvinceCode: province, ReceivedAt: received,
		DueAt: received.Add(72 * time.Hour), AppointmentAt: received.Add(72 * time.Hour),
		PhoneHash: "x", Form: []byte{}, CreatedBy: "test", Steps: steps,
	})
	require.NoError(t, err)
	snap := created.Snapshot
	if edit != nil {
		snap.Version = 1
		snap.At = received
		edit(&snap)
		_, err := st.ApplySnapshots(ctx, []dossier.Snapshot{snap}, nil)
		require.NoError(t, err)
	}
	return snap
}
