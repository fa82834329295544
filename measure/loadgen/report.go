package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a load run measured.
type Report struct {
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`

	// What was asked for.
	Dossiers    int     `json:"dossiers"`
	BirthShare  float64 `json:"birth_share"`
	Rate        float64 `json:"rate_per_s"`
	Concurrency int     `json:"concurrency"`
	// Source is where completion was read: "postgresql" or "api".
	Source string `json:"source"`

	// What happened.
	Births     int `json:"births"`
	Deaths     int `json:"deaths"`
	Accepted   int `json:"accepted"`
	Refused    int `json:"refused_at_submission"`
	Finished   int `json:"finished"`
	Unfinished int `json:"unfinished"`
	// ByStatus counts the final (or last seen) status of every accepted dossier.
	ByStatus map[string]int `json:"by_status"`

	// SubmitDuration runs from the first submission to the last answer.
	SubmitDuration time.Duration `json:"-"`
	// Duration runs from the first submission to the last completion.
	Duration time.Duration `json:"-"`
	// SubmitRate is accepted dossiers per second of SubmitDuration.
	SubmitRate float64 `json:"submit_rate_per_s"`
	// Throughput is finished dossiers per second of Duration, end to end.
	Throughput float64 `json:"throughput_per_s"`

	SubmitLatency Summary `json:"submit_latency"`
	// EndToEnd is received_at → completed_at in the read model.
	EndToEnd Summary `json:"end_to_end"`
	// ReadModelLag and PortalLag run from an agency's decision to the moment
	// the read model (synced_at) and the portal (portal_synced_at) held it.
	ReadModelLag Summary `json:"read_model_lag"`
	PortalLag    Summary `json:"portal_lag"`
	// LagNote says why lag was not measured, when it was not.
	LagNote string `json:"lag_note,omitempty"`

	PeakRSS []ProcessRSS `json:"peak_rss"`

	// Errors counts failed submission calls by gRPC code; PollErrors failed reads of the read model.
	Errors       map[string]int    `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	PollErrors   int               `json:"poll_errors"`

	// Codes are the accepted dossiers' codes, in submission order.
	Codes []string `json:"-"`
}

// MarshalJSON adds the durations in seconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		SubmitSeconds   float64 `json:"submit_seconds"`
		DurationSeconds float64 `json:"duration_seconds"`
	}{plain(r), r.SubmitDuration.Seconds(), r.Duration.Seconds()})
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the report for people.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, args...)...)
	}
	fmt.Fprintf(tw, "load run %s: %d dossiers (%d birth, %d death), rate %s, concurrency %d, completion read from %s\n",
		r.RunID, r.Dossiers, r.Births, r.Deaths, rateText(r.Rate), r.Concurrency, r.Source)
	line("accepted", "%d of %d (%d refused at submission)", r.Accepted, r.Dossiers, r.Refused)
	line("finished", "%d  %s", r.Finished, statusText(r.ByStatus))
	if r.Unfinished > 0 {
		line("unfinished", "%d (still open when the run's timeout ended)", r.Unfinished)
	}
	line("throughput", "%.2f dossiers/s end to end (%d in %s); submitted at %.2f/s over %s",
		r.Throughput, r.Finished, FormatDuration(r.Duration), r.SubmitRate, FormatDuration(r.SubmitDuration))
	line("submission latency", "%s", r.SubmitLatency)
	line("end to end", "%s  (received → completed)", r.EndToEnd)
	if r.LagNote != "" {
		line("status-sync lag", "not measured: %s", r.LagNote)
	} else {
		line("sync lag, read model", "%s  (agency decision → read model)", r.ReadModelLag)
		line("sync lag, portal", "%s  (agency decision → portal)", r.PortalLag)
	}
	for _, p := range r.PeakRSS {
		name := fmt.Sprintf("peak RSS, %s", p.Name)
		switch {
		case p.Err != "":
			line(name, "unknown: %s", p.Err)
		case p.Note != "":
			line(name, "%s (pid %d, %s)", FormatBytes(p.Bytes), p.PID, p.Note)
		default:
			line(name, "%s (pid %d)", FormatBytes(p.Bytes), p.PID)
		}
	}
	if len(r.Errors) == 0 {
		line("errors", "none")
	} else {
		for _, code := range sortedKeys(r.Errors) {
			sample := r.ErrorSamples[code]
			if len(sample) > 120 {
				sample = sample[:117] + "..."
			}
			line("errors, "+code, "%d  e.g. %s", r.Errors[code], sample)
		}
	}
	if r.PollErrors > 0 {
		line("poll errors", "%d", r.PollErrors)
	}
	return tw.Flush()
}

func rateText(rate float64) string {
	if rate <= 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%g/s", rate)
}

func statusText(by map[string]int) string {
	if len(by) == 0 {
		return ""
	}
	parts := make([]string, 0, len(by))
	for _, k := range sortedKeys(by) {
		parts = append(parts, fmt.Sprintf("%s %d", k, by[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
