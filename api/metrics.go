package api

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics are the API's own series; the worker and agencies export theirs.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	overdue  prometheus.Gauge
	stuck    prometheus.Gauge
	swept    prometheus.Counter
	dossiers *prometheus.GaugeVec
	stuckBy  *prometheus.GaugeVec
	// lookupOverFloor counts look-ups that failed slower than the floor.
	lookupOverFloor prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_api_requests_total", Help: "API calls by method and gRPC code (REST calls included).",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lienthong_api_request_seconds", Help: "API call latency by method.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}, []string{"method"}),
		overdue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lienthong_dossiers_overdue", Help: "Open dossiers past their legal deadline, from the read model.",
		}),
		stuck: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lienthong_steps_stuck", Help: "Open steps that meet a stuck rule at the default thresholds, from the read model.",
		}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lienthong_api_workflows_swept_total", Help: "Workflows the sweeper started for dossiers stored without one.",
		}),
		dossiers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lienthong_dossiers", Help: "Dossiers by procedure group and status, from the read model.",
		}, []string{"group", "status"}),
		stuckBy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lienthong_steps_stuck_by_rule", Help: "Open steps meeting each stuck rule at the default thresholds, from the read model; a step meeting several rules counts under each.",
		}, []string{"rule"}),
		lookupOverFloor: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lienthong_lookup_over_floor_total", Help: "Citizen look-ups answered without the dossier more slowly than --lookup-floor, whose timing the floor no longer hides.",
		}),
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.overdue, err = register(reg, m.overdue); err != nil {
		return nil, err
	}
	if m.stuck, err = register(reg, m.stuck); err != nil {
		return nil, err
	}
	if m.swept, err = register(reg, m.swept); err != nil {
		return nil, err
	}
	if m.dossiers, err = register(reg, m.dossiers); err != nil {
		return nil, err
	}
	if m.stuckBy, err = register(reg, m.stuckBy); err != nil {
		return nil, err
	}
	if m.lookupOverFloor, err = register(reg, m.lookupOverFloor); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the collector already registered under
// its name (a second API server in one process shares the series).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.latency.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
		return resp, err
	}
}
