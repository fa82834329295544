package pgserver_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/pgserver"
)

func TestPrivatePostgres(t *testing.T) {
	if _, err := pgserver.FindBinDir(); errors.Is(err, pgserver.ErrNoBinaries) {
		t.Skip("no PostgreSQL server binaries on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "pg")

	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir})
	require.NoError(t, err)
	port := srv.Port()
	conn, err := pgx.Connect(ctx, srv.URL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('Nguyễn Văn An')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	pid := postmasterPID(t, dir)
	srv.Stop()
	require.False(t, alive(pid), "postgres still running after Stop")

	t.Run("restart keeps the data and the port", func(t *testing.T) {
		srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir})
		require.NoError(t, err)
		defer srv.Stop()
		require.Equal(t, port, srv.Port())
		conn, err := pgx.Connect(ctx, srv.URL())
		require.NoError(t, err)
		defer conn.Close(ctx)
		var v string
		require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
		require.Equal(t, "Nguyễn Văn An", v)
	})

	t.Run("a server left behind by a killed lienthong is replaced", func(t *testing.T) {
		srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir})
		require.NoError(t, err)
		stale := postmasterPID(t, dir)
		// Forget srv without stopping it, as a SIGKILLed parent would.
		next, err := pgserver.Start(ctx, pgserver.Options{Dir: dir})
		require.NoError(t, err)
		defer next.Stop()
		require.False(t, alive(stale), "the stale server should have been stopped")
		_ = srv
	})
}

func TestNoBinariesSaysWhatToDo(t *testing.T) {
	_, err := pgserver.Start(context.Background(), pgserver.Options{Dir: t.TempDir(), BinDir: "/nonexistent"})
	require.ErrorIs(t, err, pgserver.ErrNoBinaries)
	require.ErrorContains(t, err, "install PostgreSQL")
	require.ErrorContains(t, err, "DATABASE_URL")
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(t, err)
	return pid
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	// A zombie still answers signal 0; ask ps for its state.
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}
