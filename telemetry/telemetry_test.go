package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/lienthong/lienthong/telemetry"
)

func TestOffByDefault(t *testing.T) {
	t.Parallel()
	tracing, err := telemetry.FromEnv(context.Background(), "lienthong-test", func(string) string { return "" })
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
	tracing, err := telemetry.FromEnv(context.Background(), "lienthong-test", func(k string) string { return env[k] })
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
