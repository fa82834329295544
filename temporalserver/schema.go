package temporalserver

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // a fingerprint of the manifest for the update log, not security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/enums/v1"
	persistencespb "go.temporal.io/server/api/persistence/v1"
	"go.temporal.io/server/common/persistence"
	serverschema "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	"google.golang.org/protobuf/proto"
)

// The schema files ship inside the server module, so the schema a binary
// installs is always the one its embedded server was built and tested with.
const (
	temporalSchemaDir   = "postgresql/v12/temporal"
	visibilitySchemaDir = "postgresql/v12/visibility"
)

// schemaLockKey serialises concurrent set-ups of the same database (two
// `lienthong temporal` replicas starting together). Advisory locks are per
// database, so one key serves both.
const schemaLockKey = int64(0x6c74_7465_6d70) // "lttemp"

// SetupPostgres creates Temporal's two databases when they are missing and
// upgrades both schemas to the versions this binary's server requires. It is
// idempotent: on an up-to-date pair it only reads the schema versions. It
// never drops or rewrites data, and an interrupted run resumes where it
// stopped.
//
// It uses the version ledger Temporal's own schema tool keeps (tables
// schema_version and schema_update_history), so the databases stay
// manageable with temporal-sql-tool as well.
func SetupPostgres(ctx context.Context, opts PostgresOptions, logger *slog.Logger) error {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, db := range []struct {
		name, dir, want string
	}{
		{o.Database, temporalSchemaDir, pgschema.Version},
		{o.VisibilityDatabase, visibilitySchemaDir, pgschema.VisibilityVersion},
	} {
		if err := setupDatabase(ctx, o, db.name, db.dir, db.want, logger.With("database", db.name)); err != nil {
			return fmt.Errorf("setting up temporal database %s: %w", db.name, err)
		}
	}
	return nil
}

// CheckHistoryShards fails when the Temporal database was created with a
// different number of history shards than want. The count is fixed when the
// cluster first starts; the server itself only logs a warning and keeps the
// stored count, which hides a misconfiguration.
// A database the server has never started against passes.
func CheckHistoryShards(ctx context.Context, opts PostgresOptions, want int32) error {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, o.url(o.Database))
	if err != nil {
		return fmt.Errorf("checking history shards: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var (
		data     []byte
		encoding string
	)
	err = conn.QueryRow(ctx, `SELECT data, data_encoding FROM cluster_metadata_info
		WHERE cluster_name = $1 ORDER BY metadata_partition LIMIT 1`, clusterName).Scan(&data, &encoding)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking history shards: %w", err)
	}
	if encoding != enums.ENCODING_TYPE_PROTO3.String() {
		return fmt.Errorf("checking history shards: cluster metadata has unknown encoding %q", encoding)
	}
	var meta persistencespb.ClusterMetadata
	if err := proto.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("checking history shards: decoding cluster metadata: %w", err)
	}
	if got := meta.GetHistoryShardCount(); got != want {
		return fmt.Errorf("temporal database %s was created with %d history shards but %d are configured: "+
			"the count can never change, so set --temporal-shards %d (LIENTHONG_TEMPORAL_SHARDS), or start from new databases",
			o.Database, got, want, got)
	}
	return nil
}

func setupDatabase(ctx context.Context, o PostgresOptions, db, dir, want string, logger *slog.Logger) error {
	versions, err := loadSchemaVersions(serverschema.Assets(), dir)
	if err != nil {
		return err
	}
	conn, err := connectOrCreate(ctx, o, db, logger)
	if err != nil {
		return err
	}
	// Closing the session also releases the advisory lock.
	defer conn.Close(context.WithoutCancel(ctx))

	if err := lockSchema(ctx, conn); err != nil {
		return err
	}
	if err := createVersionTables(ctx, conn); err != nil {
		return err
	}
	current, err := readSchemaVersion(ctx, conn, db)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if compareVersions(v.version, current) <= 0 {
			continue
		}
		if err := applySchemaVersion(ctx, conn, db, versionString(current), v); err != nil {
			return fmt.Errorf("upgrading schema from %s to %s: %w", versionString(current), v.manifest.CurrVersion, err)
		}
		logger.Info("upgraded temporal schema", "from", versionString(current), "to", v.manifest.CurrVersion, "change", v.manifest.Description)
		current = v.version
	}
	wantV, err := parseVersion(want)
	if err != nil {
		return err
	}
	if compareVersions(current, wantV) < 0 {
		return fmt.Errorf("schema is at %s after upgrading, but the server needs %s", versionString(current), want)
	}
	return nil
}

// lockSchema takes the set-up lock by polling rather than waiting inside
// pg_advisory_lock: CREATE INDEX CONCURRENTLY waits for every open statement
// in the database, and a waiter blocked on the lock its builder holds would
// deadlock with it.
func lockSchema(ctx context.Context, conn *pgx.Conn) error {
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", schemaLockKey).Scan(&ok); err != nil {
			return fmt.Errorf("taking schema lock: %w", err)
		}
		if ok {
			return nil
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for another set-up of this database: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// connectOrCreate connects to db, creating it first when it does not exist.
// The admin database is only needed for that first run, so an operator can
// pre-create both databases and grant lienthong no CREATEDB right.
func connectOrCreate(ctx context.Context, o PostgresOptions, db string, logger *slog.Logger) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, o.url(db))
	if err == nil {
		return conn, nil
	}
	if pgCode(err) != "3D000" { // invalid_catalog_name: the database does not exist
		return nil, fmt.Errorf("connecting: %w", err)
	}
	admin, err := pgx.Connect(ctx, o.url(o.AdminDatabase))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s to create the database: %w", o.AdminDatabase, err)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	_ = admin.Close(context.WithoutCancel(ctx))
	switch code := pgCode(err); {
	case err == nil:
		logger.Info("created temporal database")
	case code == "42P04" || code == "23505":
		// Another starter created it between our two connections.
	default:
		return nil, fmt.Errorf("creating the database: %w", err)
	}
	conn, err = pgx.Connect(ctx, o.url(db))
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	return conn, nil
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// createVersionTables lays out the ledger exactly as Temporal's schema tool
// and the server's version check expect it.
func createVersionTables(ctx context.Context, conn *pgx.Conn) error {
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS schema_version (
			version_partition      INT NOT NULL,
			db_name                VARCHAR(255) NOT NULL,
			creation_time          TIMESTAMP,
			curr_version           VARCHAR(64),
			min_compatible_version VARCHAR(64),
			PRIMARY KEY (version_partition, db_name))`,
		`CREATE TABLE IF NOT EXISTS schema_update_history (
			version_partition INT NOT NULL,
			year              INT NOT NULL,
			month             INT NOT NULL,
			update_time       TIMESTAMP NOT NULL,
			description       VARCHAR(255),
			manifest_md5      VARCHAR(64),
			new_version       VARCHAR(64),
			old_version       VARCHAR(64),
			PRIMARY KEY (version_partition, year, month, update_time))`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating schema version tables: %w", err)
		}
	}
	return nil
}

// readSchemaVersion returns 0.0 for a database no schema was ever applied to.
func readSchemaVersion(ctx context.Context, conn *pgx.Conn, db string) ([]int, error) {
	var s string
	err := conn.QueryRow(ctx, `SELECT coalesce(curr_version, '0.0') FROM schema_version
		WHERE version_partition = 0 AND db_name = $1`, db).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return []int{0, 0}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	v, err := parseVersion(s)
	if err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// schemaManifest is a versioned directory's manifest.json.
type schemaManifest struct {
	CurrVersion          string
	MinCompatibleVersion string
	Description          string
	SchemaUpdateCqlFiles []string
	AllowNoCqlFiles      bool
}

type schemaVersion struct {
	version    []int
	manifest   schemaManifest
	md5        string
	statements []string
}

var versionDirName = regexp.MustCompile(`^v(\d+(?:\.\d+)*)$`)

// loadSchemaVersions reads dir/versioned/vX.Y/manifest.json and the files it
// lists, in ascending version order.
func loadSchemaVersions(fsys fs.FS, dir string) ([]schemaVersion, error) {
	root := path.Join(dir, "versioned")
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("reading embedded schema: %w", err)
	}
	var out []schemaVersion
	for _, e := range entries {
		m := versionDirName.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		v, err := parseVersion(m[1])
		if err != nil {
			return nil, err
		}
		vdir := path.Join(root, e.Name())
		raw, err := fs.ReadFile(fsys, path.Join(vdir, "manifest.json"))
		if err != nil {
			return nil, fmt.Errorf("reading embedded schema: %w", err)
		}
		var man schemaManifest
		if err := json.Unmarshal(raw, &man); err != nil {
			return nil, fmt.Errorf("reading %s/manifest.json: %w", vdir, err)
		}
		if man.CurrVersion != m[1] {
			return nil, fmt.Errorf("%s/manifest.json says version %q", vdir, man.CurrVersion)
		}
		sum := md5.Sum(raw) //nolint:gosec
		sv := schemaVersion{version: v, manifest: man, md5: hex.EncodeToString(sum[:])}
		for _, f := range man.SchemaUpdateCqlFiles {
			b, err := fs.ReadFile(fsys, path.Join(vdir, f))
			if err != nil {
				return nil, fmt.Errorf("reading embedded schema: %w", err)
			}
			stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(b)})
			if err != nil {
				return nil, fmt.Errorf("splitting %s/%s: %w", vdir, f, err)
			}
			sv.statements = append(sv.statements, stmts...)
		}
		if len(sv.statements) == 0 && !man.AllowNoCqlFiles {
			return nil, fmt.Errorf("%s has no statements", vdir)
		}
		out = append(out, sv)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no schema versions under %s", root)
	}
	slices.SortFunc(out, func(a, b schemaVersion) int { return compareVersions(a.version, b.version) })
	return out, nil
}

var concurrently = regexp.MustCompile(`(?i)\bconcurrently\b`)

// applySchemaVersion runs one version's statements and records it. A version
// whose statements may run in a transaction is applied atomically with its
// ledger entry. CREATE INDEX CONCURRENTLY cannot run in one, so such a
// version runs statement by statement and tolerates what a previous,
// interrupted attempt already did. (Those files drop the invalid index an
// interrupted concurrent build leaves before rebuilding it.)
func applySchemaVersion(ctx context.Context, conn *pgx.Conn, db, from string, v schemaVersion) error {
	if !slices.ContainsFunc(v.statements, concurrently.MatchString) {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, stmt := range v.statements {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("executing %q: %w", abbreviate(stmt), err)
				}
			}
			return recordSchemaVersion(ctx, tx, db, from, v)
		})
	}
	for _, stmt := range v.statements {
		if _, err := conn.Exec(ctx, stmt); err != nil && !alreadyDone(stmt, err) {
			return fmt.Errorf("executing %q: %w", abbreviate(stmt), err)
		}
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		return recordSchemaVersion(ctx, tx, db, from, v)
	})
}

// alreadyDone reports an error that only means the statement's effect is
// already in place.
func alreadyDone(stmt string, err error) bool {
	verb := strings.ToUpper(strings.Fields(stmt)[0])
	switch pgCode(err) {
	case "42P07", "42701", "42710", "42P06": // duplicate table/index, column, object, schema
		return verb == "CREATE" || verb == "ALTER"
	case "42P01", "42703", "42704": // undefined table, column, object
		return verb == "DROP"
	}
	return false
}

func recordSchemaVersion(ctx context.Context, tx pgx.Tx, db, from string, v schemaVersion) error {
	m := v.manifest
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version
			(version_partition, db_name, creation_time, curr_version, min_compatible_version)
		VALUES (0, $1, now() AT TIME ZONE 'UTC', $2, $3)
		ON CONFLICT (version_partition, db_name) DO UPDATE SET
			creation_time = EXCLUDED.creation_time,
			curr_version = EXCLUDED.curr_version,
			min_compatible_version = EXCLUDED.min_compatible_version`,
		db, m.CurrVersion, m.MinCompatibleVersion); err != nil {
		return fmt.Errorf("recording schema version: %w", err)
	}
	desc := m.Description
	if len(desc) > 255 {
		desc = desc[:255]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_update_history
			(version_partition, year, month, update_time, old_version, new_version, manifest_md5, description)
		SELECT 0, extract(year FROM t)::int, extract(month FROM t)::int, t, $1, $2, $3, $4
		FROM (SELECT clock_timestamp() AT TIME ZONE 'UTC' AS t) now`,
		from, m.CurrVersion, v.md5, desc); err != nil {
		return fmt.Errorf("recording schema update: %w", err)
	}
	return nil
}

func parseVersion(s string) ([]int, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad schema version %q", s)
		}
		out[i] = n
	}
	return out, nil
}

func versionString(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// compareVersions orders dotted versions numerically, so 1.10 follows 1.9.
func compareVersions(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func abbreviate(stmt string) string {
	s := strings.Join(strings.Fields(stmt), " ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
