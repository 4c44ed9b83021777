package spandoc

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
			attribute.BoolSlice("flags", []bool{true, false}),
			attribute.Int64Slice("ids", []int64{-1, 42}),
			attribute.Float64Slice("weights", []float64{0.5, 1e21}),
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

func TestAppend(t *testing.T) {
	svc := &log.Service{Name: "checkout", HostName: "h", Dataset: "checkout", Namespace: "default"}
	b := Append(nil, stub(), svc, log.NewRedactor())
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
		"data_stream.dataset": "checkout", "trace.id_2": "user value with a reserved name",
		"a._.b": "empty segment", "_.lead": "leading dot", "ratio": 0.5, "otel.scope.name": "scope", "_id_2": "mongo",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("got %s = %#v, want %#v", k, doc[k], v)
		}
	}
	if strings.Count(string(b), `"correlation.id"`) != 1 {
		t.Errorf("correlation.id written more than once: %s", b)
	}
	for key, want := range map[string]string{"tags": `["x","y"]`, "flags": `[true,false]`, "ids": `[-1,42]`, "weights": `[0.5,1e+21]`} {
		if got, _ := json.Marshal(doc[key]); string(got) != want {
			t.Errorf("got %s = %s, want %s", key, got, want)
		}
	}
}

func spanWith(attrs []attribute.KeyValue, events []sdktrace.Event) sdktrace.ReadOnlySpan {
	tid, _ := oteltrace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return tracetest.SpanStub{
		Name:        "op",
		SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid}),
		StartTime:   start, EndTime: start.Add(time.Millisecond),
		Attributes: attrs, Events: events,
	}.Snapshot()
}

func decodeSpan(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return doc
}

func TestAppendSpanRedacts(t *testing.T) {
	attrs := []attribute.KeyValue{
		attribute.String("password", "hunter2"),
		attribute.String("db.user.password", "s3cret"),
		attribute.Int64("apiKey", 1234),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer abc"}),
		attribute.String("_token", "reserved-name-secret"),
		attribute.String("http.request.method", "GET"),
	}
	events := []sdktrace.Event{{Name: "login", Attributes: []attribute.KeyValue{
		attribute.String("secret", "ev-secret"), attribute.String("user.name", "ann"),
	}}}
	svc := &log.Service{Name: "svc"}
	tests := []struct {
		name     string
		r        *log.Redactor
		redacted []string
		kept     map[string]any
	}{
		{"default list", log.NewRedactor(), []string{"password", "db.user.password", "apiKey", "http.request.header.authorization", "_token"},
			map[string]any{"http.request.method": "GET"}},
		{"extra name", log.NewRedactor("http.request.method"), []string{"password", "http.request.method"}, nil},
		{"nil redacts nothing", nil, nil, map[string]any{"password": "hunter2", "apiKey": float64(1234)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Append(nil, spanWith(attrs, events), svc, tt.r)
			doc := decodeSpan(t, b)
			for _, k := range tt.redacted {
				if doc[k] != log.Redacted {
					t.Errorf("got %s = %#v, want %q", k, doc[k], log.Redacted)
				}
			}
			for k, v := range tt.kept {
				if doc[k] != v {
					t.Errorf("got %s = %#v, want %#v", k, doc[k], v)
				}
			}
			if tt.r != nil {
				for _, secret := range []string{"hunter2", "s3cret", "1234", "Bearer abc", "reserved-name-secret", "ev-secret"} {
					if strings.Contains(string(b), secret) {
						t.Errorf("got %q in the document, want it redacted: %s", secret, b)
					}
				}
				if !strings.Contains(string(b), `"user.name":"ann"`) {
					t.Errorf("got no event attribute user.name in %s, want it kept", b)
				}
			}
		})
	}
}

func TestAppendSpanCorrelationID(t *testing.T) {
	tests := []struct {
		name string
		attr attribute.KeyValue
		want any // nil: no correlation.id field
	}{
		{"valid", attribute.String(CorrelationKey, "req-42"), "req-42"},
		{"with a space", attribute.String(CorrelationKey, "req 42"), nil},
		{"with a quote and newline", attribute.String(CorrelationKey, "a\"b\nc"), nil},
		{"empty", attribute.String(CorrelationKey, ""), nil},
		{"too long", attribute.String(CorrelationKey, strings.Repeat("a", 4096)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Append(nil, spanWith([]attribute.KeyValue{tt.attr}, nil), &log.Service{Name: "svc"}, log.NewRedactor())
			doc := decodeSpan(t, b)
			if doc["correlation.id"] != tt.want {
				t.Errorf("got correlation.id %#v, want %#v", doc["correlation.id"], tt.want)
			}
			if tt.want == nil {
				for k := range doc {
					if strings.Contains(k, "correlation") {
						t.Errorf("got field %s = %#v, want no correlation field for an invalid ID", k, doc[k])
					}
				}
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	s := stub()
	svc := &log.Service{Name: "checkout", Dataset: "checkout", Namespace: "default"}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = Append(buf[:0], s, svc, log.NewRedactor())
	}
}
