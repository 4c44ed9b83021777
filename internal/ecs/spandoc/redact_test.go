package spandoc

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/log"
)

// TestRedactedAgreesWithAppend: one table of attribute keys through the
// span document (Append) and the span an OTLP exporter sends (Redacted):
// the same keys carry log.Redacted, at the top, in events and (OTLP only
// writes them) in links; the other values are untouched, and the span
// given is never changed.
func TestRedactedAgreesWithAppend(t *testing.T) {
	keys := []string{"password", "db.user.password", "apiKey", "userToken", "http.request.header.authorization",
		"http.request.header.cookie", "_token", "session_id", "passwords", "tokenizer", "http.request.method", "user.name"}
	var attrs []attribute.KeyValue
	for _, k := range keys {
		attrs = append(attrs, attribute.String(k, "v-"+k))
	}
	events := []sdktrace.Event{{Name: "e", Attributes: attrs}}
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: [16]byte{1}, SpanID: [8]byte{2}})
	span := tracetest.SpanStub{Name: "s", SpanContext: sc, Attributes: attrs, Events: events,
		Links: []sdktrace.Link{{SpanContext: sc, Attributes: attrs}}}.Snapshot()
	r := log.NewRedactor("user.name")

	doc := decodeSpan(t, Append(nil, span, &log.Service{Name: "svc"}, r))
	got, ok := Redacted(span, r)
	if !ok {
		t.Fatal("Redacted reports no change")
	}
	evDoc := doc["span.events"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
	for i, k := range keys {
		want := "v-" + k
		if r.Match(k) {
			want = log.Redacted
		}
		if doc[k] != want || evDoc[k] != want {
			t.Errorf("%s: document has %v, event %v; want %q", k, doc[k], evDoc[k], want)
		}
		for where, kv := range map[string]attribute.KeyValue{"span": got.Attributes()[i],
			"event": got.Events()[0].Attributes[i], "link": got.Links()[0].Attributes[i]} {
			if string(kv.Key) != k || kv.Value.AsString() != want {
				t.Errorf("%s: Redacted's %s attribute is %s=%q, want %q", k, where, kv.Key, kv.Value.AsString(), want)
			}
		}
		if span.Attributes()[i].Value.AsString() != "v-"+k || span.Events()[0].Attributes[i].Value.AsString() != "v-"+k {
			t.Errorf("%s: Redacted changed the span it was given", k)
		}
	}
	if got.Name() != "s" || !got.SpanContext().Equal(sc) {
		t.Errorf("got name %q context %v, want the span's", got.Name(), got.SpanContext())
	}

	plain := spanWith([]attribute.KeyValue{attribute.String("order.id", "o-1")}, nil)
	p, changed := Redacted(plain, r)
	_, copied := p.(*redactedSpan)
	n, changedNil := Redacted(span, nil)
	_, copiedNil := n.(*redactedSpan)
	if changed || copied || changedNil || copiedNil {
		t.Error("a span without a matching key, or a nil redactor, got a copy; want the span itself")
	}
}

// BenchmarkRedacted: what the OTLP span exporter pays per span, for a
// server span's usual attributes without a secret (no copy) and with one.
func BenchmarkRedacted(b *testing.B) {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"), attribute.String("url.path", "/orders/42"),
		attribute.String("url.scheme", "http"), attribute.String("http.route", "/orders/{id}"),
		attribute.Int("http.response.status_code", 200), attribute.String("server.address", "checkout"),
		attribute.Int("server.port", 8080), attribute.String("user_agent.original", "curl/8"),
		attribute.String("client.address", "10.0.0.1"), attribute.String("correlation.id", "4bf92f3577b34da6a3ce929d0e0e4736"),
	}
	r := log.NewRedactor()
	for _, tt := range []struct {
		name  string
		attrs []attribute.KeyValue
	}{{"no secret", attrs}, {"one secret", append(attrs[:9:9], attribute.String("user.password", "x"))}} {
		span := spanWith(tt.attrs, nil)
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Redacted(span, r)
			}
		})
	}
}
