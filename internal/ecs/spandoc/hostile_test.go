package spandoc_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/internal/ecs/spandoc"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
)

// shippedServer is a strict Elasticsearch test server with the index
// templates glassbox ships installed.
func shippedServer(t testing.TB) *estest.Server {
	t.Helper()
	srv := estest.New(t)
	for _, tpl := range elasticsearch.Templates(0) {
		if err := srv.Put(tpl.Path, tpl.Body); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

const traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"

func span(start time.Time, attrs []attribute.KeyValue, events []sdktrace.Event) sdktrace.ReadOnlySpan {
	tid, _ := oteltrace.TraceIDFromHex(traceHex)
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	return tracetest.SpanStub{
		Name:        "op",
		SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid}),
		StartTime:   start, EndTime: start.Add(time.Millisecond),
		Attributes: attrs, Events: events,
	}.Snapshot()
}

var svc = &log.Service{Name: "svc", Dataset: "svc", Namespace: "default"}

func strs(kv ...string) []attribute.KeyValue {
	var out []attribute.KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, attribute.String(kv[i], kv[i+1]))
	}
	return out
}

// No span or span-event attribute key, and no start time, makes
// Elasticsearch reject the span's document under the shipped templates.
func TestHostileSpansAreStored(t *testing.T) {
	srv := shippedServer(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name   string
		start  time.Time
		attrs  []attribute.KeyValue
		events []sdktrace.Event
	}{
		{"empty and blank collide", now, strs("", "1", " ", "2"), nil},
		{"whitespace keys", now, strs("\t", "1", "\x1c", "2", "\u3000", "3"), nil},
		{"blank segment", now, strs("a. .b", "1"), nil},
		{"empty segment and its repair collide", now, strs("a..b", "1", "a._.b", "2"), nil},
		{"renamed reserved key and a literal", now, strs("trace.id", "1", "trace.id_2", "2", "attributes.trace.id", "3"), nil},
		{"metadata field and a literal", now, strs("_id", "1", "_id_2", "2", "attributes._id", "3"), nil},
		{"event attributes collide", now, nil, []sdktrace.Event{{Name: "e", Time: now,
			Attributes: strs("", "1", " ", "2", "a..b", "3", "a._.b", "4", "\t", "5")}}},
		{"start before 1970", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), strs("k", "v"), nil},
		{"start after 2262", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), strs("k", "v"), nil},
		{"event time after 2262", now, nil, []sdktrace.Event{{Name: "late", Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := spandoc.Append(nil, span(tc.start, tc.attrs, tc.events), svc, nil)
			if err := srv.Create("traces-hostile-default", doc); err != nil {
				t.Fatalf("document rejected: %v\n%s", err, doc)
			}
		})
	}
}

// A span starting at a time date_nanos cannot hold keeps its start in
// event.start; @timestamp is the time it was encoded.
func TestOutOfRangeStartKeptInEventStart(t *testing.T) {
	for _, start := range []time.Time{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		before := time.Now()
		var doc map[string]any
		if err := json.Unmarshal(spandoc.Append(nil, span(start, nil, nil), svc, nil), &doc); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, doc["@timestamp"].(string))
		if err != nil || ts.Before(before) || ts.After(time.Now()) {
			t.Errorf("start %v: got @timestamp %v, want the time of encoding", start, doc["@timestamp"])
		}
		if want := start.Format("2006-01-02T15:04:05.000000000Z"); doc["event.start"] != want || doc["trace.id"] != traceHex {
			t.Errorf("start %v: got event.start %v trace.id %v, want %s and the span's trace ID", start, doc["event.start"], doc["trace.id"], want)
		}
	}
}

// FuzzSpanDocument feeds hostile attribute keys (top level and in events)
// and start and event times; the strict test server must store every
// document under the shipped templates.
func FuzzSpanDocument(f *testing.F) {
	for _, k := range []string{"", " ", "\t", "\x1c", "a..b", "a._.b", "a. .b", ".", "trace.id", "trace.id_2",
		"attributes.trace.id", "_id", "@timestamp", "event.start", "span.events", "x\xff", "x\uFFFD"} {
		f.Add(k, k+"_2", "v", int64(1767225600), uint32(0))
	}
	for _, sec := range []int64{-1, -2208988800, 9223372037, 10413792000, -62135596800, 253402300800} {
		f.Add("k", " ", "v", sec, uint32(999999999))
	}
	srv := shippedServer(f)
	f.Fuzz(func(t *testing.T, k1, k2, value string, sec int64, nsec uint32) {
		at := time.Unix(sec, int64(nsec%1e9))
		attrs := []attribute.KeyValue{attribute.String(k1, value), attribute.String(k2, value),
			attribute.String(k1+" ", value), attribute.String(k1+".", value), attribute.Int(k2+"..", 1),
			attribute.String("correlation.id", value)}
		events := []sdktrace.Event{{Name: value, Time: at, Attributes: attrs}}
		doc := spandoc.Append(nil, span(at, attrs, events), svc, log.NewRedactor())
		if !json.Valid(doc) || bytes.ContainsAny(doc, "\n\r") {
			t.Fatalf("not one line of JSON: %q", doc)
		}
		if err := srv.Create("traces-fuzz-default", doc); err != nil {
			t.Fatalf("document rejected: %v\n%s", err, doc)
		}
	})
}

// One table of keys through the log handler and the span encoder: both
// make the same keys of them, at the top level and one level down.
func TestKeysAgreeWithLogs(t *testing.T) {
	keys := []string{"plain", "", " ", "\t", "\x1c", "\u00a0", "a..b", "a._.b", "a. .b", ".a", "a.", "..",
		"x", "x", "x_2", "q\"\\", "nl\n", "bad\xff", "bad\uFFFD", "http.request.method", "_private"}
	var logAttrs, groupAttrs []any
	var spanAttrs []attribute.KeyValue
	for i, k := range keys {
		logAttrs = append(logAttrs, k, i)
		groupAttrs = append(groupAttrs, slog.Int(k, i))
		spanAttrs = append(spanAttrs, attribute.Int(k, i))
	}
	var buf bytes.Buffer
	h := log.NewHandler(log.WithWriter(&buf), log.WithRedactor(nil))
	slog.New(h).Info("m", append(logAttrs, slog.Group("g", groupAttrs...))...)
	logDoc := buf.Bytes()
	spanDoc := spandoc.Append(nil, span(time.Now(), spanAttrs, []sdktrace.Event{{Name: "e", Attributes: spanAttrs}}), svc, nil)

	top := func(doc []byte, skip int) []string { return objectKeys(t, doc)[skip:][:len(keys)] }
	logTop, spanTop := top(logDoc, 4), top(spanDoc, len(objectKeys(t, spanDoc))-len(keys))
	if strings.Join(logTop, "|") != strings.Join(spanTop, "|") {
		t.Errorf("top level: log keys %q, span keys %q", logTop, spanTop)
	}
	var ld struct{ G json.RawMessage }
	var sd struct {
		Events []struct{ Attributes json.RawMessage } `json:"span.events"`
	}
	if json.Unmarshal(logDoc, &ld) != nil || json.Unmarshal(spanDoc, &sd) != nil || len(sd.Events) != 1 {
		t.Fatalf("documents:\n%s\n%s", logDoc, spanDoc)
	}
	if lg, se := objectKeys(t, ld.G), objectKeys(t, sd.Events[0].Attributes); strings.Join(lg, "|") != strings.Join(se, "|") {
		t.Errorf("nested: log group keys %q, span event keys %q", lg, se)
	}
}

// objectKeys returns the keys of the JSON object b in order, repeats
// included.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, b)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v in %s", err, b)
		}
	}
	return out
}

// Every top-level field of a span document other than the attributes is
// in ecs.SpanFields, so an attribute cannot repeat it.
func TestSpanWritesOnlyReservedFields(t *testing.T) {
	reserved := map[string]bool{}
	for _, k := range ecs.SpanFields() {
		reserved[k] = true
	}
	tid, _ := oteltrace.TraceIDFromHex(traceHex)
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	start := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	s := tracetest.SpanStub{
		Name:        "op",
		SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid}),
		Parent:      oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true}),
		StartTime:   start, EndTime: start.Add(time.Second),
		Attributes: strs("correlation.id", "c-1"),
		Events: []sdktrace.Event{{Name: "exception", Time: start, Attributes: strs("exception.type", "T",
			"exception.message", "M", "exception.stacktrace", "S")}},
		Links:                []sdktrace.Link{{SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid})}},
		Status:               sdktrace.Status{Code: codes.Error, Description: "d"},
		InstrumentationScope: instrumentation.Scope{Name: "n", Version: "v"},
	}.Snapshot()
	var doc map[string]any
	if err := json.Unmarshal(spandoc.Append(nil, s, &log.Service{Name: "s", Version: "v", Environment: "e", HostName: "h", Dataset: "d", Namespace: "n"}, nil), &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		if !reserved[k] {
			t.Errorf("span documents have %q, which ecs.SpanFields lacks", k)
		}
	}
	if len(doc) != len(reserved) {
		t.Errorf("got %d top-level fields, want all %d of ecs.SpanFields: %v", len(doc), len(reserved), doc)
	}
}
