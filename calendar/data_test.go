package calendar

import (
	"encoding/json"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEmbeddedData checks the shipped year files on their own terms, without the loader,
// so that a loader bug cannot hide a data mistake.
func TestEmbeddedData(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(Embedded(), "*.json")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"2025.json", "2026.json"}, names)

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := fs.ReadFile(Embedded(), name)
			require.NoError(t, err)
			var f struct {
				Year     int    `json:"year"`
				Source   string `json:"source"`
				Holidays []struct {
					Date      string `json:"date"`
					Name      string `json:"name"`
					OnWeekend bool   `json:"on_weekend"`
				} `json:"holidays"`
				WorkingWeekends []struct {
					Date string `json:"date"`
					Name string `json:"name"`
				} `json:"working_weekends"`
			}
			require.NoError(t, json.Unmarshal(raw, &f))
			require.Equal(t, strings.TrimSuffix(name, ".json"), strconv.Itoa(f.Year))
			require.NotEmpty(t, strings.TrimSpace(f.Source))

			seen := map[string]bool{}
			listed := map[string]bool{}
			for _, h := range f.Holidays {
				d, err := time.ParseInLocation(time.DateOnly, h.Date, zone)
				require.NoError(t, err, h.Date)
				require.Equal(t, f.Year, d.Year(), h.Date)
				require.False(t, seen[h.Date], "%s listed twice", h.Date)
				seen[h.Date] = true
				listed[h.Date[5:]] = true
				require.NotEmpty(t, h.Name)
				weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
				require.Equal(t, weekend, h.OnWeekend, "%s is a %s: on_weekend must say so", h.Date, d.Weekday())
			}
			for _, w := range f.WorkingWeekends {
				d, err := time.ParseInLocation(time.DateOnly, w.Date, zone)
				require.NoError(t, err, w.Date)
				require.Equal(t, f.Year, d.Year(), w.Date)
				require.False(t, seen[w.Date], "%s listed twice", w.Date)
				seen[w.Date] = true
				require.NotEmpty(t, w.Name)
				require.Contains(t, []time.Weekday{time.Saturday, time.Sunday}, d.Weekday(), w.Date)
			}

			// The fixed-date holidays of Labour Code art. 112 are listed unless they fall on a
			// weekend, and National Day has its adjacent day.
			for _, md := range []string{"01-01", "04-30", "05-01", "09-02"} {
				d, err := time.ParseInLocation(time.DateOnly, strconv.Itoa(f.Year)+"-"+md, zone)
				require.NoError(t, err)
				if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
					require.True(t, listed[md], "%d-%s must be a holiday", f.Year, md)
				}
			}
			require.True(t, listed["09-01"] || listed["09-03"], "National Day needs an adjacent day")
		})
	}
}

func TestEmbeddedDataLoads(t *testing.T) {
	t.Parallel()
	cal, err := Load(Embedded(), Config{})
	require.NoError(t, err)
	require.Equal(t, []int{2025, 2026}, cal.Years())
	require.Equal(t, cal, Default())
}

// TestEmbeddedBreaks pins the long breaks day by day, weekends included.
func TestEmbeddedBreaks(t *testing.T) {
	t.Parallel()
	cal := Default()
	tests := []struct {
		name       string
		first      string // first day off
		last       string // last day off
		nextWorked string
	}{
		{name: "Tết 2025, 9 days", first: "2025-01-25", last: "2025-02-02", nextWorked: "2025-02-03"},
		{name: "30 April 2025, 5 days", first: "2025-04-30", last: "2025-05-04", nextWorked: "2025-05-05"},
		{name: "National Day 2025, 4 days", first: "2025-08-30", last: "2025-09-02", nextWorked: "2025-09-03"},
		{name: "New Year 2026, 4 days", first: "2026-01-01", last: "2026-01-04", nextWorked: "2026-01-05"},
		{name: "Tết 2026, 9 days", first: "2026-02-14", last: "2026-02-22", nextWorked: "2026-02-23"},
		{name: "Hùng Kings 2026, 3 days", first: "2026-04-25", last: "2026-04-27", nextWorked: "2026-04-28"},
		{name: "30 April 2026, 4 days", first: "2026-04-30", last: "2026-05-03", nextWorked: "2026-05-04"},
		{name: "National Day 2026, 5 days", first: "2026-08-29", last: "2026-09-02", nextWorked: "2026-09-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, last := on(t, tt.first), on(t, tt.last)
			require.True(t, cal.IsWorkingDay(first.AddDate(0, 0, -1)) || first.AddDate(0, 0, -1).Weekday() == time.Sunday,
				"the day before the break is worked or an ordinary Sunday")
			for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
				require.False(t, cal.IsWorkingDay(d), "%s", d.Format(time.DateOnly))
			}
			require.Equal(t, on(t, tt.nextWorked), cal.NextWorkingDay(last))
		})
	}
}
