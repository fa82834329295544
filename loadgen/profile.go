package loadgen

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
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
	{"github.com/lienthong/lienthong/loadgen", "load generator (same process)"},
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
	p, err := parseProfile(r)
	if err != nil {
		return sum, err
	}
	owned := map[string]int64{}
	ours := map[string]int64{}
	var total, alloc, gc int64
	for _, s := range p.samples {
		v := s.value
		total += v
		stack := p.stack(s.locations)
		owner, ourFrame := "", ""
		inAlloc, inGC := false, false
		for _, fn := range stack {
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

// profile is the part of profile.proto a CPU summary needs.
type profile struct {
	samples   []sample
	locations map[uint64][]uint64 // location id → function ids, innermost first
	functions map[uint64]int64    // function id → name string index
	strings   []string
	valueIdx  int
}

type sample struct {
	locations []uint64
	value     int64
}

// stack names a sample's functions, innermost first.
func (p *profile) stack(locs []uint64) []string {
	var out []string
	for _, l := range locs {
		for _, f := range p.locations[l] {
			if i := p.functions[f]; i >= 0 && int(i) < len(p.strings) {
				out = append(out, p.strings[i])
			}
		}
	}
	return out
}

func parseProfile(r io.Reader) (*profile, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("reading profile: %w", err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("reading profile: %w", err)
		}
	}
	p := &profile{locations: map[uint64][]uint64{}, functions: map[uint64]int64{}, valueIdx: -1}
	type rawSample struct {
		locs   []uint64
		values []int64
	}
	var samples []rawSample
	var sampleTypes [][2]int64 // type, unit string indexes
	err = walk(raw, func(num protowire.Number, typ protowire.Type, b []byte, _ uint64) error {
		switch num {
		case 1: // sample_type
			var vt [2]int64
			err := walk(b, func(n protowire.Number, _ protowire.Type, _ []byte, v uint64) error {
				if n == 1 || n == 2 {
					vt[n-1] = int64(v)
				}
				return nil
			})
			sampleTypes = append(sampleTypes, vt)
			return err
		case 2: // sample
			var s rawSample
			err := walk(b, func(n protowire.Number, t protowire.Type, bb []byte, v uint64) error {
				switch n {
				case 1:
					return varints(t, bb, v, func(x uint64) { s.locs = append(s.locs, x) })
				case 2:
					return varints(t, bb, v, func(x uint64) { s.values = append(s.values, int64(x)) })
				}
				return nil
			})
			samples = append(samples, s)
			return err
		case 4: // location
			var id uint64
			var fns []uint64
			err := walk(b, func(n protowire.Number, _ protowire.Type, bb []byte, v uint64) error {
				switch n {
				case 1:
					id = v
				case 4: // line
					return walk(bb, func(n protowire.Number, _ protowire.Type, _ []byte, v uint64) error {
						if n == 1 {
							fns = append(fns, v)
						}
						return nil
					})
				}
				return nil
			})
			p.locations[id] = fns
			return err
		case 5: // function
			var id uint64
			name := int64(-1)
			err := walk(b, func(n protowire.Number, _ protowire.Type, _ []byte, v uint64) error {
				switch n {
				case 1:
					id = v
				case 2:
					name = int64(v)
				}
				return nil
			})
			p.functions[id] = name
			return err
		case 6: // string_table
			p.strings = append(p.strings, string(b))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	// A CPU profile's values are [samples/count, cpu/nanoseconds].
	for i, st := range sampleTypes {
		if st[0] >= 0 && int(st[0]) < len(p.strings) && p.strings[st[0]] == "cpu" {
			p.valueIdx = i
		}
	}
	if p.valueIdx < 0 {
		if len(sampleTypes) == 0 {
			return nil, errors.New("reading profile: no sample types")
		}
		p.valueIdx = len(sampleTypes) - 1
	}
	for _, s := range samples {
		if p.valueIdx < len(s.values) {
			p.samples = append(p.samples, sample{locations: s.locs, value: s.values[p.valueIdx]})
		}
	}
	return p, nil
}

// walk calls fn for each field of a protobuf message: b holds the bytes of
// length-delimited fields, v the value of varint and fixed ones.
func walk(msg []byte, fn func(num protowire.Number, typ protowire.Type, b []byte, v uint64) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var b []byte
		var v uint64
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(msg)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(msg)
			v = uint64(v32)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		if err := fn(num, typ, b, v); err != nil {
			return err
		}
	}
	return nil
}

// varints reads a repeated integer field, packed or not.
func varints(typ protowire.Type, b []byte, v uint64, add func(uint64)) error {
	if typ != protowire.BytesType {
		add(v)
		return nil
	}
	for len(b) > 0 {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		add(x)
		b = b[n:]
	}
	return nil
}
