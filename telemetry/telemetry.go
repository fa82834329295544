// Package telemetry owns lienthong's OpenTelemetry tracing: one tracer
// provider per process, exporting over OTLP only when
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or the
// --otlp-endpoint flag names a collector, and the hooks that put it on gRPC servers and clients, the REST gateway and
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
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	sdkotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"google.golang.org/grpc"
)

// Tracing is a process's tracer provider and propagation format.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// FromEnv starts OTLP export when endpoint (lienthong's --otlp-endpoint, a
// URL such as http://collector:4317) or the standard OpenTelemetry variables
// name a collector, and returns nil (tracing off) otherwise. service names
// the process in every span (e.g. lienthong-api).
func FromEnv(ctx context.Context, service, endpoint string, getenv func(string) string) (*Tracing, error) {
	if endpoint == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	// The exporter reads the endpoint, headers, TLS and timeout from the
	// same standard variables; the flag, when given, names the endpoint.
	var opts []otlptracegrpc.Option
	if endpoint != "" {
		opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
	}
	exporter, err := otlptracegrpc.New(ctx, opts...)
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
	tr, err := sdkotel.NewTracer(sdkotel.TracerOptions{
		Tracer:            t.provider.Tracer("lienthong/temporal"),
		TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("tracing: temporal interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{interceptor.NewTracingInterceptor(logFields{tr})}, nil
}

// logFields names the trace on workflow and activity log lines as every
// other lienthong line does (trace_id, span_id), where the SDK's own tracer
// would write TraceID and SpanID: one query finds a dossier's lines.
type logFields struct{ interceptor.Tracer }

func (l logFields) GetLogger(logger log.Logger, ref interceptor.TracerSpanRef) log.Logger {
	span, ok := ref.(interface{ SpanContext() trace.SpanContext })
	if !ok || !span.SpanContext().IsValid() {
		return logger
	}
	sc := span.SpanContext()
	return log.With(logger, "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String())
}

// TraceParent is ctx's span as a W3C traceparent, to be kept with a record
// whose later work (an agency's push, days after the call) should link back
// to this trace. It is empty when ctx carries no span, as with tracing off.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// StartLinked starts a new trace for work that a stored trace caused but
// that runs on its own schedule, such as an agency pushing a decision. Its
// root span links to traceParent (see TraceParent), so an operator goes from
// the push to the submission and back. end must be called; with tracing off
// both are no-ops.
func (t *Tracing) StartLinked(ctx context.Context, name, traceParent string, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	if t == nil {
		return ctx, func(error) {}
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...)}
	if traceParent != "" {
		linked := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
			propagation.MapCarrier{"traceparent": traceParent}))
		if linked.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: linked}))
		}
	}
	ctx, span := t.provider.Tracer("lienthong").Start(ctx, name, opts...)
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
