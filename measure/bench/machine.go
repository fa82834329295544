package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lienthong/lienthong/measure/loadgen"
)

type machineInfo struct {
	CPUs      int
	CPUModel  string
	Memory    string
	GoVersion string
	Kernel    string
	Postgres  string
}

func readMachine(ctx context.Context, pool *pgxpool.Pool) machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
					m.Memory = loadgen.FormatBytes(kb * 1024)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	var v string
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err == nil {
		m.Postgres = "PostgreSQL " + v
	}
	return m
}

// processCPU is this process's CPU time so far, user and system, from
// /proc/self/stat (Linux; zero elsewhere). The kernel counts in USER_HZ
// ticks, which are 1/100 s on every Linux lienthong runs on.
func processCPU() time.Duration {
	p, err := procfs.Self()
	if err != nil {
		return 0
	}
	st, err := p.Stat()
	if err != nil {
		return 0
	}
	return time.Duration(st.CPUTime() * float64(time.Second))
}
