package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/measure/chaos"
	"github.com/lienthong/lienthong/store"
)

// auditDB is a migrated database with n audit rows.
func auditDB(t *testing.T, n int) (string, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = store.Migrate(ctx, pool)
	require.NoError(t, err)
	s := store.New(pool)
	for i := range n {
		require.NoError(t, s.Audit(ctx, store.AuditEntry{Actor: "clerk:clerk-1", Role: "clerk", Action: "view",
			Code: "00004-260302-0001", Purpose: fmt.Sprintf("trả kết quả %d", i)}))
	}
	return url, pool
}

// changeRow rewrites one row's purpose as someone with the database's
// superuser would.
func changeRow(t *testing.T, pool *pgxpool.Pool, seq int) int64 {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE engine.audit DISABLE TRIGGER audit_append_only;
		UPDATE engine.audit SET purpose = 'nothing to see' WHERE seq = %d;
		ALTER TABLE engine.audit ENABLE TRIGGER audit_append_only`, seq))
	require.NoError(t, err)
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM engine.audit WHERE seq = $1`, seq).Scan(&id))
	return id
}

var okLine = regexp.MustCompile(`^OK: 3 rows, head (3:[0-9a-f]{64})\n$`)

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, pool := auditDB(t, 3)
	var out bytes.Buffer
	require.NoError(t, Run(ctx, []string{"audit", "verify", "--database-url", url}, Env{Getenv: noEnv, Stdout: &out}))
	m := okLine.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	head := m[1]

	out.Reset()
	require.NoError(t, Run(ctx, []string{"audit", "verify", "--database-url", url, "--anchor", head}, Env{Getenv: noEnv, Stdout: &out}), "the head is an anchor")

	id := changeRow(t, pool, 2)
	out.Reset()
	err := Run(ctx, []string{"audit", "verify", "--database-url", url, "--anchor", head}, Env{Getenv: noEnv, Stdout: &out})
	require.EqualError(t, err, "the audit chain is broken at seq 2: changed")
	require.Equal(t, fmt.Sprintf("BROKEN: row id %d (seq 2) was changed: its fields no longer match its hash (1 rows verified before it)\n", id), out.String())

	require.ErrorContains(t, Run(ctx, []string{"audit", "verify", "--database-url", url, "--anchor", "2:zz"}, Env{Getenv: noEnv, Stdout: &out}), "the hash must be 64 hex digits")
	require.ErrorContains(t, Run(ctx, []string{"audit", "verify", "--database-url", url, "extra"}, Env{Getenv: noEnv, Stdout: &out}), "unexpected argument extra")
	require.ErrorContains(t, Run(ctx, []string{"audit", "check"}, Env{Getenv: noEnv, Stdout: &out}), "unexpected argument check")
}

// The built binary: exit status 0 and the head when the chain holds, 1 and
// the broken row when it does not.
func TestAuditVerifyBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testBinary(t)
	url, pool := auditDB(t, 3)
	run := func() (string, string, int) {
		cmd := exec.CommandContext(context.Background(), bin, "audit", "verify", "--database-url", url)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.String(), stderr.String(), exit.ExitCode()
		}
		require.NoError(t, err)
		return stdout.String(), stderr.String(), 0
	}
	stdout, stderr, code := run()
	require.Zero(t, code, stderr)
	require.Regexp(t, okLine, stdout)

	id := changeRow(t, pool, 3)
	stdout, stderr, code = run()
	require.Equal(t, 1, code)
	require.Contains(t, stdout, fmt.Sprintf("BROKEN: row id %d (seq 3) was changed", id))
	require.Equal(t, "lienthong: the audit chain is broken at seq 3: changed\n", stderr)
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// testBinary builds the lienthong binary once for the tests that run it.
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
		binaryErr = chaos.BuildBinary(ctx, binaryPath)
	})
	require.NoError(t, binaryErr)
	return binaryPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		_ = os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}
