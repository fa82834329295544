package stack

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lienthong/lienthong/config"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/telemetry"
	"github.com/lienthong/lienthong/workflows"
)

// TestOneSubmissionIsOneTrace submits a birth and follows it in the spans an
// in-memory exporter received: the API call, StartWorkflow, the workflow, an
// activity and the agency call it makes, on both sides of the wire, are one
// trace.
func TestOneSubmissionIsOneTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := startStack(t, DevOptions{Tracing: telemetry.New(tp)}, func(c *config.Config) { c.TraceURL = "http://jaeger.test/trace/{trace_id}" })

	sub, err := s.clerk.SubmitBirth(context.Background(), s.forms.Birth(6, time.Now(), "trace-birth-1"))
	require.NoError(t, err)
	s.waitTerminal(t, sub.GetCode(), 90*time.Second)

	var submit tracetest.SpanStub
	require.Eventually(t, func() bool {
		for _, sp := range spans.GetSpans() {
			if sp.Name == "lienthong.engine.v1.ClerkService/SubmitBirth" && sp.SpanKind == trace.SpanKindServer {
				submit = sp
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the API's server span")

	// name and kind: a gRPC call has a client and a server span of one name.
	// The workflow's own span ends when the workflow closes, which can be a
	// moment after the read model shows it terminal.
	want := []string{
		"StartWorkflow:Birth client",
		"RunWorkflow:Birth server",
		"StartActivity:RegisterBirth client",
		"RunActivity:RegisterBirth server",
		"lienthong.agency.v1.JusticeService/RegisterBirth client", // the worker's call
		"lienthong.agency.v1.JusticeService/RegisterBirth server", // the agency's side
	}
	var names []string
	inTrace := map[string]bool{}
	complete := func() bool {
		inTrace, names = map[string]bool{}, nil
		for _, sp := range spans.GetSpans() {
			if sp.SpanContext.TraceID() == submit.SpanContext.TraceID() {
				key := sp.Name + " " + sp.SpanKind.String()
				inTrace[key] = true
				names = append(names, key)
			}
		}
		for _, w := range want {
			if !inTrace[w] {
				return false
			}
		}
		return true
	}
	require.Eventually(t, complete, 30*time.Second, 200*time.Millisecond, "the submission's trace")
	for _, sp := range spans.GetSpans() {
		if sp.Name == "RunActivity:RegisterBirth" {
			require.Contains(t, sp.Attributes, attribute.String("temporalWorkflowID", workflows.WorkflowID(sub.GetCode())),
				"an operator finds the dossier from the activity's span")
		}
	}
	sort.Strings(names)
	t.Logf("the trace of %s: %v", sub.GetCode(), names)
	for _, w := range want {
		require.True(t, inTrace[w], "%q is not in the submission's trace: %v", w, names)
	}

	// Justice decides later, on its own schedule: its push is a trace of its
	// own that links back to the submission, and the engine's side of the
	// push is in that trace.
	var push tracetest.SpanStub
	require.Eventually(t, func() bool {
		for _, sp := range spans.GetSpans() {
			for _, l := range sp.Links {
				if sp.Name == "push justice case" && l.SpanContext.TraceID() == submit.SpanContext.TraceID() {
					push = sp
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "a push of Justice's case linked to the submission")
	require.NotEqual(t, submit.SpanContext.TraceID(), push.SpanContext.TraceID())
	require.Contains(t, push.Attributes, attribute.String("dossier_id", sub.GetCode()))
	var engineSide bool
	for _, sp := range spans.GetSpans() {
		if sp.SpanContext.TraceID() == push.SpanContext.TraceID() &&
			sp.Name == "lienthong.engine.v1.AgencyCallbackService/ReportCase" && sp.SpanKind == trace.SpanKindServer {
			engineSide = true
		}
	}
	require.True(t, engineSide, "the engine's ReportCase is in the push's trace")

	// The supervisor's trace view names the submission's trace and links it.
	supervisor := enginev1.NewSupervisorServiceClient(s.conn(t, s.addrs.API, s.addrs.Tokens["supervisor supervisor-national"]))
	tr, err := supervisor.TraceDossier(context.Background(), &enginev1.TraceDossierRequest{Code: sub.GetCode()})
	require.NoError(t, err)
	require.Equal(t, submit.SpanContext.TraceID().String(), tr.GetTraceId())
	require.Equal(t, "http://jaeger.test/trace/"+tr.GetTraceId(), tr.GetTraceUrl())
}
