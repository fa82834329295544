package loadgen

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p0 is the min", ms(3, 9), 0, 3 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	t.Run("unsorted input is not modified", func(t *testing.T) {
		t.Parallel()
		in := []time.Duration{5 * time.Second, time.Second, 3 * time.Second}
		s := Summarize(in)
		require.Equal(t, []time.Duration{5 * time.Second, time.Second, 3 * time.Second}, in)
		require.Equal(t, Summary{Count: 3, P50: 3 * time.Second, P99: 5 * time.Second, Max: 5 * time.Second, Mean: 3 * time.Second}, s)
	})
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, Summary{}, Summarize(nil))
		require.Equal(t, "no samples", Summarize(nil).String())
	})
	t.Run("json in milliseconds", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(Summarize([]time.Duration{1500 * time.Microsecond, 2 * time.Second}))
		require.NoError(t, err)
		require.JSONEq(t, `{"count":2,"p50_ms":1.5,"p99_ms":2000,"max_ms":2000,"mean_ms":1000.75}`, string(b))
	})
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                       "0",
		400 * time.Microsecond:  "0.40ms",
		3300 * time.Microsecond: "3.3ms",
		37 * time.Millisecond:   "37ms",
		1250 * time.Millisecond: "1.25s",
		123 * time.Second:       "2m03s",
		-37 * time.Millisecond:  "-37ms",
	} {
		require.Equal(t, want, FormatDuration(d), "%v", d)
	}
}
