package loadgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/forms"
)

func sampleReport() Report {
	return Report{
		RunID: "lg-test", Dossiers: 10, Births: 7, Deaths: 3, BirthShare: 0.7, Rate: 0, Concurrency: 4, Source: "postgresql",
		Accepted: 9, Refused: 1, Finished: 8, Unfinished: 1,
		ByStatus:       map[string]int{"COMPLETED": 8, "IN_PROGRESS": 1},
		SubmitDuration: 2 * time.Second, Duration: 4 * time.Second, SubmitRate: 4.5, Throughput: 2,
		SubmitLatency: Summarize([]time.Duration{10 * time.Millisecond, 90 * time.Millisecond}),
		EndToEnd:      Summarize([]time.Duration{time.Second, 3 * time.Second}),
		ReadModelLag:  Summarize([]time.Duration{20 * time.Millisecond}),
		PortalLag:     Summarize([]time.Duration{40 * time.Millisecond}),
		PeakRSS:       []ProcessRSS{{Name: "worker", PID: 42, Bytes: 300 << 20, Note: "max over 2 lives"}, {Name: "api", PID: 43, Err: "gone"}},
		Errors:        map[string]int{"UNAVAILABLE": 2, "INVALID_ARGUMENT": 1},
		ErrorSamples:  map[string]string{"UNAVAILABLE": "connection refused", "INVALID_ARGUMENT": strings.Repeat("x", 200)},
		Codes:         []string{"a", "b"},
	}
}

func TestReportText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteText(&b))
	out := b.String()
	for _, want := range []string{
		"10 dossiers (7 birth, 3 death), rate as fast as possible, concurrency 4",
		"9 of 10 (1 refused at submission)",
		"8  (COMPLETED 8, IN_PROGRESS 1)",
		"unfinished",
		"2.00 dossiers/s end to end (8 in 4.00s); submitted at 4.50/s over 2.00s",
		"p50 10ms, p99 90ms, max 90ms (n=2)",
		"agency decision → read model",
		"300 MiB (pid 42, max over 2 lives)",
		"unknown: gone",
		"errors, UNAVAILABLE",
		"2  e.g. connection refused",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, strings.Repeat("x", 150), "long error samples are cut")
	// Errors are listed in a stable order.
	require.Less(t, strings.Index(out, "INVALID_ARGUMENT"), strings.Index(out, "UNAVAILABLE"))
}

func TestReportTextWithoutLag(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.LagNote = "needs --database-url"
	r.Errors = nil
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	require.Contains(t, b.String(), "not measured: needs --database-url")
	require.Contains(t, b.String(), "none")
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteJSON(&b))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	require.Equal(t, 4.0, got["duration_seconds"])
	require.Equal(t, 2.0, got["throughput_per_s"])
	require.Equal(t, 90.0, got["submit_latency"].(map[string]any)["p99_ms"])
	require.Equal(t, 2.0, got["errors"].(map[string]any)["UNAVAILABLE"])
	require.NotContains(t, got, "Codes", "dossier codes stay out of the machine-readable report")
}

func TestPeakRSS(t *testing.T) {
	t.Parallel()
	// A /proc of one process 42, as the kernel writes its status.
	fakeProc := func(t *testing.T, status string) procfs.FS {
		t.Helper()
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "42"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "42", "status"), []byte(status), 0o644))
		fs, err := procfs.NewFS(dir)
		require.NoError(t, err)
		return fs
	}
	t.Run("kernel format", func(t *testing.T) {
		t.Parallel()
		b, err := peakRSS(fakeProc(t, "Name:\tlienthong\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n"), 42)
		require.NoError(t, err)
		require.Equal(t, int64(200<<20), b)
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := peakRSS(fakeProc(t, "Name:\tx\n"), 42)
		require.ErrorContains(t, err, "no VmHWM")
	})
	t.Run("no such process", func(t *testing.T) {
		t.Parallel()
		_, err := peakRSS(fakeProc(t, "Name:\tx\n"), 43)
		require.Error(t, err)
	})
	t.Run("this process", func(t *testing.T) {
		t.Parallel()
		b, err := PeakRSS(0)
		require.NoError(t, err)
		require.Greater(t, b, int64(1<<20))
	})
}

func TestCodeName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "UNAVAILABLE", codeName(14))
	require.Equal(t, "DEADLINE_EXCEEDED", codeName(4))
	require.Equal(t, "INVALID_ARGUMENT", codeName(3))
}

func TestProgress(t *testing.T) {
	t.Parallel()
	s := progressState{total: 100, answered: 50, accepted: 50, finished: 25, elapsed: 5 * time.Second}
	require.Equal(t, "[#####=====          ] 50/100 sent  25 done  5.0/s  0m05s", progressBar(s, 20))
	require.Equal(t, "loadgen: 50/100 sent (50 accepted), 25 done (5.0/s) after 0m05s", progressLine(s))
	require.Equal(t, "[          ] 0/0 sent  0 done  0.0/s  0m00s", progressBar(progressState{}, 10))
}

func TestPlan(t *testing.T) {
	t.Parallel()
	forms := forms.NewForms(population.Generate(6301, 10000))
	base := Config{Dossiers: 200, BirthShare: 0.7, AllowanceShare: 0.5, Seed: 1}

	t.Run("mix and uniqueness", func(t *testing.T) {
		t.Parallel()
		items, err := plan(base, forms, "")
		require.NoError(t, err)
		births, deaths, allowances := 0, 0, 0
		forms := map[bool]map[int]bool{true: {}, false: {}}
		for i, it := range items {
			require.Equal(t, i, it.n)
			require.False(t, forms[it.birth][it.form], "form %d used twice", it.form)
			forms[it.birth][it.form] = true
			if it.birth {
				births++
				continue
			}
			deaths++
			if it.allowance {
				allowances++
			}
		}
		require.Equal(t, 140, births)
		require.Equal(t, 60, deaths)
		require.Equal(t, 30, allowances)
	})
	t.Run("same seed same plan, other seed other order", func(t *testing.T) {
		t.Parallel()
		a, err := plan(base, forms, "")
		require.NoError(t, err)
		b, err := plan(base, forms, "")
		require.NoError(t, err)
		require.Equal(t, a, b)
		other := base
		other.Seed = 2
		c, err := plan(other, forms, "")
		require.NoError(t, err)
		require.NotEqual(t, a, c)
	})
	t.Run("births beyond the couples keep unique forms", func(t *testing.T) {
		t.Parallel()
		c := base
		c.Dossiers, c.BirthShare = forms.Births()+50, 1
		items, err := plan(c, forms, "")
		require.NoError(t, err)
		seen := map[int]bool{}
		for _, it := range items {
			require.False(t, seen[it.form])
			seen[it.form] = true
		}
	})
	t.Run("a person dies once", func(t *testing.T) {
		t.Parallel()
		c := base
		c.Dossiers, c.BirthShare = forms.Deaths()+1, 0
		_, err := plan(c, forms, "")
		require.ErrorContains(t, err, "each person dies once")
		c.Dossiers, c.Offset = 10, forms.Deaths()-5
		_, err = plan(c, forms, "")
		require.Error(t, err)
	})
	t.Run("one commune", func(t *testing.T) {
		t.Parallel()
		at := time.Now()
		commune := forms.Birth(0, at, "").GetCommuneCode()
		c := base
		c.Dossiers = 20
		items, err := plan(c, forms, commune)
		if err != nil {
			require.ErrorContains(t, err, "each person dies once")
			c.BirthShare = 1
			items, err = plan(c, forms, commune)
			require.NoError(t, err)
		}
		for _, it := range items {
			if it.birth {
				require.Equal(t, commune, forms.Birth(it.form, at, "").GetCommuneCode())
			} else {
				require.Equal(t, commune, forms.Death(it.form, at, "", false).GetForm().GetCommuneCode())
			}
		}
	})
}

func TestPeekClaims(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte("k"), 32)
	cfg := Config{TokenKey: key}
	ts, err := newTokenSource(cfg)
	require.NoError(t, err)
	tok, err := ts.forCommune("00004")
	require.NoError(t, err)
	role, commune, err := peekClaims(tok)
	require.NoError(t, err)
	require.Equal(t, "clerk", role)
	require.Equal(t, "00004", commune)
	again, err := ts.forCommune("00004")
	require.NoError(t, err)
	require.Equal(t, tok, again, "tokens are minted once per commune")

	_, _, err = peekClaims("not-a-jwt")
	require.Error(t, err)
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	require.False(t, IsTerminal(null), "/dev/null is a character device, not a terminal")
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	require.False(t, IsTerminal(f))
}
