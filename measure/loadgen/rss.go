package loadgen

import (
	"fmt"
	"os"

	"github.com/prometheus/procfs"
)

// Process names a process whose peak memory the report shows. PID 0 is this process.
type Process struct {
	Name string
	PID  int
}

// ProcessRSS is a process's peak resident set size (VmHWM).
type ProcessRSS struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Bytes int64  `json:"peak_rss_bytes"`
	// Note says how the figure was taken, e.g. "max over 4 lives" for a restarted worker.
	Note string `json:"note,omitempty"`
	Err  string `json:"error,omitempty"`
}

// PeakRSS reads VmHWM, the kernel's record of the most memory the process
// ever held resident, from /proc/<pid>/status (pid 0: this process).
func PeakRSS(pid int) (int64, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, fmt.Errorf("reading peak RSS: %w", err)
	}
	if pid <= 0 {
		pid = os.Getpid()
	}
	return peakRSS(fs, pid)
}

func peakRSS(fs procfs.FS, pid int) (int64, error) {
	p, err := fs.Proc(pid)
	if err != nil {
		return 0, fmt.Errorf("reading peak RSS: %w", err)
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, fmt.Errorf("reading peak RSS: %w", err)
	}
	if st.VmHWM == 0 {
		return 0, fmt.Errorf("reading peak RSS of process %d: no VmHWM in its status", pid)
	}
	return int64(st.VmHWM), nil
}

// MeasureRSS reads each process's peak RSS; a failure is kept in the row.
func MeasureRSS(procs []Process) []ProcessRSS {
	out := make([]ProcessRSS, 0, len(procs))
	for _, p := range procs {
		r := ProcessRSS{Name: p.Name, PID: p.PID}
		if r.PID == 0 {
			r.PID = os.Getpid()
		}
		b, err := PeakRSS(p.PID)
		if err != nil {
			r.Err = err.Error()
		}
		r.Bytes = b
		out = append(out, r)
	}
	return out
}

// FormatBytes is "412 MiB".
func FormatBytes(b int64) string {
	switch {
	case b >= 10<<30:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
