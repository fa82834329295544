package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lienthong/lienthong/internal/freeport"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/forms"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/measure/observe"
	"github.com/lienthong/lienthong/measure/oracle"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/workflows"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// testBinary builds bin/lienthong once for every test that runs the parts as
// processes: linking the Temporal server is the slow part.
func testBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lienthong-test-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "lienthong")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		binaryErr = BuildBinary(ctx, binaryPath)
	})
	require.NoError(t, binaryErr)
	return binaryPath
}

// TestCluster proves the production topology with real processes: Temporal
// on PostgreSQL (its own two databases, schema set up by lienthong), two
// workers, two API replicas and the agencies. Dossiers go in through both
// APIs; one worker is killed with SIGKILL mid-run; every dossier must still
// complete, with one agency record per step and every invariant kept.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs every part as its own process")
	}
	bin := testBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tmp := t.TempDir()

	// lienthong's own database, and Temporal's two on the same server.
	dbURL := pgtest.NewURL(t)
	parsed, err := url.Parse(dbURL)
	require.NoError(t, err)
	suffix := strings.TrimPrefix(strings.TrimPrefix(parsed.Path, "/"), "lt_")
	temporalDB, visibilityDB := "lt_temporal_"+suffix, "lt_temporal_vis_"+suffix
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, db := range []string{temporalDB, visibilityDB} {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
	})

	// Mutual TLS on every hop, with certificates made here as an
	// operator's CA would issue them.
	certs, err := newHarnessTLS(filepath.Join(tmp, "tls"))
	require.NoError(t, err)
	keys := certs.config(config.Defaults())
	keys.CodecKey, keys.TokenKey = loadgen.RandomKey(), loadgen.RandomKey()
	temporalPort := freeport.Port(t)
	keys.TemporalAddress = "127.0.0.1:" + strconv.Itoa(temporalPort)
	api1, api2 := freeport.Addr(t), freeport.Addr(t)
	keys.APIGRPCAddr = api1
	agencies := map[string]string{"JUSTICE_ADDR": freeport.Addr(t), "POLICE_ADDR": freeport.Addr(t), "INSURANCE_ADDR": freeport.Addr(t), "PORTAL_ADDR": freeport.Addr(t),
		"SMS_ADDR": freeport.Addr(t), "SMTP_ADDR": freeport.Addr(t)}
	settings := map[string]string{
		"DATABASE_URL": dbURL, "CODEC_KEY": keys.CodecKey, "TOKEN_KEY": keys.TokenKey,
		"TEMPORAL_ADDRESS": keys.TemporalAddress, "DATA_DIR": tmp, "LOG_LEVEL": "info", "TEMPORAL_METRICS_PORT": "0",
		"CALLBACK_ADDR": api1, "AGENCY_MIN_DELAY": "10ms", "AGENCY_MAX_DELAY": "200ms", "NOTIFY_MAX_BACKOFF": "2s",
	}
	for k, v := range agencies {
		settings[k] = v
	}
	env := childEnv(settings)

	// Migrations run twice in a row, cleanly.
	for i := range 2 {
		require.NoError(t, runOnce(ctx, bin, env, filepath.Join(tmp, fmt.Sprintf("migrate-%d.log", i)), "migrate"), "migrate run %d", i+1)
	}

	newProc := func(name, httpAddr string, tlsEnv []string, args ...string) *proc {
		ready := ""
		if httpAddr != "" {
			ready = "https://" + httpAddr + "/readyz"
		}
		return &proc{name: name, bin: bin, args: args, env: append(slices.Clone(env), tlsEnv...), logPath: filepath.Join(tmp, name+".log"),
			readyURL: ready, client: certs.client}
	}
	agencyHTTP, w1, w2, h1, h2 := freeport.Addr(t), freeport.Addr(t), freeport.Addr(t), freeport.Addr(t), freeport.Addr(t)
	temporal := newProc("temporal", "", certs.temporalEnv(), "temporal", "--db", "postgres", "--temporal-db-url", pgtest.ServerURL(),
		"--temporal-db-name", temporalDB, "--temporal-visibility-db-name", visibilityDB, "--temporal-shards", "2",
		"--temporal-port", strconv.Itoa(temporalPort), "--temporal-ui-port", "0")
	procs := []*proc{
		temporal,
		newProc("agency", agencyHTTP, certs.agencyEnv(), "agency", "--name", "all", "--agency-http-addr", agencyHTTP),
		newProc("worker-1", w1, certs.engineEnv(), "worker", "--worker-http-addr", w1),
		newProc("worker-2", w2, certs.engineEnv(), "worker", "--worker-http-addr", w2),
		newProc("api-1", h1, certs.engineEnv(), "api", "--api-grpc-addr", api1, "--api-http-addr", h1),
		newProc("api-2", h2, certs.engineEnv(), "api", "--api-grpc-addr", api2, "--api-http-addr", h2),
	}
	t.Cleanup(func() {
		for _, p := range slices.Backward(procs) {
			p.stop(15 * time.Second)
		}
		if t.Failed() {
			for _, p := range procs {
				if b, err := os.ReadFile(p.logPath); err == nil {
					t.Logf("--- %s log (tail) ---\n%s", p.name, tail(string(b), 30))
				}
			}
		}
	})
	for _, p := range procs {
		require.NoError(t, p.start())
		if p == temporal {
			tc, err := waitTemporal(ctx, keys, slog.New(slog.NewTextHandler(io.Discard, nil)), p)
			require.NoError(t, err, "temporal on postgres")
			t.Cleanup(tc.Close)
			continue
		}
		require.NoError(t, p.waitReady(ctx, 2*time.Minute), p.name)
	}
	tc, err := stack.NewTemporalClient(ctx, keys, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	token, err := auth.Issue(keys.TokenKeyBytes(), auth.Claims{Subject: "cluster-test", Role: auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)
	apiCreds, err := stack.APICredentials(keys)
	require.NoError(t, err)
	var clerks []enginev1.ClerkServiceClient
	for _, addr := range []string{api1, api2} {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(apiCreds), grpc.WithPerRPCCredentials(auth.Bearer(token)))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		clerks = append(clerks, enginev1.NewClerkServiceClient(conn))
	}

	pool, err := stack.OpenPool(ctx, dbURL, 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	forms := forms.NewForms(population.Generate(keys.AgencySeed, keys.SeedPeople))
	now := time.Now()
	const n = 24
	var codes []string
	for i := range n {
		clerk := clerks[i%2]
		var code string
		if i%3 == 2 {
			resp, err := clerk.SubmitDeath(ctx, forms.Death(100+i, now, fmt.Sprintf("cluster-d-%d", i), i%2 == 0))
			require.NoError(t, err)
			code = resp.GetCode()
		} else {
			resp, err := clerk.SubmitBirth(ctx, forms.Birth(100+i, now, fmt.Sprintf("cluster-b-%d", i)))
			require.NoError(t, err)
			code = resp.GetCode()
		}
		codes = append(codes, code)
		if i == n/2 {
			// Half-way through, one worker dies without warning.
			killed, _ := procs[2].kill()
			t.Logf("killed worker-1 (pid %d)", killed)
		}
	}

	require.Eventually(t, func() bool {
		var open int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM engine.dossiers
			WHERE status NOT IN ('COMPLETED','PARTIALLY_COMPLETED','REJECTED','CANCELLED')`).Scan(&open)
		return err == nil && open == 0
	}, 4*time.Minute, 500*time.Millisecond, "every dossier completes on the surviving worker")
	// A workflow closes once the read model holds every version. The portal
	// follows the read model: a dossier the killed worker was publishing
	// waits for its lease to pass, so the portal may trail a little.
	for _, code := range codes {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		require.NoError(t, tc.GetWorkflow(wctx, workflows.WorkflowID(code), "").Get(wctx, nil), code)
		cancel()
	}
	require.Eventually(t, func() bool {
		var behind int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM engine.status_history WHERE code = ANY($1) AND portal_synced_at IS NULL`,
			codes).Scan(&behind)
		return err == nil && behind == 0
	}, time.Minute, 200*time.Millisecond, "every version reached the portal")

	facts, err := oracle.ReadFacts(ctx, pool, codes)
	require.NoError(t, err)
	facts.Workflows = observe.WorkflowStates(ctx, tc, codes)
	verdict := oracle.Verify(facts)
	for _, v := range verdict.Violations {
		t.Errorf("%s: %s: %s", v.Invariant, v.Code, v.Detail)
	}
	require.True(t, verdict.OK())
	for _, code := range codes {
		d := facts.ReadModel[code]
		require.Equal(t, "COMPLETED", string(d.Status), "%s: %s", code, d.OutcomeReason)
	}
	checkNotifiedOnce(t, pool, codes)

	// Nothing answers in plaintext, Temporal included.
	for _, addr := range append([]string{api1, api2, keys.TemporalAddress}, agencies["JUSTICE_ADDR"], agencies["POLICE_ADDR"], agencies["SMS_ADDR"]) {
		requirePlaintextRefused(t, addr)
	}
	resp, err := http.Get("http://" + h1 + "/readyz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "the API's HTTP listener wants HTTPS")
}

// checkNotifiedOnce: with two workers' dispatchers on one outbox, and one of
// them killed mid-run, every notification reached its channel, and exactly
// one message per outbox row is held there.
func checkNotifiedOnce(t *testing.T, pool *pgxpool.Pool, codes []string) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		var pending int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM engine.notifications WHERE code = ANY($1) AND state <> 'sent'`, codes).Scan(&pending)
		return err == nil && pending == 0
	}, 2*time.Minute, 500*time.Millisecond, "every notification is sent")
	var rows, sms, mails, resent int
	require.NoError(t, pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM engine.notifications WHERE code = ANY($1)),
		(SELECT count(*) FROM engine.notifications n JOIN sms.messages m
			ON m.message_id = n.code || '/' || n.version || '/' || n.kind || '/' || n.step || '/' || n.channel
			WHERE n.code = ANY($1) AND n.channel = 'sms'),
		(SELECT count(*) FROM mail.messages WHERE split_part(substr(message_id, 2), '.', 1) = ANY($1)),
		(SELECT count(*) FROM sms.messages WHERE submissions > 1) + (SELECT count(*) FROM mail.messages WHERE submissions > 1)`,
		codes).Scan(&rows, &sms, &mails, &resent))
	require.Positive(t, rows)
	require.Equal(t, rows, sms+mails, "one SMS or e-mail held per outbox row, none twice")
	t.Logf("%d notifications delivered once each; %d of them were sent again after a worker died and recognised", rows, resent)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		_ = os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
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
