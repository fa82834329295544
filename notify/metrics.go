package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the dispatcher's. A nil *Metrics records nothing.
type Metrics struct {
	sends   *prometheus.CounterVec
	pending prometheus.Gauge
	oldest  prometheus.Gauge
}

// Outcomes of one send.
const (
	OutcomeSent = "sent"
	// OutcomeRetried: a transient failure; the message waits and goes again.
	OutcomeRetried = "retried"
	// OutcomeFailed: the channel refused the message for good.
	OutcomeFailed = "failed"
)

// NewMetrics registers the dispatcher's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_notifications_total",
			Help: "Notification sends by channel and outcome: sent, retried (a transient failure) or failed (refused for good).",
		}, []string{"channel", "outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lienthong_notifications_pending", Help: "Notifications in the outbox not yet sent.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lienthong_notification_outbox_age_seconds", Help: "Age of the oldest notification not yet sent; 0 when none waits.",
		}),
	}
	// Every series from the start, so a rate of failures is 0 before the first.
	for _, ch := range []Channel{ChannelSMS, ChannelEmail} {
		for _, o := range []string{OutcomeSent, OutcomeRetried, OutcomeFailed} {
			m.sends.WithLabelValues(string(ch), o)
		}
	}
	reg.MustRegister(m.sends, m.pending, m.oldest)
	return m
}

func (m *Metrics) sent(ch Channel, outcome string) {
	if m != nil {
		m.sends.WithLabelValues(string(ch), outcome).Inc()
	}
}

func (m *Metrics) backlog(pending int, oldest time.Duration) {
	if m != nil {
		m.pending.Set(float64(pending))
		m.oldest.Set(oldest.Seconds())
	}
}
