package activities

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"
)

// Metrics are the worker's view of agencies and status sync. A nil *Metrics
// records nothing, so tests need not build one.
type Metrics struct {
	calls    *prometheus.HistogramVec
	failures *prometheus.CounterVec
	syncLag  *prometheus.HistogramVec
}

// NewMetrics registers the activity metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lienthong_agency_call_seconds", Help: "Latency of calls to agencies.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}, []string{"agency", "step"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_activity_failures_total", Help: "Failed agency calls by gRPC code.",
		}, []string{"agency", "step", "code"}),
		syncLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lienthong_status_sync_lag_seconds", Help: "Time from an agency's decision to the read model or the portal.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"target"}),
	}
	reg.MustRegister(m.calls, m.failures, m.syncLag)
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
}

func (m *Metrics) observeSyncLag(target string, d time.Duration) {
	if m == nil {
		return
	}
	m.syncLag.WithLabelValues(target).Observe(d.Seconds())
}
