package elasticsearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestLogDocumentsMatchSchema(t *testing.T) {
	tg := newTarget(t)
	exp := tg.exporter(t, elasticsearch.WithTemplates())
	h := log.NewHandler(log.WithSink(exp.LogSink()), log.WithService(tg.service))
	logger := slog.New(h)
	ctx := trace.WithCorrelationID(context.Background(), "req-schema-1")
	logger.InfoContext(ctx, "hello", "http.request.method", "GET", "url.path", "/a", "http.response.status_code", 200)
	// A record with no time still ships with @timestamp: the time it was
	// handled (see log.Entry).
	rec := slog.NewRecord(time.Time{}, slog.LevelWarn, "no time", 0)
	if err := h.Handle(ctx, rec); err != nil {
		t.Fatal(err)
	}
	flush(t, exp)

	ds := exp.LogsDataStream()
	if want := "logs-glassbox_test-" + tg.service.Namespace; ds != want {
		t.Fatalf("got data stream %q, want %q", ds, want)
	}
	n, docs := tg.search(t, ds, `{"term":{"correlation.id":"req-schema-1"}}`)
	if n != 2 {
		t.Fatalf("got %d documents for correlation.id, want 2 (stats %+v)", n, exp.Stats())
	}
	for _, d := range docs {
		for _, f := range []string{"@timestamp", "ecs.version", "service.name", "service.version", "service.environment", "host.name", "event.dataset", "data_stream.type", "data_stream.dataset", "data_stream.namespace", "correlation.id", "log.level", "message"} {
			if _, ok := d[f]; !ok {
				t.Errorf("document %v: missing %s", d["message"], f)
			}
		}
		if got := d["data_stream.type"]; got != "logs" {
			t.Errorf("got data_stream.type %v, want logs", got)
		}
		if !strings.HasPrefix(d["_index"].(string), ".ds-"+ds+"-") {
			t.Errorf("got backing index %v, want one of data stream %s", d["_index"], ds)
		}
		tsv, _ := d["@timestamp"].(string)
		if _, err := time.Parse(time.RFC3339Nano, tsv); err != nil || len(tsv) != len("2006-01-02T15:04:05.000000000Z") {
			t.Errorf("got @timestamp %q, want RFC 3339 with nanoseconds", tsv)
		}
		if d["message"] == "hello" && d["http.request.method"] != "GET" {
			t.Errorf("got http.request.method %v, want GET", d["http.request.method"])
		}
	}
	if n, _ := tg.search(t, ds, `{"term":{"http.response.status_code":200}}`); n != 1 {
		t.Errorf("got %d hits for http.response.status_code:200, want 1", n)
	}
	if s := exp.Stats(); s.Produced != 2 || s.Delivered != 2 {
		t.Errorf("got produced %d delivered %d, want 2 and 2", s.Produced, s.Delivered)
	}
}

func TestSpanDocumentsMatchSchema(t *testing.T) {
	tg := newTarget(t)
	exp := tg.exporter(t, elasticsearch.WithTemplates())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp.SpanExporter()))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
	_, child := tp.Tracer("test").Start(ctx, "GET /orders", oteltrace.WithSpanKind(oteltrace.SpanKindClient),
		oteltrace.WithAttributes(attribute.String("correlation.id", "req-span-1"), attribute.String("http.request.method", "GET"),
			attribute.Int("http.response.status_code", 503), attribute.String("span.name", "user attribute with a reserved name")))
	child.RecordError(errors.New("upstream down"))
	child.SetStatus(codes.Error, "upstream down")
	child.End()
	parent.End()
	flush(t, exp)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	ds := exp.TracesDataStream()
	traceID := child.SpanContext().TraceID().String()
	n, docs := tg.search(t, ds, fmt.Sprintf(`{"term":{"trace.id":%q}}`, traceID))
	if n != 2 {
		t.Fatalf("got %d span documents, want 2 (stats %+v)", n, exp.Stats())
	}
	var c map[string]any
	for _, d := range docs {
		if d["span.id"] == child.SpanContext().SpanID().String() {
			c = d
		}
	}
	if c == nil {
		t.Fatalf("child span not found in %v", docs)
	}
	want := map[string]any{
		"span.name": "GET /orders", "span.kind": "client", "event.outcome": "failure",
		"parent.id": parent.SpanContext().SpanID().String(), "correlation.id": "req-span-1",
		"http.request.method": "GET", "error.message": "upstream down", "data_stream.type": "traces",
		"service.name": "glassbox-test", "span.name_2": "user attribute with a reserved name",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("got %s = %v, want %v", k, c[k], v)
		}
	}
	if _, ok := c["event.duration"].(float64); !ok {
		t.Errorf("got event.duration %v, want a number", c["event.duration"])
	}
	// Exporting the same span again stores nothing new: its _id is derived
	// from the trace and span IDs.
	exp.SpanExporter().ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{child.(sdktrace.ReadOnlySpan)})
	flush(t, exp)
	if s := exp.Stats(); s.Duplicates != 1 {
		t.Errorf("got %d duplicates after re-export, want 1", s.Duplicates)
	}
	if n, _ := tg.search(t, ds, fmt.Sprintf(`{"term":{"trace.id":%q}}`, traceID)); n != 2 {
		t.Errorf("got %d span documents after re-export, want 2", n)
	}
}

// conflictDocs are the classic mapping conflicts: a name that is a string
// in one record and an object prefix in the next, a field whose type
// changes, objects under names that were values, wrong types under ECS
// names, and a lot of distinct keys.
func conflictDocs() []string {
	docs := []string{
		`{"@timestamp":` + ts(1) + `,"message":"a","http":"x"}`,
		`{"@timestamp":` + ts(2) + `,"message":"b","http.request.method":"GET"}`,
		`{"@timestamp":` + ts(3) + `,"message":"c","http":"y","http.request.method":"POST"}`,
		`{"@timestamp":` + ts(4) + `,"message":"d","n":1}`,
		`{"@timestamp":` + ts(5) + `,"message":"e","n":"abc"}`,
		`{"@timestamp":` + ts(6) + `,"message":"f","n":{"deep":true}}`,
		`{"@timestamp":` + ts(7) + `,"message":"g","n":2.5}`,
		`{"@timestamp":` + ts(8) + `,"message":"h","flag":true}`,
		`{"@timestamp":` + ts(9) + `,"message":"i","flag":"maybe"}`,
		`{"@timestamp":` + ts(10) + `,"message":"j","user":{"id":7,"name":"x"}}`,
		`{"@timestamp":` + ts(11) + `,"message":"k","user":"plain"}`,
		`{"@timestamp":` + ts(12) + `,"message":"l","user.id":"seven"}`,
		`{"@timestamp":` + ts(13) + `,"message":"m","http.response.status_code":"not-a-number"}`,
		`{"@timestamp":` + ts(14) + `,"message":"n","when":"2026-01-02T03:04:05Z"}`,
		`{"@timestamp":` + ts(15) + `,"message":"o","when":"yesterday"}`,
		`{"@timestamp":` + ts(16) + `,"message":"p","list":[1,"two",{"three":3}]}`,
		`{"@timestamp":` + ts(18) + `,"message":"q","_id":"mongo-1","user":{"_id":"nested is fine"},"_index":"x"}`,
	}
	var wide strings.Builder
	wide.WriteString(`{"@timestamp":` + ts(17) + `,"message":"wide"`)
	for i := 0; i < 1200; i++ {
		fmt.Fprintf(&wide, `,"k%d":%d`, i, i)
	}
	wide.WriteString("}")
	return append(docs, wide.String())
}

func TestMappingConflictsAreAllStored(t *testing.T) {
	tg := newTarget(t)
	dl := t.TempDir() + "/dl.ndjson"
	exp := tg.exporter(t, elasticsearch.WithTemplates(), elasticsearch.WithDeadLetterFile(dl), elasticsearch.WithFlushBytes(1))
	sink := exp.LogSink()
	docs := conflictDocs()
	for _, d := range docs {
		writeDoc(t, sink, d)
		flush(t, exp) // one per request: the mapping evolves between them
	}
	s := exp.Stats()
	if s.DeadLettered != 0 || s.Delivered != int64(len(docs)) {
		t.Fatalf("got delivered %d dead-lettered %d, want %d and 0; dead letters: %v", s.Delivered, s.DeadLettered, len(docs), readDeadLetters(t, dl))
	}
	n, _ := tg.search(t, exp.LogsDataStream(), "")
	if n != len(docs) {
		t.Fatalf("got %d documents, want %d", n, len(docs))
	}
	if s.Repaired != 1 {
		t.Errorf("got %d repaired, want 1 (the top-level _id and _index)", s.Repaired)
	}
	// Stored and searchable as keywords, whatever the first value's type.
	for _, q := range []struct{ field, value string }{
		{"_id_2", `"mongo-1"`}, {"_index_2", `"x"`}, {"user._id", `"nested is fine"`},
		{"n", `"abc"`}, {"n", `"1"`}, {"http", `"x"`}, {"http.request.method", `"POST"`},
		{"flag", `"maybe"`}, {"user.id", `"seven"`}, {"user.id", `"7"`}, {"when", `"yesterday"`}, {"n.deep", `"true"`},
	} {
		if n, _ := tg.search(t, exp.LogsDataStream(), fmt.Sprintf(`{"term":{%q:%s}}`, q.field, q.value)); n != 1 {
			t.Errorf("term %s:%s: got %d hits, want 1", q.field, q.value, n)
		}
	}
}

func TestMappingConflictsRejectedWithoutTemplates(t *testing.T) {
	// The same documents into a data stream whose template has none of
	// glassbox's protections (like Elasticsearch's built-in logs template):
	// the conflicts are rejected with 400s, which proves the test above
	// would catch a template without them. The rejected documents go to the
	// dead-letter file, never retried.
	tg := newTarget(t)
	dl := t.TempDir() + "/dl.ndjson"
	exp := tg.exporter(t, elasticsearch.WithDeadLetterFile(dl), elasticsearch.WithFlushBytes(1))
	// A template for this test's data stream only, shaped like the built-in
	// logs template (on a real cluster the glassbox templates may already
	// be installed and would otherwise apply).
	name := "glassbox-test-plain-" + tg.service.Namespace
	plain := `{"index_patterns":["` + exp.LogsDataStream() + `"],"priority":500,"data_stream":{},` +
		`"template":{"settings":{"index.mapping.total_fields.limit":1000},"mappings":{"date_detection":false,"properties":{"@timestamp":{"type":"date"},"message":{"type":"match_only_text"}}}}}`
	if status := tg.put(t, "/_index_template/"+name, plain); status != 200 {
		t.Fatalf("PUT %s: HTTP %d", name, status)
	}
	t.Cleanup(func() { tg.delete(t, "/_index_template/"+name) })
	sink := exp.LogSink()
	docs := conflictDocs()
	for _, d := range docs {
		writeDoc(t, sink, d)
		flush(t, exp)
	}
	s := exp.Stats()
	letters := readDeadLetters(t, dl)
	if s.DeadLettered < 4 || int(s.DeadLettered) != len(letters) {
		t.Fatalf("got %d dead-lettered (%d in file), want at least 4 and equal", s.DeadLettered, len(letters))
	}
	if s.Delivered+s.DeadLettered != int64(len(docs)) || s.Retried != 0 {
		t.Fatalf("got delivered %d + dead-lettered %d (retried %d), want %d and no retries", s.Delivered, s.DeadLettered, s.Retried, len(docs))
	}
	for _, l := range letters {
		status, _ := l["status"].(float64)
		e, _ := l["error"].(map[string]any)
		typ, _ := e["type"].(string)
		if status != 400 || (typ != "document_parsing_exception" && typ != "mapper_parsing_exception") {
			t.Errorf("got dead letter status %v type %q, want 400 document_parsing_exception", status, typ)
		}
		if _, ok := l["document"].(map[string]any); !ok {
			t.Errorf("dead letter has no document: %v", l)
		}
		if a, _ := l["action"].(map[string]any); a["create"] == nil {
			t.Errorf("dead letter has no create action: %v", l)
		}
	}
}

func TestTemplatesInstallIdempotently(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	week := 7 * 24 * time.Hour
	for i, want := range []elasticsearch.TemplateAction{elasticsearch.TemplateCreated, elasticsearch.TemplateUnchanged} {
		res, err := tg.client.InstallTemplates(ctx, elasticsearch.InstallOptions{Retention: week})
		if err != nil {
			t.Fatalf("install %d: %v", i+1, err)
		}
		if len(res) != len(elasticsearch.Templates(week)) {
			t.Fatalf("install %d: got %d results, want one per template", i+1, len(res))
		}
		for _, r := range res {
			// On a real cluster an earlier run may have installed them.
			if r.Action != want && !(tg.srv == nil && r.Action == elasticsearch.TemplateUnchanged) {
				t.Errorf("install %d: %s %s: got %v, want %v", i+1, r.Kind, r.Name, r.Action, want)
			}
		}
	}
	for _, tpl := range elasticsearch.Templates(week) {
		res, err := tg.client.Perform(mustRequest(t, "GET", "/"+tpl.Path))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: got HTTP %d, want 200", tpl.Path, res.StatusCode)
		}
	}
	if !strings.Contains(string(elasticsearch.Templates(week)[0].Body), `"min_age":"7d"`) {
		t.Errorf("ILM policy does not delete after the retention: %s", elasticsearch.Templates(week)[0].Body)
	}
	if tg.srv != nil {
		before := tg.srv.Requests()
		if _, err := tg.client.InstallTemplates(ctx, elasticsearch.InstallOptions{Retention: week}); err != nil {
			t.Fatal(err)
		}
		// GET / plus one GET per object, no PUT.
		if got, want := tg.srv.Requests()-before, int64(1+len(elasticsearch.Templates(0))); got != want {
			t.Errorf("re-install made %d requests, want %d (no PUTs)", got, want)
		}
	}
}

func TestSpanDocumentsRedactedAndCorrelationValidated(t *testing.T) {
	tests := []struct {
		name     string
		opts     []elasticsearch.Option
		redacted []string
		kept     map[string]any
	}{
		{"default redactor", nil, []string{"password", "auth.token"}, map[string]any{"order.id": "o-1"}},
		{"WithRedactor", []elasticsearch.Option{elasticsearch.WithRedactor(log.NewRedactor("order.id"))},
			[]string{"password", "auth.token", "order.id"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := estest.New(t)
			exp := faultExporter(t, srv, tt.opts...)
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp.SpanExporter()))
			_, sp := tp.Tracer("test").Start(context.Background(), "login", oteltrace.WithAttributes(
				attribute.String("password", "hunter2"), attribute.String("auth.token", "tok-123"),
				attribute.String("order.id", "o-1"), attribute.String("correlation.id", "bad id\n{injected}")))
			sp.End()
			flush(t, exp)
			if err := tp.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			docs := srv.Docs(exp.TracesDataStream())
			if len(docs) != 1 {
				t.Fatalf("got %d span documents, want 1 (stats %+v)", len(docs), exp.Stats())
			}
			src := string(docs[0].Source)
			for _, secret := range []string{"hunter2", "tok-123", "injected"} {
				if strings.Contains(src, secret) {
					t.Errorf("got %q stored in %s, want it left out", secret, src)
				}
			}
			var doc map[string]any
			if err := json.Unmarshal(docs[0].Source, &doc); err != nil {
				t.Fatal(err)
			}
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
			if v, ok := doc["correlation.id"]; ok {
				t.Errorf("got correlation.id %#v for an invalid ID, want none", v)
			}
		})
	}
}
