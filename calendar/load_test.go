package calendar

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

const src = `"source": "test"`

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr string // the whole error, or its start when it ends with ": "
		alsoIn  string // a further part of the error, when wantErr is only its start
	}{
		{
			name:    "no files",
			files:   fstest.MapFS{"README.md": file("hello")},
			wantErr: "calendar: no *.json year files found",
		},
		{
			name:    "not JSON",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025,`)},
			wantErr: "calendar: 2025.json: ",
		},
		{
			name:    "unknown field",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holiday": []}`)},
			wantErr: `calendar: 2025.json: json: unknown field "holiday"`,
		},
		{
			name:    "year of the wrong type",
			files:   fstest.MapFS{"2025.json": file(`{"year": "2025", ` + src + `}`)},
			wantErr: "calendar: 2025.json: ", // then encoding/json's own words, which name the field "year"
			alsoIn:  "year",
		},
		{
			name:    "missing year",
			files:   fstest.MapFS{"holidays.json": file(`{` + src + `}`)},
			wantErr: "calendar: holidays.json: year: 0 is missing or not a four-digit year",
		},
		{
			name:    "year does not match file name",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2024, ` + src + `}`)},
			wantErr: "calendar: 2025.json: year: 2024 does not match the file name",
		},
		{
			name:    "missing source",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025}`)},
			wantErr: "calendar: 2025.json: source: must name the documents the dates come from",
		},
		{
			name:    "trailing data",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `} {}`)},
			wantErr: "calendar: 2025.json: unexpected data after the JSON object",
		},
		{
			name:    "impossible date",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [{"date": "2025-02-30", "name": "x"}]}`)},
			wantErr: `calendar: 2025.json: holidays[0].date: "2025-02-30" is not a YYYY-MM-DD date`,
		},
		{
			name:    "date in another format",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [{"date": "01/01/2025", "name": "x"}]}`)},
			wantErr: `calendar: 2025.json: holidays[0].date: "01/01/2025" is not a YYYY-MM-DD date`,
		},
		{
			name: "date in another year",
			files: fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [
				{"date": "2025-01-01", "name": "x"}, {"date": "2024-12-31", "name": "y"}]}`)},
			wantErr: "calendar: 2025.json: holidays[1].date: 2024-12-31 is not in 2025",
		},
		{
			name: "duplicate holiday",
			files: fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [
				{"date": "2025-01-01", "name": "x"}, {"date": "2025-01-01", "name": "y"}]}`)},
			wantErr: "calendar: 2025.json: holidays[1].date: 2025-01-01 is already listed as holidays[0]",
		},
		{
			name:    "empty name",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [{"date": "2025-01-01", "name": " "}]}`)},
			wantErr: "calendar: 2025.json: holidays[0].name: must not be empty",
		},
		{
			name:    "holiday on a weekend without the mark",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [{"date": "2025-01-04", "name": "x"}]}`)},
			wantErr: `calendar: 2025.json: holidays[0].date: 2025-01-04 is a Saturday; set "on_weekend": true to list a holiday on a weekend`,
		},
		{
			name:    "weekend mark on a weekday",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "holidays": [{"date": "2025-01-01", "name": "x", "on_weekend": true}]}`)},
			wantErr: "calendar: 2025.json: holidays[0].on_weekend: 2025-01-01 is a Wednesday, not a weekend day",
		},
		{
			name:    "working weekend on a weekday",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "working_weekends": [{"date": "2025-04-25", "name": "x"}]}`)},
			wantErr: "calendar: 2025.json: working_weekends[0].date: 2025-04-25 is a Friday, not a weekend day",
		},
		{
			name: "same day holiday and working day",
			files: fstest.MapFS{"2026.json": file(`{"year": 2026, ` + src + `,
				"holidays": [{"date": "2026-04-26", "name": "x", "on_weekend": true}],
				"working_weekends": [{"date": "2026-04-26", "name": "y"}]}`)},
			wantErr: "calendar: 2026.json: working_weekends[0].date: 2026-04-26 is already listed as holidays[0]",
		},
		{
			name:    "working weekend with a field of holidays",
			files:   fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `, "working_weekends": [{"date": "2025-04-26", "name": "x", "on_weekend": true}]}`)},
			wantErr: `calendar: 2025.json: json: unknown field "on_weekend"`,
		},
		{
			name: "two files for one year",
			files: fstest.MapFS{
				"a.json": file(`{"year": 2025, ` + src + `}`),
				"b.json": file(`{"year": 2025, ` + src + `}`),
			},
			wantErr: "calendar: b.json: year: 2025 is already loaded from a.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal, err := Load(tt.files, Config{})
			require.Error(t, err)
			require.Nil(t, cal)
			if strings.HasSuffix(tt.wantErr, ": ") {
				require.True(t, strings.HasPrefix(err.Error(), tt.wantErr), err.Error())
				require.Contains(t, err.Error(), tt.alsoIn)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{"2025.json": file(`{"year": 2025, ` + src + `}`)}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "weekday out of range", cfg: Config{Weekdays: []time.Weekday{7}}, wantErr: "calendar: config: Weekdays: 7 is not a weekday"},
		{name: "cut-off past midnight", cfg: Config{CutOff: 25 * time.Hour}, wantErr: "calendar: config: CutOff 25h0m0s is not a time of day"},
		{name: "negative end of day", cfg: Config{EndOfDay: -time.Hour}, wantErr: "calendar: config: EndOfDay -1h0m0s is not a time of day"},
		{name: "cut-off after end of day", cfg: Config{CutOff: 18 * time.Hour}, wantErr: "calendar: config: CutOff 18h0m0s is after EndOfDay 17h0m0s"},
		{name: "start after end of day", cfg: Config{StartOfDay: 17 * time.Hour}, wantErr: "calendar: config: StartOfDay 17h0m0s is not before EndOfDay 17h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(files, tt.cfg)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestLoadOperatorDirectory(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"2027.json": file(`{"year": 2027, "source": "operator", "holidays": [{"date": "2027-01-01", "name": "Tết Dương lịch"}],
			"working_weekends": [{"date": "2027-01-09", "name": "make-up"}]}`),
		"README.md":        file("ignored"),
		"old/2026.json":    file("ignored: not at the top"),
		"2027.json.orig":   file("ignored"),
		"notes/readme.txt": file("ignored"),
	}
	cal, err := Load(files, Config{})
	require.NoError(t, err)
	require.Equal(t, []int{2027}, cal.Years())
	require.True(t, cal.Covers(2027))
	require.False(t, cal.Covers(2026))
	require.False(t, cal.IsWorkingDay(on(t, "2027-01-01")))
	require.True(t, cal.IsWorkingDay(on(t, "2027-01-09")))
	// 2026 is not covered: Tết is then an ordinary week.
	require.True(t, cal.IsWorkingDay(on(t, "2026-02-17")))
	name, ok := cal.Holiday(on(t, "2027-01-01"))
	require.True(t, ok)
	require.Equal(t, "Tết Dương lịch", name)
}
