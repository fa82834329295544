package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary describes a set of durations. Percentiles use the nearest-rank
// method, so every figure reported is a duration that was really observed.
type Summary struct {
	Count int
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
	Mean  time.Duration
}

// Summarize sorts a copy of ds and describes it; an empty set gives a zero Summary.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var total float64
	for _, d := range sorted {
		total += float64(d)
	}
	return Summary{
		Count: len(sorted),
		P50:   Percentile(sorted, 50),
		P99:   Percentile(sorted, 99),
		Max:   sorted[len(sorted)-1],
		Mean:  time.Duration(total / float64(len(sorted))),
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted durations by
// nearest rank: the smallest value with at least p% of the values at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// String is "p50 12ms, p99 80ms (n=400)" or "no samples".
func (s Summary) String() string {
	if s.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", FormatDuration(s.P50), FormatDuration(s.P99), FormatDuration(s.Max), s.Count)
}

// MarshalJSON writes milliseconds, which every consumer can plot without parsing Go durations.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count  int     `json:"count"`
		P50Ms  float64 `json:"p50_ms"`
		P99Ms  float64 `json:"p99_ms"`
		MaxMs  float64 `json:"max_ms"`
		MeanMs float64 `json:"mean_ms"`
	}{s.Count, ms(s.P50), ms(s.P99), ms(s.Max), ms(s.Mean)})
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// FormatDuration rounds for people: 0.4ms, 37ms, 1.25s, 2m03s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
