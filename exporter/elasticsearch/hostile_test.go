package elasticsearch_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// Records and spans with keys and times Elasticsearch would reject as
// they are all reach Elasticsearch through the real client: nothing
// dead-lettered, nothing repaired (the encoders made them safe), every
// document found by its correlation or trace ID, the out-of-range times
// kept in event.start.
func TestHostileRecordsAndSpansAreAllStored(t *testing.T) {
	tg := newTarget(t)
	exp := tg.exporter(t, elasticsearch.WithTemplates())
	h := log.NewHandler(log.WithSink(exp.LogSink()), log.WithService(tg.service))
	tid, _ := oteltrace.TraceIDFromHex("5bf92f3577b34da6a3ce929d0e0e4737")
	sid, _ := oteltrace.SpanIDFromHex("10f067aa0ba902b8")
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid})
	ctx := trace.WithCorrelationID(oteltrace.ContextWithSpanContext(context.Background(), sc), "req-hostile-1")

	old, late := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	records := []slog.Record{
		slog.NewRecord(time.Now(), slog.LevelInfo, "keys", 0),
		slog.NewRecord(old, slog.LevelInfo, "old", 0),
		slog.NewRecord(late, slog.LevelInfo, "late", 0),
		slog.NewRecord(time.Time{}, slog.LevelInfo, "untimed", 0),
	}
	records[0].AddAttrs(slog.Int(" ", 1), slog.Int("\t", 2), slog.Int("", 3), slog.Int("a. .b", 4),
		slog.Int("a..b", 5), slog.Int("a._.b", 6), slog.Int("_id", 7), slog.Int("message", 8),
		slog.Any("mp", map[string]any{"": 1, " ": map[string]int{"\t": 2}}), slog.Group("g", slog.Int(" ", 9)))
	for _, r := range records {
		if err := h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	spans := tracetest.SpanStubs{{
		Name: "hostile", SpanContext: sc, StartTime: late, EndTime: late.Add(time.Second),
		Attributes: []attribute.KeyValue{attribute.Int("", 1), attribute.Int(" ", 2), attribute.Int("trace.id", 3),
			attribute.Int("trace.id_2", 4), attribute.Int("attributes.trace.id", 5), attribute.Int("_id", 6)},
		Events: []sdktrace.Event{{Name: "e", Time: old, Attributes: []attribute.KeyValue{attribute.Int("", 1), attribute.Int(" ", 2)}}},
	}}.Snapshots()
	if err := exp.SpanExporter().ExportSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	flush(t, exp)

	s := exp.Stats()
	if s.Delivered != 5 || s.DeadLettered != 0 || s.Repaired != 0 {
		t.Fatalf("got delivered %d dead-lettered %d repaired %d, want 5, 0, 0 (stats %+v)", s.Delivered, s.DeadLettered, s.Repaired, s)
	}
	n, docs := tg.search(t, exp.LogsDataStream(), `{"term":{"correlation.id":"req-hostile-1"}}`)
	if n != len(records) {
		t.Fatalf("got %d log documents by correlation.id, want %d", n, len(records))
	}
	starts := map[any]any{}
	for _, d := range docs {
		starts[d["message"]] = d["event.start"]
	}
	for msg, want := range map[string]any{"old": "1900-01-01T00:00:00.000000000Z", "late": "2300-01-01T00:00:00.000000000Z", "keys": nil, "untimed": nil} {
		if starts[msg] != want {
			t.Errorf("record %q: got event.start %v, want %v", msg, starts[msg], want)
		}
	}
	if n, _ := tg.search(t, exp.LogsDataStream(), `{"term":{"trace.id":"5bf92f3577b34da6a3ce929d0e0e4737"}}`); n != len(records) {
		t.Errorf("got %d log documents by trace.id, want %d", n, len(records))
	}
	n, docs = tg.search(t, exp.TracesDataStream(), `{"term":{"trace.id":"5bf92f3577b34da6a3ce929d0e0e4737"}}`)
	if n != 1 || docs[0]["event.start"] != "2300-01-01T00:00:00.000000000Z" || fmt.Sprint(docs[0]["trace.id_2"]) != "3" {
		t.Errorf("got %d span documents %v, want 1 with event.start and the attribute trace.id as trace.id_2", n, docs)
	}
}
