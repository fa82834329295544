package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/measure/loadgen"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/workflows"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// childEnv is the children's environment: this process's, without any
// lienthong setting of its own, plus the run's.
func childEnv(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LIENTHONG_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		env = append(env, "LIENTHONG_"+k+"="+settings[k])
	}
	return env
}

// BuildBinary builds cmd/lienthong from the module this process runs in.
func BuildBinary(ctx context.Context, out string) error {
	// Linking the Temporal server takes a minute or two on two cores.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the module: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return errors.New("building lienthong: run from inside the lienthong module, or pass --binary")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/lienthong")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building lienthong: %w\n%s", err, b)
	}
	return nil
}

// runOnce runs a one-shot subcommand to completion.
func runOnce(ctx context.Context, bin string, env []string, logPath string, args ...string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	return cmd.Run()
}

// waitTemporal waits until the frontend answers and the namespace carries
// lienthong's search attributes: `lienthong temporal` registers both.
func waitTemporal(ctx context.Context, keys config.Config, logger *slog.Logger, p *proc) (client.Client, error) {
	deadline := time.Now().Add(3 * time.Minute)
	tc, err := stack.NewTemporalClient(ctx, keys, logger, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("temporal (see %s): %w", p.logPath, err)
	}
	for {
		resp, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: keys.TemporalNamespace})
		if err == nil {
			if _, ok := resp.GetCustomAttributes()[workflows.SAStatus.GetName()]; ok {
				return tc, nil
			}
			err = fmt.Errorf("namespace %s has no search attribute %s yet", keys.TemporalNamespace, workflows.SAStatus.GetName())
		}
		if time.Now().After(deadline) || p.exitedNow() {
			tc.Close()
			return nil, fmt.Errorf("temporal not ready (see %s): %w", p.logPath, err)
		}
		select {
		case <-ctx.Done():
			tc.Close()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// ---- child processes ------------------------------------------------------

// proc is one lienthong part running as its own process, restartable.
type proc struct {
	name     string
	bin      string
	args     []string
	env      []string
	logPath  string
	readyURL string
	// client polls readyURL; nil is http.DefaultClient.
	client *http.Client

	mu         sync.Mutex
	cmd        *exec.Cmd
	exited     chan struct{}
	expectExit bool
	lives      int
	peak       int64
	died       []string
	pending    bool // died on its own, not yet restarted
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(f, "\n=== %s, life %d, %s ===\n", p.name, p.lives+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, f, f
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.cmd, p.lives, p.expectExit, p.pending = cmd, p.lives+1, false, false
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		p.mu.Lock()
		if !p.expectExit {
			p.died = append(p.died, fmt.Sprintf("%s (pid %d) exited on its own: %v; see %s", p.name, cmd.Process.Pid, err, p.logPath))
			p.pending = true
		}
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) exitedNow() bool {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// diedOnItsOwn reports, once, that the process exited without being asked.
func (p *proc) diedOnItsOwn() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		p.pending = false
		return true
	}
	return false
}

func (p *proc) crashes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.died)
}

// sample records the process's peak RSS so far.
func (p *proc) sample() {
	pid := p.pid()
	if pid == 0 || p.exitedNow() {
		return
	}
	if b, err := loadgen.PeakRSS(pid); err == nil {
		p.mu.Lock()
		p.peak = max(p.peak, b)
		p.mu.Unlock()
	}
}

func (p *proc) rss() loadgen.ProcessRSS {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := loadgen.ProcessRSS{Name: p.name, Bytes: p.peak}
	if p.cmd != nil {
		r.PID = p.cmd.Process.Pid
	}
	if p.lives > 1 {
		r.Note = fmt.Sprintf("max over %d lives", p.lives)
	}
	return r
}

// kill sends SIGKILL and waits for the exit; it returns the pid and the
// life's peak RSS.
func (p *proc) kill() (int, int64) {
	pid := p.pid()
	var peak int64
	if b, err := loadgen.PeakRSS(pid); err == nil {
		peak = b
		p.mu.Lock()
		p.peak = max(p.peak, b)
		p.mu.Unlock()
	}
	p.signal(syscall.SIGKILL)
	p.wait(30 * time.Second)
	return pid, peak
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.expectExit = true
	_ = p.cmd.Process.Signal(sig)
}

func (p *proc) wait(within time.Duration) bool {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}

// stop asks the process to stop, then kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exitedNow() {
		return
	}
	p.signal(syscall.SIGTERM)
	if !p.wait(grace) {
		p.signal(syscall.SIGKILL)
		p.wait(10 * time.Second)
	}
}

// dieWithParent makes a child die with the harness even when the harness
// is killed (a test's timeout, say) and cannot stop it. The field exists on
// Linux only; elsewhere children outlive a killed harness.
func dieWithParent() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL).Convert(f.Type()))
	}
	return attr
}

// waitReady polls the process's /readyz.
func (p *proc) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if p.exitedNow() {
			return fmt.Errorf("%s exited while starting; see %s", p.name, p.logPath)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.readyURL, nil)
		c := p.client
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s", resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s (see %s): %w", p.name, within, p.logPath, last)
}
