// Package pgserver runs a private PostgreSQL for `lienthong dev` when no
// DATABASE_URL is configured: initdb into the data directory on first use,
// loopback only, run as the postgres OS user when lienthong runs as root,
// and stopped on exit. It knows nothing of lienthong's schemas.
package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/internal/freeport"
)

// ErrNoBinaries means the machine has no PostgreSQL server programs.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) found: install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL to an existing server")

// Options configure the private server.
type Options struct {
	// Dir holds the cluster; reused when it already exists.
	Dir string
	// Port on 127.0.0.1; 0 picks a free one on first start and keeps it.
	Port int
	// Database is created if missing.
	Database string
	// BinDir overrides the search for initdb and postgres.
	BinDir string
	Logger *slog.Logger
}

// Server is a running private PostgreSQL.
type Server struct {
	opts Options
	cmd  *exec.Cmd
	done chan error
	port int
}

// FindBinDir locates a directory holding initdb and postgres.
func FindBinDir() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	// Debian keeps server binaries off PATH, one folder per major version; newest first.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(versions)))
	candidates = append(candidates, versions...)
	candidates = append(candidates, "/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin")
	for _, dir := range candidates {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initialises the cluster if needed, starts it and waits until it accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Database == "" {
		opts.Database = "lienthong"
	}
	if opts.BinDir == "" {
		dir, err := FindBinDir()
		if err != nil {
			return nil, err
		}
		opts.BinDir = dir
	} else if !isExec(filepath.Join(opts.BinDir, "initdb")) || !isExec(filepath.Join(opts.BinDir, "postgres")) {
		return nil, fmt.Errorf("%s: %w", opts.BinDir, ErrNoBinaries)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolving postgres directory: %w", err)
	}
	opts.Dir = dir
	cred, owner, err := runAs()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating postgres directory: %w", err)
	}
	if owner != nil {
		if err := chownTree(opts.Dir, owner); err != nil {
			return nil, err
		}
		// postgres must be able to reach its directory through every parent.
		for p := filepath.Dir(opts.Dir); p != "/" && p != "."; p = filepath.Dir(p) {
			if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(p, st.Mode().Perm()|0o001)
			}
		}
	}
	s := &Server{opts: opts}
	if err := s.stopStale(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, "data", "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.initdb(ctx, cred); err != nil {
			return nil, err
		}
	}
	port, err := s.choosePort()
	if err != nil {
		return nil, err
	}
	s.port = port
	if err := s.start(cred); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.ensureDatabase(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// URL connects to the lienthong database.
func (s *Server) URL() string { return s.urlFor(s.opts.Database) }

// Port is the TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

func (s *Server) urlFor(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Stop shuts the server down (fast mode) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done: //nolint:errcheck // its exit status after a requested stop tells nothing
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done //nolint:errcheck // killed on purpose
	}
	s.cmd = nil
}

// Done is closed when the server exits, by itself or by Stop.
func (s *Server) Done() <-chan error { return s.done }

func (s *Server) dataDir() string { return filepath.Join(s.opts.Dir, "data") }

func (s *Server) initdb(ctx context.Context, cred *syscall.Credential) error {
	s.opts.Logger.Info("initialising private postgresql", "dir", s.dataDir())
	cmd := exec.CommandContext(ctx, filepath.Join(s.opts.BinDir, "initdb"),
		"-D", s.dataDir(), "-U", "postgres", "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=trust", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = s.opts.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb failed: %w: %s", err, lastLines(string(out), 5))
	}
	return nil
}

func (s *Server) choosePort() (int, error) {
	portFile := filepath.Join(s.opts.Dir, "port")
	if s.opts.Port != 0 {
		return s.opts.Port, os.WriteFile(portFile, []byte(strconv.Itoa(s.opts.Port)), 0o644)
	}
	if b, err := os.ReadFile(portFile); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(p) {
			return p, nil
		}
	}
	p, err := freeport.On("127.0.0.1")
	if err != nil {
		return 0, fmt.Errorf("finding a port for postgres: %w", err)
	}
	return p, os.WriteFile(portFile, []byte(strconv.Itoa(p)), 0o644)
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func (s *Server) start(cred *syscall.Credential) error {
	logFile, err := os.OpenFile(filepath.Join(s.opts.Dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening postgres log: %w", err)
	}
	cmd := exec.Command(filepath.Join(s.opts.BinDir, "postgres"),
		"-D", s.dataDir(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.opts.Dir,
		"-c", "max_connections=200",
		"-c", "fsync=on")
	// Its own process group: a Ctrl-C on the terminal reaches lienthong, which
	// then stops postgres in order, instead of both racing.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd = cmd
	s.done = make(chan error, 1)
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		s.done <- err
		close(s.done)
	}()
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.urlFor("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case err := <-s.done:
			return fmt.Errorf("postgres exited during start-up (see %s): %w", filepath.Join(s.opts.Dir, "postgres.log"), err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 60s: %w", err)
		}
	}
}

func (s *Server) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to private postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.opts.Database).Scan(&exists); err != nil {
		return fmt.Errorf("checking database %s: %w", s.opts.Database, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.opts.Database}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %s: %w", s.opts.Database, err)
	}
	return nil
}

// stopStale stops a server left behind by a lienthong that was killed. An
// unreadable or stale pid file means there is nothing to stop.
//
//nolint:nilerr // each early return is "no stale server", not a failure
func (s *Server) stopStale() error {
	b, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return nil
	}
	proc, err := os.FindProcess(pid)
	if err != nil || proc.Signal(syscall.Signal(0)) != nil {
		return nil // not running; postgres cleans its own stale pid file
	}
	s.opts.Logger.Warn("stopping a private postgresql left running by an earlier lienthong", "pid", pid)
	_ = proc.Signal(syscall.SIGINT)
	for i := 0; i < 300; i++ {
		if proc.Signal(syscall.Signal(0)) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("an earlier private postgresql (pid %d) did not stop", pid)
}

// runAs returns the credential postgres must run under: it refuses to run as root.
func runAs() (*syscall.Credential, *user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, errors.New("running as root needs a 'postgres' OS user to run the private PostgreSQL (Debian's postgresql package creates it), or set DATABASE_URL")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, u, nil
}

func chownTree(dir string, u *user.User) error {
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid) //nolint:gosec // G122: our own data directory, not a tree others write to
	})
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
