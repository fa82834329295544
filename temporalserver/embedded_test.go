package temporalserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/temporalserver"
	"github.com/lienthong/lienthong/temporalserver/namespace"
)

// recorder is an activity that writes through pgx.
type recorder struct{ url string }

func (r *recorder) Record(ctx context.Context, note string) (int64, error) {
	pool := pgtest.Pool(ctx, r.url)
	defer pool.Close()
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO notes (note) VALUES ($1) RETURNING id`, note).Scan(&id)
	return id, err
}

func noteWorkflow(ctx workflow.Context, note string) (int64, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var r *recorder
	var id int64
	err := workflow.ExecuteActivity(ctx, r.Record, note).Get(ctx, &id)
	return id, err
}

// TestEmbeddedServerRunsAWorkflowThatWritesToPostgres boots the embedded
// server, registers the namespace with a search attribute, and runs a small
// workflow whose activity writes to a real PostgreSQL through pgx. With no
// file to persist to, it keeps its data in a scratch file that Stop removes.
// It runs alone: two servers starting at once in one process race for free
// ports.
func TestEmbeddedServerRunsAWorkflowThatWritesToPostgres(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	metricsPort := freeport.Port(t)
	srv, err := temporalserver.Start(temporalserver.Options{Port: freeport.Port(t), MetricsPort: metricsPort})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, "embedded-test",
		map[string]enums.IndexedValueType{"LienthongGroup": enums.INDEXED_VALUE_TYPE_KEYWORD}))

	url := pgtest.NewURL(t)
	pool := pgtest.Pool(ctx, url)
	defer pool.Close()
	_, err = pool.Exec(ctx, `CREATE TABLE notes (id bigserial PRIMARY KEY, note text NOT NULL)`)
	require.NoError(t, err)

	c, err := client.Dial(client.Options{HostPort: srv.Address(), Namespace: "embedded-test"})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, "embedded-test", worker.Options{})
	w.RegisterWorkflow(noteWorkflow)
	w.RegisterActivity(&recorder{url: url})
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "note-1", TaskQueue: "embedded-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("LienthongGroup").ValueSet("birth")),
	}, noteWorkflow, "Phường Ba Đình")
	require.NoError(t, err)
	var id int64
	require.NoError(t, run.Get(ctx, &id))

	var note string
	require.NoError(t, pool.QueryRow(ctx, `SELECT note FROM notes WHERE id = $1`, id).Scan(&note))
	require.Equal(t, "Phường Ba Đình", note)

	// The server's own metrics: the task queue the workflow ran on is there.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `taskqueue="embedded-test"`)

	scratch, err := filepath.Glob(filepath.Join(tmp, "lienthong-temporal-*", "temporal.db"))
	require.NoError(t, err)
	require.Len(t, scratch, 1, "the scratch database while the server runs")
	w.Stop()
	c.Close()
	srv.Stop()
	stopped = true
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "what the server left behind once stopped")
}
