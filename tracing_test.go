package glassbox

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/trace"
)

// TestSDKDisabled: with OTEL_SDK_DISABLED=true nothing is recorded or
// exported, while logs and correlation keep working.
func TestSDKDisabled(t *testing.T) {
	t.Parallel()
	srv := otlptest.NewHTTP(t)
	var buf bytes.Buffer
	tel := otlpStart(t, otlpGetenv(map[string]string{"OTEL_SDK_DISABLED": "true"}),
		WithOTLP(otlp.WithEndpointURL(srv.Endpoint())), WithLogWriter(&buf))
	ctx, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
	if span.IsRecording() {
		t.Error("span: got recording, want not recorded when the SDK is disabled")
	}
	if !span.SpanContext().TraceID().IsValid() {
		t.Error("span: got no trace ID, want one (correlation IDs derive from it)")
	}
	tel.Logger().InfoContext(ctx, "still logged")
	span.End()
	otlpFlush(t, tel)
	if !strings.Contains(buf.String(), "still logged") {
		t.Errorf("console: got %q, want the record", buf.String())
	}
	if n := len(srv.Requests(otlptest.Traces)) + len(srv.Requests(otlptest.Logs)); n != 0 {
		t.Errorf("OTLP requests: got %d, want 0", n)
	}
}

func TestPropagators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		opts       []Option
		want, deny []string
	}{
		{"default", nil, nil, []string{"traceparent", "baggage", "X-Correlation-ID"}, []string{"b3"}},
		{"OTEL_PROPAGATORS=b3", map[string]string{"OTEL_PROPAGATORS": "b3"}, nil, []string{"b3", "X-Correlation-ID"}, []string{"traceparent"}},
		{"OTEL_PROPAGATORS=none", map[string]string{"OTEL_PROPAGATORS": "none"}, nil, []string{"X-Correlation-ID"}, []string{"traceparent", "baggage"}},
		{"OTEL_PROPAGATORS=tracecontext,jaeger", map[string]string{"OTEL_PROPAGATORS": "tracecontext, jaeger"}, nil, []string{"traceparent", "uber-trace-id", "X-Correlation-ID"}, []string{"baggage"}},
		{"WithPropagators wins", map[string]string{"OTEL_PROPAGATORS": "b3"}, []Option{WithPropagators(propagation.Baggage{})}, []string{"baggage", "X-Correlation-ID"}, []string{"b3", "traceparent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tel := otlpStart(t, append([]Option{otlpGetenv(tt.env)}, tt.opts...)...)
			fields := tel.Propagator().Fields()
			for _, f := range tt.want {
				if !slices.Contains(fields, f) {
					t.Errorf("fields %v: want %q", fields, f)
				}
			}
			for _, f := range tt.deny {
				if slices.Contains(fields, f) {
					t.Errorf("fields %v: want no %q", fields, f)
				}
			}
			// The correlation ID always travels.
			carrier := propagation.MapCarrier{}
			tel.Propagator().Inject(trace.WithCorrelationID(context.Background(), "abc"), carrier)
			if got := carrier.Get("X-Correlation-ID"); got != "abc" {
				t.Errorf("injected X-Correlation-ID: got %q, want abc", got)
			}
		})
	}
}

func TestWithSampler(t *testing.T) {
	t.Parallel()
	tel := otlpStart(t, otlpGetenv(nil), WithSampler(sdktrace.NeverSample()))
	_, sp := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
	defer sp.End()
	if sp.IsRecording() {
		t.Error("span: got recording, want WithSampler(NeverSample) to drop it")
	}
}

// TestSamplerVariables: OTEL_TRACES_SAMPLER and _ARG, read by the SDK.
func TestSamplerVariables(t *testing.T) {
	remoteParent := func(sampled bool) context.Context {
		flags := oteltrace.TraceFlags(0)
		if sampled {
			flags = oteltrace.FlagsSampled
		}
		sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
			TraceID: oteltrace.TraceID{1}, SpanID: oteltrace.SpanID{2}, TraceFlags: flags, Remote: true,
		})
		return oteltrace.ContextWithRemoteSpanContext(context.Background(), sc)
	}
	tests := []struct {
		name    string
		sampler string
		arg     string
		parent  context.Context
		want    bool
	}{
		{"default is parent-based: unsampled parent", "", "", remoteParent(false), false},
		{"default is parent-based: root", "", "", context.Background(), true},
		{"always_off", "always_off", "", context.Background(), false},
		{"always_on ignores parent", "always_on", "", remoteParent(false), true},
		{"traceidratio 0", "traceidratio", "0", context.Background(), false},
		{"traceidratio 1", "traceidratio", "1", context.Background(), true},
		{"parentbased_traceidratio 0 root", "parentbased_traceidratio", "0", context.Background(), false},
		{"parentbased_traceidratio 0 sampled parent", "parentbased_traceidratio", "0", remoteParent(true), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_SAMPLER", tt.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", tt.arg)
			tel := otlpStart(t)
			_, sp := tel.TracerProvider().Tracer("t").Start(tt.parent, "op")
			defer sp.End()
			if got := sp.SpanContext().IsSampled(); got != tt.want {
				t.Errorf("sampled: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPropagatorsNamed: the one mapping from OTEL_PROPAGATORS names to
// propagators, for the default list as for the variable.
func TestPropagatorsNamed(t *testing.T) {
	tests := []struct {
		names   []string
		fields  []string
		wantErr string
	}{
		{defaultPropagators(), []string{"traceparent", "tracestate", "baggage"}, ""},
		{[]string{"tracecontext", "tracecontext"}, []string{"traceparent", "tracestate"}, ""},
		{[]string{"b3multi"}, []string{"x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"}, ""},
		{[]string{"xray", "ottrace"}, []string{"X-Amzn-Trace-Id", "ot-tracer-traceid", "ot-tracer-spanid", "ot-tracer-sampled"}, ""},
		{[]string{"b3", "none"}, nil, ""},
		{[]string{"tracecontext", "zipkin", "w3c"}, nil, "zipkin, w3c"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			ps, err := propagatorsNamed(tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := propagation.NewCompositeTextMapPropagator(ps...).Fields()
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("fields %v: want %q", got, f)
				}
			}
			if len(got) != len(tt.fields) {
				t.Errorf("fields: got %v, want %v", got, tt.fields)
			}
		})
	}
}

// TestTracecontextIsGlassboxs: "tracecontext", by default and when
// OTEL_PROPAGATORS names it, is glassbox's own W3C propagator, which
// joins every tracestate header line (OTel's reads the first only).
func TestTracecontextIsGlassboxs(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"default":                          nil,
		"OTEL_PROPAGATORS=tracecontext":    {"OTEL_PROPAGATORS": "tracecontext"},
		"OTEL_PROPAGATORS=b3,tracecontext": {"OTEL_PROPAGATORS": "b3,tracecontext"},
	} {
		t.Run(name, func(t *testing.T) {
			tel := otlpStart(t, otlpGetenv(env))
			h := propagation.HeaderCarrier{
				"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
				"Tracestate":  {"a=1", "b=2"},
			}
			sc := oteltrace.SpanContextFromContext(tel.Propagator().Extract(context.Background(), h))
			if got := sc.TraceState().String(); got != "a=1,b=2" {
				t.Errorf("tracestate of two header lines: got %q, want a=1,b=2", got)
			}
		})
	}
}
