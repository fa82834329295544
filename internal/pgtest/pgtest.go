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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := connect(ctx, t)
	defer admin.Close(context.Background())
	name := freshName()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating database: %v", err)
	}
	dropAtEnd(t, name)
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: DATABASE_URL must be a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
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
	cfg, err := pgxpool.ParseConfig(NewURL(t))
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
