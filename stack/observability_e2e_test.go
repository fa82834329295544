package stack

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/deploy/monitoring"
	"github.com/lienthong/lienthong/payloadcodec"
	"github.com/lienthong/lienthong/store"
	"github.com/lienthong/lienthong/workflows"
)

// scrape reads the dev stack's /metrics: the API's, the worker's and the
// Temporal SDK's series on one registry.
func (s *stack) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+s.addrs.HTTP+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// total adds up a family's counters, or its histograms' counts, over the
// series whose labels include want.
func total(f *dto.MetricFamily, want map[string]string) (sum, count float64) {
	if f == nil {
		return 0, 0
	}
series:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case m.GetHistogram() != nil:
			sum += m.GetHistogram().GetSampleSum()
			count += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum, count
}

// checkMetrics runs after the end-to-end dossiers: the SDK's series and
// lienthong's are on the one /metrics, with values those dossiers explain.
func (s *stack) checkMetrics(t *testing.T) {
	t.Helper()
	m := s.scrape(t)

	requests, _ := total(m["temporal_request"], map[string]string{"operation": "StartWorkflowExecution"})
	require.Positive(t, requests, "the SDK counts the API's StartWorkflowExecution calls")
	sum, n := total(m["temporal_workflow_task_schedule_to_start_latency"], map[string]string{"task_queue": workflows.TaskQueueDossiers})
	require.Positive(t, n, "workflow tasks on the dossier queue are timed")
	require.Less(t, sum/n, 10.0, "an idle stack starts workflow tasks within seconds")
	_, n = total(m["temporal_activity_schedule_to_start_latency"], map[string]string{"task_queue": workflows.TaskQueueJustice})
	require.Positive(t, n, "Justice's rate-limited queue reports schedule-to-start")
	_, n = total(m["temporal_activity_execution_latency"], nil)
	require.Positive(t, n)

	ok, _ := total(m["lienthong_agency_calls_total"], map[string]string{"agency": "justice", "outcome": "ok"})
	require.Positive(t, ok, "Justice's calls are counted as ok")
	for _, target := range []string{"read_model", "portal"} {
		sum, n := total(m["lienthong_status_sync_lag_seconds"], map[string]string{"target": target})
		require.Positive(t, n, "lag to %s", target)
		require.Less(t, sum/n, 30.0, "mean lag to %s", target)
	}
	_, n = total(m["lienthong_step_working_seconds"], map[string]string{"agency": "justice"})
	require.Positive(t, n, "Justice's decisions are timed")
	calls, _ := total(m["lienthong_api_requests_total"], nil)
	require.Positive(t, calls)
	require.Contains(t, m, "lienthong_steps_stuck_by_rule")
	require.Contains(t, m, "lienthong_dossiers")

	// Every metric the dashboard and the alerts name is one this process exports.
	names, err := monitoring.MetricNames()
	require.NoError(t, err)
	for _, name := range names {
		require.Contains(t, m, name, "deploy/monitoring names %s, which /metrics does not export", name)
	}
}

// checkCodec reads the birth workflow's first event as Temporal stores it
// (ciphertext) and decodes it through the API's codec endpoint, as the Web UI
// does, with the admin's token; the decode leaves an audit row.
func (s *stack) checkCodec(t *testing.T, code string) {
	t.Helper()
	require.NotEmpty(t, code, "the birth subtest ran")
	ctx := context.Background()
	iter := s.temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(code), "", false, 0)
	require.True(t, iter.HasNext())
	first, err := iter.Next()
	require.NoError(t, err)
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput()
	require.NotEmpty(t, input.GetPayloads())
	require.NotContains(t, string(input.GetPayloads()[0].GetData()), code, "Temporal holds ciphertext")

	body, err := protojson.Marshal(input)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.addrs.HTTP+api.CodecPath+"/decode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", s.cfg.TemporalNamespace)
	req.Header.Set("Authorization", "Bearer "+s.addrs.Tokens["admin admin"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var decoded commonpb.Payloads
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.NoError(t, protojson.Unmarshal(buf.Bytes(), &decoded))
	var in workflows.BirthInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded.GetPayloads()[0], &in))
	require.Equal(t, code, in.Dossier.Code, "the decoded input is the dossier's")

	rows, err := store.New(s.pool).AuditOf(ctx, "")
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	require.Equal(t, "decode payloads", rows[len(rows)-1].Action)
	require.Equal(t, "admin:admin", rows[len(rows)-1].Actor)
}

// TestWebUIShowsDecodedHistory opens a real dossier's history in the
// embedded Temporal Web UI with headless Chromium (Debian's package) and
// finds its workflow input in plaintext: the UI fetched the codec endpoint
// from the browser, as an operator's would.
func TestWebUIShowsDecodedHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack and a browser")
	}
	// The full suite installs Chromium (.ci/run); a missing browser is a
	// failure here, never a skip.
	browser, err := exec.LookPath("chromium")
	require.NoError(t, err, "needs Debian's chromium (apt-get install chromium)")
	s := startStack(t, DevOptions{}, func(cfg *config.Config) {
		// The UI is told the codec endpoint before the API listens, so both
		// need known ports.
		cfg.TemporalUIPort = freePort(t)
		cfg.APIHTTPAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	})
	require.NotEmpty(t, s.addrs.UI)
	sub, err := s.clerk.SubmitBirth(context.Background(), s.forms.Birth(4, time.Now(), "ui-birth-1"))
	require.NoError(t, err)
	s.waitTerminal(t, sub.GetCode(), 90*time.Second)
	desc, err := s.temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(sub.GetCode()), "")
	require.NoError(t, err)
	page := fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.addrs.UI, s.cfg.TemporalNamespace,
		workflows.WorkflowID(sub.GetCode()), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--virtual-time-budget=20000", "--dump-dom", page).Output()
	require.NoError(t, err)
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(out), ""))
	require.Contains(t, text, `"Code": "`+sub.GetCode()+`"`, "the UI shows the decoded workflow input")
	require.NotContains(t, string(out), payloadcodec.Encoding, "no payload is left encrypted")

	rows, err := store.New(s.pool).AuditOf(context.Background(), "")
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	require.Equal(t, "admin:dev-temporal-web-ui", rows[len(rows)-1].Actor, "the UI's decodes are audited")
}
