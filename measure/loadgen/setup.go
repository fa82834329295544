package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lienthong/lienthong/stack"
)

// What the benchmark and the chaos harness share when they set up a run:
// a fresh database, random keys and a free port.

// DefaultDatabase is where bench and chaos make their fresh databases
// when neither --database-url nor DATABASE_URL says otherwise.
const DefaultDatabase = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// FreshDatabase creates an empty database next to baseURL's and returns its
// URL and a function that drops it.
func FreshDatabase(ctx context.Context, baseURL, prefix string) (string, func(), error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("--database-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to %s (set --database-url or DATABASE_URL): %w", stack.RedactURL(baseURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := prefix + "_" + RandomHex(5)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, baseURL)
		if err != nil {
			slog.Warn("dropping database", "database", name, "error", err)
			return
		}
		defer c.Close(dctx)
		if _, err := c.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			slog.Warn("dropping database", "database", name, "error", err)
		}
	}
	return u.String(), drop, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// RandomHex is n random bytes in hex.
func RandomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// RandomKey is a fresh 32-byte key in base64, as --codec-key and --token-key take one.
func RandomKey() string { return base64.StdEncoding.EncodeToString(randomBytes(32)) }

// RateWords says how fast a run submits.
func RateWords(rate float64) string {
	if rate <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("at %g/s", rate)
}

// FreeLoopbackPort finds a port nobody listens on right now.
func FreeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
