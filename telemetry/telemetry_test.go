package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/lienthong/lienthong/telemetry"
)

func TestOffByDefault(t *testing.T) {
	t.Parallel()
	tracing, err := telemetry.FromEnv(context.Background(), "lienthong-test", "", func(string) string { return "" })
	require.NoError(t, err)
	require.Nil(t, tracing, "no endpoint, no tracing")

	// Every hook of tracing turned off adds nothing.
	require.Empty(t, tracing.ServerOptions())
	require.Empty(t, tracing.DialOptions())
	h := http.NewServeMux()
	require.Same(t, h, tracing.HTTP(h, "rest"))
	is, err := tracing.TemporalInterceptors()
	require.NoError(t, err)
	require.Empty(t, is)
	require.NoError(t, tracing.Shutdown(context.Background()))
}

func TestOnWithAProvider(t *testing.T) {
	t.Parallel()
	tracing := telemetry.New(sdktrace.NewTracerProvider())
	require.Len(t, tracing.ServerOptions(), 1)
	require.Len(t, tracing.DialOptions(), 1)
	is, err := tracing.TemporalInterceptors()
	require.NoError(t, err)
	require.Len(t, is, 1)
}

func TestOTLPWhenAnEndpointIsSet(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
	// The exporter connects lazily, so no collector is needed to start.
	tracing, err := telemetry.FromEnv(context.Background(), "lienthong-test", "", func(k string) string { return env[k] })
	require.NoError(t, err)
	require.NotNil(t, tracing)
	require.NoError(t, tracing.Shutdown(context.Background()))
}

func TestLogLinesCarryTheTraceID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewTextHandler(&buf, nil))).With("dossier_id", "00004-261202-0001")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "submit")
	log.InfoContext(ctx, "dossier received")
	span.End()
	require.Contains(t, buf.String(), "trace_id="+span.SpanContext().TraceID().String())
	require.Contains(t, buf.String(), "dossier_id=00004-261202-0001")

	buf.Reset()
	log.InfoContext(context.Background(), "no span")
	require.NotContains(t, buf.String(), "trace_id")
}

func TestTheFlagAloneTurnsExportOn(t *testing.T) {
	t.Parallel()
	tracing, err := telemetry.FromEnv(context.Background(), "lienthong-test", "http://127.0.0.1:4317", func(string) string { return "" })
	require.NoError(t, err)
	require.NotNil(t, tracing, "--otlp-endpoint without the OTEL_ variables")
	require.NoError(t, tracing.Shutdown(context.Background()))
}

// An agency's push, long after the call that opened its case, starts its own
// trace and links back to the call's.
func TestALaterPushLinksBackToTheCall(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewInMemoryExporter()
	tracing := telemetry.New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	ctx, call := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "RegisterBirth")
	parent := telemetry.TraceParent(ctx)
	call.End()
	require.Contains(t, parent, call.SpanContext().TraceID().String())
	require.Empty(t, telemetry.TraceParent(context.Background()), "no span, nothing to keep")

	pctx, end := tracing.StartLinked(ctx, "push justice", parent)
	end(nil)
	got := spans.GetSpans()
	require.Len(t, got, 1)
	require.NotEqual(t, call.SpanContext().TraceID(), got[0].SpanContext.TraceID(), "a trace of its own")
	require.Len(t, got[0].Links, 1)
	require.Equal(t, call.SpanContext().TraceID(), got[0].Links[0].SpanContext.TraceID())
	require.Equal(t, got[0].SpanContext.TraceID(), trace.SpanContextFromContext(pctx).TraceID(), "the push's calls join its trace")

	var off *telemetry.Tracing
	octx, end := off.StartLinked(context.Background(), "push", parent)
	end(nil)
	require.False(t, trace.SpanContextFromContext(octx).IsValid(), "tracing off starts nothing")
}

// Workflow and activity log lines name their trace with the same keys as
// every other line.
func TestWorkflowLogLinesCarryTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	env := suite.NewTestWorkflowEnvironment()
	is, err := telemetry.New(sdktrace.NewTracerProvider()).TemporalInterceptors()
	require.NoError(t, err)
	var ws []interceptor.WorkerInterceptor
	for _, i := range is {
		ws = append(ws, i.(interceptor.WorkerInterceptor))
	}
	env.SetWorkerOptions(worker.Options{Interceptors: ws})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		workflow.GetLogger(ctx).Info("step sent", "dossier_id", "00004-261202-0001")
		return nil
	}, workflow.RegisterOptions{Name: "Logs"})
	env.ExecuteWorkflow("Logs")
	require.NoError(t, env.GetWorkflowError())
	line := buf.String()
	require.Contains(t, line, "step sent")
	require.Regexp(t, `trace_id=[0-9a-f]{32}`, line)
	require.NotContains(t, line, "TraceID=")
}
