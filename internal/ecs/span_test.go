package ecs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/log"
)

func stub() sdktrace.ReadOnlySpan {
	tid, _ := oteltrace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	pid, _ := oteltrace.SpanIDFromHex("1111111111111111")
	start := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return tracetest.SpanStub{
		Name:        "GET /orders",
		SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid}),
		Parent:      oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: pid, Remote: true}),
		SpanKind:    oteltrace.SpanKindServer,
		StartTime:   start,
		EndTime:     start.Add(1500 * time.Microsecond),
		Attributes: []attribute.KeyValue{
			attribute.String("correlation.id", "req-1"),
			attribute.String("http.request.method", "GET"),
			attribute.Int("http.response.status_code", 500),
			attribute.String("trace.id", "user value with a reserved name"),
			attribute.String("a..b", "empty segment"),
			attribute.String(".lead", "leading dot"),
			attribute.StringSlice("tags", []string{"x", "y"}),
			attribute.Float64("ratio", 0.5),
			attribute.String("_id", "mongo"),
		},
		Events: []sdktrace.Event{{Name: "exception", Time: start, Attributes: []attribute.KeyValue{
			attribute.String("exception.type", "*errors.errorString"), attribute.String("exception.message", "boom"),
		}}},
		Status:               sdktrace.Status{Code: codes.Error, Description: "failed"},
		Resource:             resource.NewSchemaless(attribute.String("service.name", "from-resource"), attribute.String("service.version", "9")),
		InstrumentationScope: instrumentation.Scope{Name: "scope", Version: "1"},
	}.Snapshot()
}

func TestAppendSpan(t *testing.T) {
	svc := &log.Service{Name: "checkout", HostName: "h", Dataset: "checkout", Namespace: "default"}
	b := AppendSpan(nil, stub(), svc)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	want := map[string]any{
		"@timestamp": "2026-01-02T03:04:05.123456789Z", "service.name": "checkout", "service.version": "9",
		"trace.id": "4bf92f3577b34da6a3ce929d0e0e4736", "span.id": "00f067aa0ba902b7", "parent.id": "1111111111111111",
		"span.name": "GET /orders", "span.kind": "server", "event.duration": float64(1500000), "event.outcome": "failure",
		"correlation.id": "req-1", "http.request.method": "GET", "http.response.status_code": float64(500),
		"error.message": "boom", "error.type": "*errors.errorString", "data_stream.type": "traces",
		"data_stream.dataset": "checkout", "attributes.trace.id": "user value with a reserved name",
		"a._.b": "empty segment", "_.lead": "leading dot", "ratio": 0.5, "otel.scope.name": "scope", "attributes._id": "mongo",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("got %s = %#v, want %#v", k, doc[k], v)
		}
	}
	if strings.Count(string(b), `"correlation.id"`) != 1 {
		t.Errorf("correlation.id written more than once: %s", b)
	}
	if tags, _ := doc["tags"].([]any); len(tags) != 2 {
		t.Errorf("got tags %v, want [x y]", doc["tags"])
	}
}

func BenchmarkAppendSpan(b *testing.B) {
	s := stub()
	svc := &log.Service{Name: "checkout", Dataset: "checkout", Namespace: "default"}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendSpan(buf[:0], s, svc)
	}
}
