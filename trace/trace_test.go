package trace_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

func TestValidCorrelationID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc": true, "A-z_0.9:x": true, strings.Repeat("a", 128): true,
		"": false, strings.Repeat("a", 129): false, "has space": false, "crlf\r\n": false, "nul\x00": false,
		"ansi\x1b[31m": false, "sep\u2028": false, "bad\xff": false, "é": false, "a/b": false, `q"`: false,
	} {
		if got := trace.ValidCorrelationID(id); got != want {
			t.Errorf("ValidCorrelationID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestWithCorrelationIDRejectsInvalid(t *testing.T) {
	ctx := trace.WithCorrelationID(context.Background(), "good-1")
	ctx = trace.WithCorrelationID(ctx, "evil\r\nX-Injected: 1")
	if id, ok := trace.CorrelationID(ctx); !ok || id != "good-1" {
		t.Errorf("got %q, %v; want the valid ID kept", id, ok)
	}
	if id, ok := trace.CorrelationID(nil); ok || id != "" {
		t.Errorf("nil context: got %q, %v", id, ok)
	}
}

func TestNewCorrelationID(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := trace.NewCorrelationID()
		if !hex32.MatchString(id) || seen[id] {
			t.Fatalf("NewCorrelationID() = %q: want 32 lowercase hex, unique", id)
		}
		seen[id] = true
	}
}

func TestEnsureCorrelationID(t *testing.T) {
	t.Run("keeps existing", func(t *testing.T) {
		ctx := trace.WithCorrelationID(context.Background(), "keep-me")
		if _, id := trace.EnsureCorrelationID(ctx); id != "keep-me" {
			t.Errorf("got %q, want keep-me", id)
		}
	})
	t.Run("uses the span's trace ID", func(t *testing.T) {
		tp := sdktrace.NewTracerProvider()
		defer tp.Shutdown(context.Background())
		ctx, span := tp.Tracer("t").Start(context.Background(), "s")
		defer span.End()
		ctx, id := trace.EnsureCorrelationID(ctx)
		if id != span.SpanContext().TraceID().String() {
			t.Errorf("got %q, want the trace ID %s", id, span.SpanContext().TraceID())
		}
		if got, _ := trace.CorrelationID(ctx); got != id {
			t.Errorf("context holds %q, want %q", got, id)
		}
	})
	t.Run("generates without span", func(t *testing.T) {
		_, a := trace.EnsureCorrelationID(context.Background())
		_, b := trace.EnsureCorrelationID(context.Background())
		if a == b || !trace.ValidCorrelationID(a) {
			t.Errorf("got %q and %q, want two distinct valid IDs", a, b)
		}
	})
}

func TestFromContext(t *testing.T) {
	if ids := trace.FromContext(context.Background()); ids.HasTrace() || ids.HasSpan() || ids.CorrelationID != "" {
		t.Errorf("empty context: got %+v", ids)
	}
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: oteltrace.TraceID{1}, SpanID: oteltrace.SpanID{2}})
	ctx := trace.WithCorrelationID(oteltrace.ContextWithSpanContext(context.Background(), sc), "c")
	ids := trace.FromContext(ctx)
	if ids.CorrelationID != "c" || ids.TraceID != sc.TraceID() || ids.SpanID != sc.SpanID() {
		t.Errorf("got %+v", ids)
	}
	if tid, ok := trace.TraceID(ctx); !ok || tid != sc.TraceID().String() {
		t.Errorf("TraceID: got %q %v", tid, ok)
	}
	if sid, ok := trace.SpanID(ctx); !ok || sid != sc.SpanID().String() {
		t.Errorf("SpanID: got %q %v", sid, ok)
	}
}

func TestExtractCorrelationID(t *testing.T) {
	h := http.Header{}
	h.Add("X-Correlation-ID", "bad value\r\n")
	for i := 0; i < 100; i++ {
		h.Add("X-Correlation-ID", "\x1b[31m")
	}
	h.Add("X-Correlation-ID", "third-is-valid")
	h.Add("X-Request-ID", "req-1")
	ex := trace.ExtractCorrelationID(propagation.HeaderCarrier(h), trace.DefaultHeaders())
	if ex.ID != "third-is-valid" || ex.Rejected != 101 {
		t.Errorf("got %+v, want the first valid value and 101 rejections", ex)
	}
	h.Del("X-Correlation-ID")
	if ex := trace.ExtractCorrelationID(propagation.HeaderCarrier(h), trace.DefaultHeaders()); ex.ID != "req-1" {
		t.Errorf("fallback header: got %+v", ex)
	}
	if ex := trace.ExtractCorrelationID(nil, trace.DefaultHeaders()); ex.ID != "" {
		t.Errorf("nil carrier: got %+v", ex)
	}
	huge := http.Header{"X-Correlation-Id": {strings.Repeat("a", 1<<20)}}
	if ex := trace.ExtractCorrelationID(propagation.HeaderCarrier(huge), trace.DefaultHeaders()); ex.ID != "" || ex.Rejected != 1 {
		t.Errorf("1 MiB header: got ID of %d bytes, %d rejected", len(ex.ID), ex.Rejected)
	}
}

func TestPropagatorRoundTrip(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("t").Start(context.Background(), "client")
	defer span.End()
	ctx = trace.WithCorrelationID(ctx, "flow-9")

	h := http.Header{}
	trace.Propagator().Inject(ctx, propagation.HeaderCarrier(h))
	if h.Get("X-Correlation-ID") != "flow-9" || h.Get("traceparent") == "" {
		t.Fatalf("injected headers: %v", h)
	}
	out := trace.Propagator().Extract(context.Background(), propagation.HeaderCarrier(h))
	if id, _ := trace.CorrelationID(out); id != "flow-9" {
		t.Errorf("extracted correlation ID %q, want flow-9", id)
	}
	if got := oteltrace.SpanContextFromContext(out).TraceID(); got != span.SpanContext().TraceID() {
		t.Errorf("extracted trace %s, want %s", got, span.SpanContext().TraceID())
	}
}

func TestCustomHeaders(t *testing.T) {
	p := trace.NewCorrelationPropagator("x-amzn-trace-id", "", "x-b3-traceid")
	if f := p.Fields(); len(f) != 2 || f[0] != "X-Amzn-Trace-Id" {
		t.Errorf("Fields() = %v", f)
	}
	h := http.Header{}
	p.Inject(trace.WithCorrelationID(context.Background(), "id-1"), propagation.HeaderCarrier(h))
	if h.Get("X-Amzn-Trace-Id") != "id-1" {
		t.Errorf("injected under %v, want the first configured header", h)
	}
	h2 := http.Header{"X-B3-Traceid": {"from-b3"}}
	if id, _ := trace.CorrelationID(p.Extract(context.Background(), propagation.HeaderCarrier(h2))); id != "from-b3" {
		t.Errorf("extract from second header: got %q", id)
	}
}

func TestWithoutCorrelationID(t *testing.T) {
	ctx := trace.WithCorrelationID(context.Background(), "order-1")
	ctx2 := trace.WithoutCorrelationID(ctx)
	if id, ok := trace.CorrelationID(ctx2); ok || id != "" {
		t.Errorf("after WithoutCorrelationID: got %q, %v; want none", id, ok)
	}
	if id, _ := trace.CorrelationID(ctx); id != "order-1" {
		t.Errorf("parent context changed: got %q, want order-1", id)
	}
	if ids := trace.FromContext(ctx2); ids.CorrelationID != "" {
		t.Errorf("FromContext: got %q, want none", ids.CorrelationID)
	}
	ctx3, id := trace.EnsureCorrelationID(ctx2)
	if id == "" || id == "order-1" || !trace.ValidCorrelationID(id) {
		t.Errorf("EnsureCorrelationID after WithoutCorrelationID: got %q, want a new valid ID", id)
	}
	if got, _ := trace.CorrelationID(ctx3); got != id {
		t.Errorf("EnsureCorrelationID's context: got %q, want %q", got, id)
	}
	if got := trace.WithoutCorrelationID(context.Background()); got != context.Background() {
		t.Error("WithoutCorrelationID of a context without an ID should return it unchanged")
	}
	if got, _ := trace.CorrelationID(trace.WithCorrelationID(ctx2, "order-2")); got != "order-2" {
		t.Errorf("WithCorrelationID after WithoutCorrelationID: got %q, want order-2", got)
	}
}
