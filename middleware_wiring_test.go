package glassbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/middleware"
)

type countingObserver struct{ begins, ends int }

func (o *countingObserver) Begin(ctx context.Context, _ *middleware.Request) context.Context {
	o.begins++
	return ctx
}

func (o *countingObserver) End(context.Context, *middleware.Request, *middleware.Outcome) string {
	o.ends++
	return ""
}

func TestMiddlewareOptionsWireTelemetry(t *testing.T) {
	var buf bytes.Buffer
	exp := tracetest.NewInMemoryExporter()
	obs := &countingObserver{}
	tel, err := Start(context.Background(),
		getenvOption(func(string) string { return "" }),
		WithServiceName("wired"),
		WithLogWriter(&buf),
		WithoutSetDefault(),
		WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)),
		WithRedactKeys("x-tenant-secret"),
		WithObserver(obs),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	opts := append(tel.MiddlewareOptions(), middleware.WithRequestHeaders("X-Tenant-Secret"))
	h := middleware.HTTP(opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tel.Logger().InfoContext(r.Context(), "inside")
	}))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := httptest.NewRequest("GET", "/things", nil)
	req.Header.Set("traceparent", tp)
	req.Header.Set("X-Tenant-Secret", "hunter2")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	// The TracerProvider and the propagator: the span continues the trace
	// and reaches the configured processor.
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("spans: got %d, want 1 continuing the inbound trace", len(spans))
	}
	// The observers.
	if obs.begins != 1 || obs.ends != 1 {
		t.Errorf("observer: got %d Begin %d End, want 1 and 1", obs.begins, obs.ends)
	}
	// The logger and the redactor.
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("a header on the Telemetry's redaction list was logged:\n%s", buf.String())
	}
	var access map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["message"] == "request completed" {
			access = m
		}
		if m["correlation.id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || m["service.name"] != "wired" {
			t.Errorf("record %q: correlation.id %v service.name %v", m["message"], m["correlation.id"], m["service.name"])
		}
	}
	if access == nil {
		t.Fatalf("no access-log record in the Telemetry's logger output:\n%s", buf.String())
	}
	if got := access["http.request.header.x-tenant-secret"]; got != "[REDACTED]" {
		t.Errorf("x-tenant-secret: got %v, want [REDACTED]", got)
	}
}
