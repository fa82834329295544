package temporalserver

import (
	"testing"

	"github.com/stretchr/testify/require"
	serverschema "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
)

func TestLoadSchemaVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, want string
	}{
		{temporalSchemaDir, pgschema.Version},
		{visibilitySchemaDir, pgschema.VisibilityVersion},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			versions, err := loadSchemaVersions(serverschema.Assets(), tc.dir)
			require.NoError(t, err)
			require.Equal(t, "1.0", versions[0].manifest.CurrVersion, "the base schema comes first")
			require.Equal(t, tc.want, versions[len(versions)-1].manifest.CurrVersion,
				"the newest embedded version is the one the server requires")
			for i := 1; i < len(versions); i++ {
				require.Negative(t, compareVersions(versions[i-1].version, versions[i].version))
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"1.9", "1.10", -1},
		{"1.10", "1.9", 1},
		{"1.0", "1", 0},
		{"0.0", "1.0", -1},
		{"v1.2", "1.2", 0},
		{"2.0", "1.19", 1},
	} {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			t.Parallel()
			a, err := parseVersion(tc.a)
			require.NoError(t, err)
			b, err := parseVersion(tc.b)
			require.NoError(t, err)
			got := compareVersions(a, b)
			switch tc.sign {
			case -1:
				require.Negative(t, got)
			case 1:
				require.Positive(t, got)
			default:
				require.Zero(t, got)
			}
		})
	}
	_, err := parseVersion("1.x")
	require.Error(t, err)
}

func TestPostgresOptionsFromURL(t *testing.T) {
	t.Parallel()
	t.Run("takes server, credentials and attributes but not the database", func(t *testing.T) {
		t.Parallel()
		p, err := PostgresOptionsFromURL("postgres://lt:s%40cret@db.internal:6432/lienthong?sslmode=verify-full&sslrootcert=/ca.pem&pool_max_conns=40")
		require.NoError(t, err)
		require.Equal(t, PostgresOptions{
			Host: "db.internal", Port: 6432, User: "lt", Password: "s@cret",
			ConnectAttributes: map[string]string{"sslmode": "verify-full", "sslrootcert": "/ca.pem"},
		}, p)
		stores, err := p.dataStores()
		require.NoError(t, err)
		require.Equal(t, "temporal", stores["default"].SQL.DatabaseName)
		require.Equal(t, "temporal_visibility", stores["visibility"].SQL.DatabaseName)
		require.Equal(t, "postgres12_pgx", stores["default"].SQL.PluginName)
		require.Equal(t, "db.internal:6432", stores["visibility"].SQL.ConnectAddr)
		require.Equal(t, "postgres://lt:s%40cret@db.internal:6432/temporal?sslmode=verify-full&sslrootcert=%2Fca.pem",
			p.withDefaults().url("temporal"))
	})
	t.Run("defaults the port and sslmode", func(t *testing.T) {
		t.Parallel()
		p, err := PostgresOptionsFromURL("postgresql://postgres@localhost")
		require.NoError(t, err)
		require.Equal(t, 5432, p.Port)
		require.Equal(t, "postgres://postgres@localhost:5432/temporal?sslmode=disable", p.withDefaults().url("temporal"))
	})
	for _, bad := range []string{"mysql://x@y/z", "postgres:///nohost", "postgres://h:99999/x", "::"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			t.Parallel()
			_, err := PostgresOptionsFromURL(bad)
			require.Error(t, err)
		})
	}
	t.Run("refuses one database for both stores", func(t *testing.T) {
		t.Parallel()
		p := PostgresOptions{Host: "h", Database: "t", VisibilityDatabase: "t"}
		_, err := p.dataStores()
		require.Error(t, err)
	})
}
