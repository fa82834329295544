package loadgen

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// ProfileShare is one consumer's share of the CPU samples.
type ProfileShare struct {
	Name  string
	CPU   time.Duration
	Share float64
}

// ProfileSummary says who used the CPU during a profile.
type ProfileSummary struct {
	Total time.Duration
	// Owners splits every sample once, by the innermost frame that belongs to
	// a known component (runtime and standard-library frames are skipped to
	// find the caller that owns them).
	Owners []ProfileShare
	// Lienthong charges each sample that has a lienthong frame on its stack
	// to the innermost such frame, with whatever it called outside lienthong.
	Lienthong []ProfileShare
	// Alloc and GC are cumulative: time under runtime.mallocgc, and in the
	// background GC workers.
	Alloc, GC time.Duration
}

// owners map a function's package prefix to the component that owns it,
// most specific first.
var owners = []struct{ prefix, name string }{
	{"modernc.org/sqlite", "SQLite (Temporal's persistence, pure Go)"},
	{"modernc.org/libc", "SQLite (Temporal's persistence, pure Go)"},
	{"github.com/jmoiron/sqlx", "Temporal server: SQL layer (sqlx, database/sql)"},
	{"database/sql", "Temporal server: SQL layer (sqlx, database/sql)"},
	{"go.temporal.io/server", "Temporal server"},
	{"go.temporal.io/sdk", "Temporal SDK (worker and clients)"},
	{"go.temporal.io/api", "Temporal API types"},
	{"github.com/lienthong/lienthong/payloadcodec", "lienthong payload codec (AES-GCM)"},
	{"github.com/lienthong/lienthong/measure/loadgen", "load generator (same process)"},
	{"github.com/lienthong/lienthong/measure/", "benchmark harness (same process)"},
	{"github.com/lienthong/lienthong/agency", "mock agencies"},
	{"github.com/lienthong/lienthong", "lienthong engine (API, workflows, activities, store)"},
	{"github.com/jackc/", "pgx (PostgreSQL driver)"},
	{"google.golang.org/grpc", "gRPC"},
	{"golang.org/x/net/http2", "gRPC"},
	{"google.golang.org/protobuf", "protobuf"},
	{"github.com/gogo/protobuf", "protobuf"},
	{"crypto/tls", "TLS (crypto/tls)"},
	{"crypto/", "crypto (standard library)"},
	{"encoding/json", "encoding/json"},
	{"github.com/golang-jwt", "JWT"},
	{"go.uber.org/", "Temporal server: logging and metrics libraries"},
	{"github.com/uber-go/tally", "Temporal server: logging and metrics libraries"},
	{"go.opentelemetry.io/", "Temporal server: logging and metrics libraries"},
	{"github.com/prometheus/", "Prometheus metrics"},
}

const runtimeOwner = "Go runtime and standard library (scheduler, syscalls, no owner above)"

func ownerOf(fn string) string {
	for _, o := range owners {
		if strings.HasPrefix(fn, o.prefix) {
			return o.name
		}
	}
	return ""
}

// SummarizeCPUProfile reads a CPU profile as runtime/pprof writes it
// (gzipped profile.proto) and splits its samples by component.
func SummarizeCPUProfile(r io.Reader) (ProfileSummary, error) {
	var sum ProfileSummary
	p, err := profile.Parse(r)
	if err != nil {
		return sum, fmt.Errorf("reading profile: %w", err)
	}
	valueIdx, err := cpuValue(p)
	if err != nil {
		return sum, err
	}
	owned := map[string]int64{}
	ours := map[string]int64{}
	var total, alloc, gc int64
	for _, s := range p.Sample {
		if valueIdx >= len(s.Value) {
			continue
		}
		v := s.Value[valueIdx]
		total += v
		owner, ourFrame := "", ""
		inAlloc, inGC := false, false
		for _, fn := range frames(s) {
			switch fn {
			case "runtime.mallocgc":
				inAlloc = true
			case "runtime.gcBgMarkWorker":
				inGC = true
			}
			if owner == "" {
				owner = ownerOf(fn)
			}
			if ourFrame == "" && strings.HasPrefix(fn, "github.com/lienthong/lienthong/") {
				ourFrame = fn
			}
		}
		if ourFrame != "" {
			ours[ourFrame] += v
		}
		if inGC {
			owner = "Go garbage collector (background marking)"
			gc += v
		}
		if inAlloc {
			alloc += v
		}
		if owner == "" {
			owner = runtimeOwner
		}
		owned[owner] += v
	}
	sum.Total, sum.Alloc, sum.GC = time.Duration(total), time.Duration(alloc), time.Duration(gc)
	share := func(m map[string]int64) []ProfileShare {
		out := make([]ProfileShare, 0, len(m))
		for name, v := range m {
			ps := ProfileShare{Name: name, CPU: time.Duration(v)}
			if total > 0 {
				ps.Share = float64(v) / float64(total)
			}
			out = append(out, ps)
		}
		slices.SortFunc(out, func(a, b ProfileShare) int {
			if a.CPU != b.CPU {
				return int(b.CPU - a.CPU)
			}
			return strings.Compare(a.Name, b.Name)
		})
		return out
	}
	sum.Owners, sum.Lienthong = share(owned), share(ours)
	return sum, nil
}

// cpuValue finds the sample value that holds CPU time: a CPU profile's
// values are [samples/count, cpu/nanoseconds]. A profile without a cpu type
// is read by its last value.
func cpuValue(p *profile.Profile) (int, error) {
	if len(p.SampleType) == 0 {
		return 0, errors.New("reading profile: no sample types")
	}
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			return i, nil
		}
	}
	return len(p.SampleType) - 1, nil
}

// frames names a sample's functions, innermost first, inlined frames
// included.
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil {
				out = append(out, line.Function.Name)
			}
		}
	}
	return out
}
