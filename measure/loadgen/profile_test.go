package loadgen

import (
	"bytes"
	"compress/gzip"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// fakeProfile encodes a CPU profile whose samples are the given stacks
// (innermost first), each worth its cpu nanoseconds.
func fakeProfile(t *testing.T, stacks [][]string, cpu []int64) []byte {
	t.Helper()
	strs := []string{"", "samples", "count", "cpu", "nanoseconds"}
	index := func(s string) uint64 {
		for i, x := range strs {
			if x == s {
				return uint64(i)
			}
		}
		strs = append(strs, s)
		return uint64(len(strs) - 1)
	}
	msg := func(fields func(b []byte) []byte) []byte { return fields(nil) }
	var out []byte
	for _, vt := range [][2]string{{"samples", "count"}, {"cpu", "nanoseconds"}} {
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, msg(func(b []byte) []byte {
			b = protowire.AppendTag(b, 1, protowire.VarintType)
			b = protowire.AppendVarint(b, index(vt[0]))
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			return protowire.AppendVarint(b, index(vt[1]))
		}))
	}
	fnIDs := map[string]uint64{}
	for i, stack := range stacks {
		var locs []byte
		for _, fn := range stack {
			id, ok := fnIDs[fn]
			if !ok {
				id = uint64(len(fnIDs) + 1)
				fnIDs[fn] = id
				// One location per function, with the same id.
				out = protowire.AppendTag(out, 5, protowire.BytesType)
				out = protowire.AppendBytes(out, msg(func(b []byte) []byte {
					b = protowire.AppendTag(b, 1, protowire.VarintType)
					b = protowire.AppendVarint(b, id)
					b = protowire.AppendTag(b, 2, protowire.VarintType)
					return protowire.AppendVarint(b, index(fn))
				}))
				out = protowire.AppendTag(out, 4, protowire.BytesType)
				out = protowire.AppendBytes(out, msg(func(b []byte) []byte {
					b = protowire.AppendTag(b, 1, protowire.VarintType)
					b = protowire.AppendVarint(b, id)
					b = protowire.AppendTag(b, 4, protowire.BytesType)
					return protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), id))
				}))
			}
			locs = protowire.AppendVarint(locs, id)
		}
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, msg(func(b []byte) []byte {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, locs)
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			return protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendVarint(nil, 1), uint64(cpu[i])))
		}))
	}
	for _, s := range strs {
		out = protowire.AppendTag(out, 6, protowire.BytesType)
		out = protowire.AppendString(out, s)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write(out)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return gz.Bytes()
}

func TestSummarizeCPUProfile(t *testing.T) {
	t.Parallel()
	ms := int64(time.Millisecond)
	b := fakeProfile(t, [][]string{
		{"runtime.memmove", "modernc.org/sqlite/lib.sqlite3Step", "go.temporal.io/server/common/persistence.x"},
		{"runtime.mallocgc", "encoding/json.Marshal", "github.com/lienthong/lienthong/store.(*Store).ApplySnapshots", "github.com/lienthong/lienthong/activities.(*Activities).SyncReadModel"},
		{"runtime.scanobject", "runtime.gcBgMarkWorker"},
		{"internal/runtime/syscall/linux.Syscall6", "runtime.netpoll"},
	}, []int64{60 * ms, 20 * ms, 15 * ms, 5 * ms})
	sum, err := SummarizeCPUProfile(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, 100*time.Millisecond, sum.Total)
	require.Equal(t, 20*time.Millisecond, sum.Alloc)
	require.Equal(t, 15*time.Millisecond, sum.GC)
	require.Equal(t, []ProfileShare{
		{Name: "SQLite (Temporal's persistence, pure Go)", CPU: 60 * time.Millisecond, Share: 0.6},
		{Name: "encoding/json", CPU: 20 * time.Millisecond, Share: 0.2},
		{Name: "Go garbage collector (background marking)", CPU: 15 * time.Millisecond, Share: 0.15},
		{Name: runtimeOwner, CPU: 5 * time.Millisecond, Share: 0.05},
	}, sum.Owners)
	require.Equal(t, []ProfileShare{
		{Name: "github.com/lienthong/lienthong/store.(*Store).ApplySnapshots", CPU: 20 * time.Millisecond, Share: 0.2},
	}, sum.Lienthong, "each sample goes to its innermost lienthong frame only")
}

//go:noinline
func spin(until time.Time) int {
	n := 0
	for time.Now().Before(until) {
		for i := range 10000 {
			n += i % 7
		}
	}
	return n
}

// A real profile written by runtime/pprof reads back, with this package as
// the owner of the time spent spinning.
func TestSummarizeRealProfile(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, pprof.StartCPUProfile(&buf))
	_ = spin(time.Now().Add(300 * time.Millisecond))
	pprof.StopCPUProfile()
	sum, err := SummarizeCPUProfile(&buf)
	require.NoError(t, err)
	require.Positive(t, sum.Total)
	require.NotEmpty(t, sum.Owners)
	require.Equal(t, "load generator (same process)", sum.Owners[0].Name)
	require.Contains(t, sum.Lienthong[0].Name, "github.com/lienthong/lienthong/measure/loadgen.")
}

func TestSummarizeCPUProfileRejectsGarbage(t *testing.T) {
	t.Parallel()
	_, err := SummarizeCPUProfile(bytes.NewReader([]byte{0xff, 0xff, 0xff}))
	require.Error(t, err)
}
