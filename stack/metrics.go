package stack

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	sdkotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// sdkLatencyBuckets are the SDK timers' buckets, in seconds. The exporter's
// default buckets are meant for milliseconds and would put every
// schedule-to-start latency under 5 s in one bucket; these resolve the
// 10-second alert and the rate-limited queues' backlogs.
var sdkLatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}

// sdkMetrics is the Temporal SDK's metrics handler, exporting to reg through
// OpenTelemetry's Prometheus exporter. Series keep the names the SDK
// documents (temporal_request, temporal_workflow_task_schedule_to_start_latency,
// …): no unit or _total suffixes, no scope labels.
func sdkMetrics(reg prometheus.Registerer, logger *slog.Logger) (client.MetricsHandler, error) {
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutUnits(),
		otelprom.WithoutCounterSuffixes(),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return nil, errors.New("temporal sdk metrics: this registry already has a Temporal client's metrics")
		}
		return nil, fmt.Errorf("temporal sdk metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: sdkLatencyBuckets}},
		)),
	)
	return sdkotel.NewMetricsHandler(sdkotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		// A metric the meter refuses is not worth stopping a worker for.
		OnError: func(err error) { logger.Warn("temporal sdk metric refused", "error", err) },
	}), nil
}
