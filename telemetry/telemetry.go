// Package telemetry owns lienthong's OpenTelemetry tracing: one tracer
// provider per process, exporting over OTLP only when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set,
// and the hooks that put it on gRPC servers and clients, the REST gateway and
// Temporal clients and workers. A nil *Tracing is tracing turned off: every
// hook then adds nothing, so a process that does not export pays nothing.
// It must not import other lienthong packages.
package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	sdkotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"google.golang.org/grpc"
)

// Tracing is a process's tracer provider and propagation format.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// FromEnv starts OTLP export when the standard OpenTelemetry variables name an
// endpoint, and returns nil (tracing off) otherwise. service names the
// process in every span (e.g. lienthong-api).
func FromEnv(ctx context.Context, service string, getenv func(string) string) (*Tracing, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	// The exporter reads the endpoint, headers, TLS and timeout from the
	// same standard variables.
	exporter, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: starting the OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Tracing{provider: tp, propagator: propagator(), shutdown: tp.Shutdown}, nil
}

// New traces to tp, e.g. a provider with an in-memory exporter in tests.
func New(tp trace.TracerProvider) *Tracing {
	return &Tracing{provider: tp, propagator: propagator(), shutdown: func(context.Context) error { return nil }}
}

// W3C trace context and baggage: what otelgrpc, otelhttp and the Temporal
// interceptor all read and write, so one trace crosses every hop.
func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Shutdown flushes the spans still buffered.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// ServerOptions trace every call a gRPC server receives.
func (t *Tracing) ServerOptions() []grpc.ServerOption {
	if t == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.provider), otelgrpc.WithPropagators(t.propagator)))}
}

// DialOptions trace every call a gRPC client makes and pass the trace on.
func (t *Tracing) DialOptions() []grpc.DialOption {
	if t == nil {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(t.provider), otelgrpc.WithPropagators(t.propagator)))}
}

// HTTP traces every request h serves, as operation.
func (t *Tracing) HTTP(h http.Handler, operation string) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.propagator))
}

// TemporalInterceptors are the SDK's tracing interceptor for a client and the
// workers built on it: starting a workflow, running it, and each activity
// become spans of the caller's trace, carried in Temporal headers.
func (t *Tracing) TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if t == nil {
		return nil, nil
	}
	i, err := sdkotel.NewTracingInterceptor(sdkotel.TracerOptions{
		Tracer:            t.provider.Tracer("lienthong/temporal"),
		TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("tracing: temporal interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}
