package activities

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/status"

	"github.com/lienthong/lienthong/calendar"
	"github.com/lienthong/lienthong/dossier"
)

// Metrics are the worker's view of agencies and status sync. A nil *Metrics
// records nothing, so tests need not build one.
type Metrics struct {
	calls        *prometheus.HistogramVec
	failures     *prometheus.CounterVec
	outcomes     *prometheus.CounterVec
	syncLag      *prometheus.HistogramVec
	stepDuration *prometheus.HistogramVec
	cal          *calendar.Calendar
}

// Outcomes of an agency call, by error class: what the workflow does next.
const (
	OutcomeOK              = "ok"
	OutcomeRefused         = "refused"
	OutcomeUnavailable     = "unavailable"
	OutcomeUnauthenticated = "unauthenticated"
)

// stepBuckets run from a minute to a month of working hours (9 h a day).
var stepBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 9 * 3600, 2 * 9 * 3600, 5 * 9 * 3600, 10 * 9 * 3600, 20 * 9 * 3600}

// NewMetrics registers the activity metrics on reg. Step durations are
// counted in working time on the default calendar.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lienthong_agency_call_seconds", Help: "Latency of calls to agencies.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}, []string{"agency", "step"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_activity_failures_total", Help: "Failed agency calls by gRPC code.",
		}, []string{"agency", "step", "code"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_agency_calls_total",
			Help: "Agency calls by outcome: ok, or the error class (refused: not retried; unavailable, unauthenticated: retried).",
		}, []string{"agency", "step", "outcome"}),
		syncLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lienthong_status_sync_lag_seconds", Help: "Time from an agency's decision to the read model or the portal.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"target"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lienthong_step_working_seconds",
			Help:    "Time from sending a step to its agency's decision, counting only office hours of working days.",
			Buckets: stepBuckets,
		}, []string{"agency", "step"}),
		cal: calendar.Default(),
	}
	reg.MustRegister(m.calls, m.failures, m.outcomes, m.syncLag, m.stepDuration)
	return m
}

func (m *Metrics) observeCall(agency, step string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(agency, step).Observe(d.Seconds())
	if err != nil {
		m.failures.WithLabelValues(agency, step, status.Code(err).String()).Inc()
	}
	m.outcomes.WithLabelValues(agency, step, outcome(classifyOrNil(err))).Inc()
}

func classifyOrNil(err error) error {
	if err == nil {
		return nil
	}
	return classify(err)
}

// outcome names a classified error's class.
func outcome(classified error) string {
	if classified == nil {
		return OutcomeOK
	}
	var ae *temporal.ApplicationError
	if errors.As(classified, &ae) {
		switch ae.Type() {
		case ErrRefused:
			return OutcomeRefused
		case ErrUnauthenticated:
			return OutcomeUnauthenticated
		}
	}
	return OutcomeUnavailable
}

func (m *Metrics) observeSyncLag(target string, d time.Duration) {
	if m == nil {
		return
	}
	m.syncLag.WithLabelValues(target).Observe(d.Seconds())
}

// observeDecisions records how long each step decided in these newly
// written versions took its agency. Only the version the decision made
// counts, so a step is observed once.
func (m *Metrics) observeDecisions(snaps []dossier.Snapshot, written []int64) {
	if m == nil || len(written) == 0 {
		return
	}
	fresh := map[int64]bool{}
	for _, v := range written {
		fresh[v] = true
	}
	for _, s := range snaps {
		st := s.Step(s.ChangedStep)
		if !fresh[s.Version] || st == nil || s.DecidedAt == nil || st.StartedAt == nil || st.DecidedAt == nil || !st.DecidedAt.Equal(*s.DecidedAt) {
			continue
		}
		m.stepDuration.WithLabelValues(st.Agency, string(st.Kind)).Observe(m.cal.WorkingTime(*st.StartedAt, *st.DecidedAt).Seconds())
	}
}
