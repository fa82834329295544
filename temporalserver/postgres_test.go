package temporalserver

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	serverschema "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"

	"github.com/lienthong/lienthong/internal/freeport"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/temporalserver/namespace"
)

var testSearchAttributes = map[string]enums.IndexedValueType{
	"LienthongStep":    enums.INDEXED_VALUE_TYPE_KEYWORD,
	"LienthongAgency":  enums.INDEXED_VALUE_TYPE_KEYWORD,
	"LienthongOverdue": enums.INDEXED_VALUE_TYPE_BOOL,
}

// tempPostgres returns options naming two fresh databases on the test server,
// for SetupPostgres to create, and drops them when the test ends.
func tempPostgres(t *testing.T) PostgresOptions {
	t.Helper()
	raw := pgtest.ServerURL()
	pg, err := PostgresOptionsFromURL(raw)
	require.NoError(t, err)
	if u, _ := url.Parse(raw); u != nil && len(u.Path) > 1 {
		// The URL's database exists; use it to create and drop ours.
		pg.AdminDatabase = u.Path[1:]
	}
	pg.Database, pg.VisibilityDatabase = pgtest.Reserve(t), pgtest.Reserve(t)
	pg.MaxConns = 4
	return pg
}

func ledger(t *testing.T, ctx context.Context, pg PostgresOptions, db string) (version string, updates int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, pg.withDefaults().url(db))
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx,
		"SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = $1", db).Scan(&version))
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM schema_update_history").Scan(&updates))
	return version, updates
}

func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server against PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pg := tempPostgres(t)

	t.Run("concurrent set-ups create and upgrade both databases once", func(t *testing.T) {
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- SetupPostgres(ctx, pg, nil) }()
		}
		require.NoError(t, <-errs)
		require.NoError(t, <-errs)
		for _, db := range []struct{ name, dir, want string }{
			{pg.Database, temporalSchemaDir, pgschema.Version},
			{pg.VisibilityDatabase, visibilitySchemaDir, pgschema.VisibilityVersion},
		} {
			versions, err := loadSchemaVersions(serverschema.Assets(), db.dir)
			require.NoError(t, err)
			v, n := ledger(t, ctx, pg, db.name)
			require.Equal(t, db.want, v)
			require.Equal(t, len(versions), n, "each version applied exactly once")
		}
	})

	t.Run("second setup is a no-op", func(t *testing.T) {
		_, before := ledger(t, ctx, pg, pg.Database)
		_, beforeVis := ledger(t, ctx, pg, pg.VisibilityDatabase)
		require.NoError(t, SetupPostgres(ctx, pg, nil))
		_, after := ledger(t, ctx, pg, pg.Database)
		_, afterVis := ledger(t, ctx, pg, pg.VisibilityDatabase)
		require.Equal(t, before, after)
		require.Equal(t, beforeVis, afterVis)
	})

	t.Run("an interrupted upgrade resumes", func(t *testing.T) {
		// As if a set-up died after running some of 1.13's statements,
		// which cannot share a transaction with the ledger.
		conn, err := pgx.Connect(ctx, pg.withDefaults().url(pg.VisibilityDatabase))
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "UPDATE schema_version SET curr_version = '1.12' WHERE db_name = $1", pg.VisibilityDatabase)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, "DROP INDEX by_temporal_external_payload_count")
		require.NoError(t, err)

		require.NoError(t, SetupPostgres(ctx, pg, nil))
		v, _ := ledger(t, ctx, pg, pg.VisibilityDatabase)
		require.Equal(t, pgschema.VisibilityVersion, v)
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE indexname = 'by_temporal_external_payload_count'").Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("a fresh database passes the shard check", func(t *testing.T) {
		require.NoError(t, CheckHistoryShards(ctx, pg, 2))
	})

	srv, err := Start(Options{Port: freeport.Port(t), Postgres: &pg, HistoryShards: 2})
	require.NoError(t, err)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Stop()
		}
	}
	t.Cleanup(stop)

	t.Run("namespace and search attributes are registered", func(t *testing.T) {
		const ns = "lienthong-test"
		require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, ns, testSearchAttributes))
		require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, ns, testSearchAttributes))

		c, err := client.DialContext(ctx, client.Options{HostPort: srv.Address(), Namespace: ns})
		require.NoError(t, err)
		defer c.Close()
		desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		require.NoError(t, err)
		require.Equal(t, namespace.Retention, desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration())
		sa, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
		require.NoError(t, err)
		for name, typ := range testSearchAttributes {
			require.Equal(t, typ, sa.GetCustomAttributes()[name], name)
		}
	})

	t.Run("connections stay within budget", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, pg.withDefaults().url(pg.Database))
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx,
			"SELECT count(*) FROM pg_stat_activity WHERE datname = ANY($1)",
			[]string{pg.Database, pg.VisibilityDatabase}).Scan(&n))
		t.Logf("%d connections to the two databases with MaxConns %d", n, pg.MaxConns)
		// Four services, each with a main and a visibility pool, plus ours.
		require.LessOrEqual(t, n, 4*(pg.MaxConns+max(2, pg.MaxConns/2))+1)
	})

	stop()

	t.Run("the stored shard count is enforced", func(t *testing.T) {
		require.NoError(t, CheckHistoryShards(ctx, pg, 2))
		err := CheckHistoryShards(ctx, pg, 3)
		require.ErrorContains(t, err, "created with 2 history shards but 3 are configured")
	})

	t.Run("setup after the server ran is still a no-op", func(t *testing.T) {
		_, before := ledger(t, ctx, pg, pg.Database)
		require.NoError(t, SetupPostgres(ctx, pg, nil))
		_, after := ledger(t, ctx, pg, pg.Database)
		require.Equal(t, before, after)
	})
}

func TestEnsureNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(Options{Port: freeport.Port(t)})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)

	t.Run("is idempotent", func(t *testing.T) {
		require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, "lienthong", testSearchAttributes))
		require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, "lienthong", testSearchAttributes))
		more := map[string]enums.IndexedValueType{"LienthongStatus": enums.INDEXED_VALUE_TYPE_KEYWORD}
		for k, v := range testSearchAttributes {
			more[k] = v
		}
		require.NoError(t, namespace.Ensure(ctx, srv.Address(), nil, "lienthong", more))

		c, err := client.DialContext(ctx, client.Options{HostPort: srv.Address()})
		require.NoError(t, err)
		defer c.Close()
		sa, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "lienthong"})
		require.NoError(t, err)
		for name, typ := range more {
			require.Equal(t, typ, sa.GetCustomAttributes()[name], name)
		}
	})

	t.Run("refuses to change an attribute's type", func(t *testing.T) {
		err := namespace.Ensure(ctx, srv.Address(), nil, "lienthong",
			map[string]enums.IndexedValueType{"LienthongOverdue": enums.INDEXED_VALUE_TYPE_KEYWORD})
		require.ErrorContains(t, err, "LienthongOverdue exists as Bool, expected Keyword")
	})

	t.Run("gives up when the frontend never answers", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := namespace.Ensure(short, freeport.Addr(t), nil, "lienthong", nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}
