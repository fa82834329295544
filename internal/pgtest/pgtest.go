// Package pgtest gives each test its own fresh PostgreSQL database on a real
// server: DATABASE_URL if set, else the local default. It is for tests only
// and must not import any other lienthong package.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is used when DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL is the server tests connect to.
func ServerURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewURL creates a database lt_<random>, drops it (with FORCE) when the test
// ends, and returns its URL.
func NewURL(t testing.TB) string {
	t.Helper()
	return create(t, "")
}

// create makes a fresh database, empty or a copy of template, that is
// dropped when the test ends, and returns its URL.
func create(t testing.TB, template string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := connect(ctx, t)
	defer admin.Close(context.Background())
	name := freshName()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := admin.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: creating database: %v", err)
	}
	dropAtEnd(t, name)
	return urlOf(t, name)
}

func urlOf(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: DATABASE_URL must be a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// A Template is a migrated database that tests copy instead of migrating
// their own: PostgreSQL copies a small database in about half the time its
// migrations take, and most tests start from one.
type Template struct {
	// Name says what the template holds, in lower-case letters, digits and
	// underscores: "engine".
	Name string
	// Key changes whenever Migrate would make another database, say a hash
	// of the migrations. A template is made once per server and key, and a
	// new key replaces the templates of older ones.
	Key string
	// Migrate brings an empty database to the template's state.
	Migrate func(ctx context.Context, pool *pgxpool.Pool) error
}

// made remembers the templates this process has made or found.
var made sync.Map // database name → struct{}

// NewFrom is New on a copy of tpl's database.
func NewFrom(t testing.TB, tpl Template) *pgxpool.Pool {
	t.Helper()
	return open(t, create(t, ensure(t, tpl)))
}

// ensure returns the name of tpl's database, making it first if no test
// process has yet. An advisory lock keeps two processes from making it at
// once; the database gets its name only when it is complete, so a copy
// never starts from half a migration.
func ensure(t testing.TB, tpl Template) string {
	t.Helper()
	sum := tpl.Key
	if len(sum) > 16 {
		sum = sum[:16]
	}
	prefix := "lt_template_" + tpl.Name + "_"
	name := prefix + sum
	if _, ok := made.Load(name); ok {
		return name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := connect(ctx, t)
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", prefix); err != nil {
		t.Fatalf("pgtest: locking template %s: %v", tpl.Name, err)
	}
	// Closing the connection releases the lock too; this says when.
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", prefix) //nolint:errcheck // the close releases it anyway
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("pgtest: looking for template %s: %v", name, err)
	}
	if !exists {
		build(ctx, t, admin, tpl, name)
		dropOlder(ctx, admin, prefix, name)
	}
	made.Store(name, struct{}{})
	return name
}

// build migrates a database under a temporary name, then renames it.
func build(ctx context.Context, t testing.TB, admin *pgx.Conn, tpl Template, name string) {
	t.Helper()
	building := freshName()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating template %s: %v", name, err)
	}
	pool, err := pgxpool.New(ctx, urlOf(t, building))
	if err == nil {
		err = tpl.Migrate(ctx, pool)
		pool.Close()
	}
	if err == nil {
		_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	}
	if err != nil {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)") // best effort: the test fails anyway
		t.Fatalf("pgtest: making template %s: %v", name, err)
	}
}

// dropOlder drops the templates of older keys. One another process is
// still copying stays, and goes the next time.
func dropOlder(ctx context.Context, admin *pgx.Conn, prefix, keep string) {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2", prefix, keep)
	if err != nil {
		return
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range old {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()) // in use: left for the next time
	}
}

// Reserve names a database lt_<random> that does not exist yet, for code
// under test that creates its own (Temporal's schema set-up does). Whatever
// the test creates under that name is dropped (with FORCE) when it ends.
func Reserve(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Connecting now fails the test early, and clearly, without a server.
	_ = connect(ctx, t).Close(context.Background()) // the probe's close can only fail on a connection already gone
	name := freshName()
	dropAtEnd(t, name)
	return name
}

func freshName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lt_" + hex.EncodeToString(b[:])
}

// connect opens a connection to the test server's own database, or fails the
// test saying how to point it at one.
func connect(ctx context.Context, t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("pgtest: connecting to %s: %v (set DATABASE_URL to a PostgreSQL server)", redact(ServerURL()), err)
	}
	return c
}

func dropAtEnd(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
}

// New is NewURL with a pool on the new database, closed before the drop.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return open(t, NewURL(t))
}

func open(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.MaxConns = 8
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connecting: %v", err)
	}
	// Registered after the drop, so it runs before it.
	t.Cleanup(pool.Close)
	return pool
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "DATABASE_URL"
	}
	return fmt.Sprint(u.Redacted())
}

// Pool opens a pool on url for code that runs outside a test's goroutine.
func Pool(ctx context.Context, url string) *pgxpool.Pool {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		panic("pgtest: " + err.Error())
	}
	return pool
}
