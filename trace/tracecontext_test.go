package trace_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/w3ctest"
	"github.com/glassbox-obs/glassbox/trace"
)

// continueAndInject extracts the inbound headers with TraceContext, starts
// a child span as a service would, and injects its context into the
// headers of an outgoing call.
func continueAndInject(t *testing.T, tp oteltrace.TracerProvider, in propagation.TextMapCarrier) http.Header {
	t.Helper()
	var p trace.TraceContext
	ctx := p.Extract(context.Background(), in)
	ctx, span := tp.Tracer("t").Start(ctx, "server")
	defer span.End()
	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	return out
}

// The W3C validation suite's cases, on the propagator alone, with every
// header line in an http.Header (all values of a name visible).
func TestTraceContextW3CSuite(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	for _, c := range w3ctest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			in := http.Header{}
			for _, h := range c.Headers {
				in.Add(h.Name, h.Value)
			}
			out := continueAndInject(t, tp, propagation.HeaderCarrier(in))
			w3ctest.Check(t, &c, out.Values("traceparent"), out.Values("tracestate"))
		})
	}
}

// A carrier without propagation.ValuesGetter shows one value per name:
// the cases with at most one line of each give the same result.
func TestTraceContextSingleValueCarrier(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	for _, c := range w3ctest.Cases() {
		in := propagation.MapCarrier{}
		single := true
		for _, h := range c.Headers {
			k := strings.ToLower(h.Name)
			if _, dup := in[k]; dup {
				single = false
			}
			in[k] = h.Value
		}
		if !single {
			continue // a map carrier cannot hold the case
		}
		t.Run(c.Name, func(t *testing.T) {
			out := continueAndInject(t, tp, in)
			w3ctest.Check(t, &c, out.Values("traceparent"), out.Values("tracestate"))
		})
	}
}

// Members OTel's TraceState cannot hold ("foo@" and other keys of the
// current grammar) go on with the trace they came with, after the ones it
// holds were changed by a sampler; they do not follow another trace.
func TestTraceContextMembersBeyondOTelTraceState(t *testing.T) {
	var p trace.TraceContext
	in := http.Header{}
	in.Set("traceparent", "00-"+w3ctest.TraceID+"-"+w3ctest.ParentID+"-01")
	in.Set("tracestate", "foo=1,vendor@=2,bar=3")
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))

	sc := oteltrace.SpanContextFromContext(ctx)
	if got := sc.TraceState().String(); got != "foo=1,bar=3" {
		t.Errorf("OTel TraceState: got %q, want the members it can hold, foo=1,bar=3", got)
	}
	inject := func(ctx context.Context) string {
		out := http.Header{}
		p.Inject(ctx, propagation.HeaderCarrier(out))
		return strings.Join(out.Values("tracestate"), ",")
	}
	if got := inject(ctx); got != "foo=1,vendor@=2,bar=3" {
		t.Errorf("unchanged: got %q, want the list as received", got)
	}
	ts, err := sc.TraceState().Insert("ot", "th:8")
	if err != nil {
		t.Fatal(err)
	}
	changed := oteltrace.ContextWithSpanContext(ctx, sc.WithTraceState(ts))
	if got := inject(changed); got != "ot=th:8,foo=1,bar=3,vendor@=2" {
		t.Errorf("changed by a sampler: got %q, want ot=th:8,foo=1,bar=3,vendor@=2", got)
	}
	other := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: oteltrace.TraceID{1}, SpanID: oteltrace.SpanID{1}, TraceFlags: oteltrace.FlagsSampled,
	})
	if got := inject(oteltrace.ContextWithSpanContext(ctx, other)); got != "" {
		t.Errorf("another trace: got %q, want no tracestate", got)
	}
	// A later extraction of a complete list replaces what was kept.
	in.Set("tracestate", "baz=4")
	if got := inject(p.Extract(ctx, propagation.HeaderCarrier(in))); got != "baz=4" {
		t.Errorf("after a second extraction: got %q, want baz=4", got)
	}
}

func TestTraceContextInjectFlags(t *testing.T) {
	var p trace.TraceContext
	for flags, want := range map[oteltrace.TraceFlags]string{0: "00", 1: "01", 2: "02", 3: "03", 0xff: "03"} {
		sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
			TraceID: oteltrace.TraceID{0xab}, SpanID: oteltrace.SpanID{0xcd}, TraceFlags: flags,
		})
		out := propagation.MapCarrier{}
		p.Inject(oteltrace.ContextWithSpanContext(context.Background(), sc), out)
		if got, wantTP := out["traceparent"], "00-ab000000000000000000000000000000-cd00000000000000-"+want; got != wantTP {
			t.Errorf("flags %02x: got %q, want %q", byte(flags), got, wantTP)
		}
	}
	out := propagation.MapCarrier{}
	p.Inject(context.Background(), out)
	if len(out) != 0 {
		t.Errorf("no span context: got %v, want nothing injected", out)
	}
}
