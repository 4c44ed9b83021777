package log_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
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

// docSink keeps a copy of every document.
type docSink struct {
	mu   sync.Mutex
	docs [][]byte
}

func (s *docSink) Write(_ context.Context, e *gblog.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs = append(s.docs, append([]byte(nil), e.Doc...))
	return nil
}

func (s *docSink) Shutdown(context.Context) error { return nil }

func (s *docSink) last(t testing.TB) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.docs) == 0 {
		t.Fatal("no document written")
	}
	return s.docs[len(s.docs)-1]
}

type blankTag struct {
	A int `json:" "`
	B int `json:"\t"`
}

// dupKeys marshals to an object that repeats a key.
type dupKeys struct{}

func (dupKeys) MarshalJSON() ([]byte, error) { return []byte(`{"a":1,"a":2,"":{"":3}}`), nil }

// No key a record can carry makes Elasticsearch reject its document under
// the shipped templates, at any depth.
func TestHostileKeysAreStored(t *testing.T) {
	srv := shippedServer(t)
	cases := []struct {
		name  string
		attrs []any
	}{
		{"space", []any{" ", 1}},
		{"tab", []any{"\t", 1}},
		{"Java whitespace U+001C", []any{"\x1c", 1}},
		{"ideographic space", []any{"\u3000", 1}},
		{"blank segment", []any{"a. .b", 1}},
		{"empty and blank collide", []any{"", 1, " ", 2, "\t", 3}},
		{"empty segment and its repair collide", []any{"a..b", 1, "a._.b", 2}},
		{"blank key in a group", []any{slog.Group("g", " ", 1, "", 2)}},
		{"empty key inside a map", []any{"mp", map[string]int{"": 1}}},
		{"blank keys inside a map collide", []any{"mp", map[string]int{"": 1, " ": 2, "\t": 3}}},
		{"nested map", []any{"mp", map[string]any{"a. .b": map[string]int{"": 1}}}},
		{"map keys equal once decoded", []any{"mp", map[string]int{"x\xff": 1, "x\xfe": 2, "x\uFFFD": 3}}},
		{"blank struct tags", []any{"st", blankTag{1, 2}}},
		{"MarshalJSON repeating a key", []any{"mj", dupKeys{}}},
		{"maps in a slice", []any{"l", []map[string]int{{"": 1, " ": 2}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &docSink{}
			slog.New(gblog.NewHandler(gblog.WithSink(sink))).Info("hostile", tc.attrs...)
			doc := sink.last(t)
			if err := srv.Create("logs-hostile-default", doc); err != nil {
				t.Fatalf("document rejected: %v\n%s", err, doc)
			}
		})
	}
}

// A record whose time date_nanos cannot hold is stored, with a valid
// @timestamp (the time it was handled), its IDs, and its own time in
// event.start.
func TestOutOfRangeTimesAreStored(t *testing.T) {
	srv := shippedServer(t)
	ctx := trace.WithCorrelationID(spanCtx(), "req-time-1")
	for _, rt := range []time.Time{
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775808, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(rt.Format(time.RFC3339Nano), func(t *testing.T) {
			sink := &docSink{}
			h := gblog.NewHandler(gblog.WithSink(sink))
			before := time.Now()
			if err := h.Handle(ctx, slog.NewRecord(rt, slog.LevelInfo, "from another time", 0)); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			raw := sink.last(t)
			if err := srv.Create("logs-times-default", raw); err != nil {
				t.Fatalf("document rejected: %v\n%s", err, raw)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			ts, err := time.Parse(time.RFC3339Nano, doc["@timestamp"].(string))
			if err != nil || ts.Before(before) || ts.After(after) {
				t.Errorf("got @timestamp %v, want the time the record was handled", doc["@timestamp"])
			}
			if want := rt.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"); doc["event.start"] != want {
				t.Errorf("got event.start %v, want the record's time %s", doc["event.start"], want)
			}
			if doc["correlation.id"] != "req-time-1" || doc["trace.id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("got correlation.id %v trace.id %v, want the context's", doc["correlation.id"], doc["trace.id"])
			}
		})
	}
	// A record time in range is @timestamp itself, and no event.start.
	sink := &docSink{}
	rt := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	_ = gblog.NewHandler(gblog.WithSink(sink)).Handle(ctx, slog.NewRecord(rt, slog.LevelInfo, "now", 0))
	var doc map[string]any
	_ = json.Unmarshal(sink.last(t), &doc)
	if doc["@timestamp"] != "2026-01-02T03:04:05.000000006Z" || doc["event.start"] != nil {
		t.Errorf("in range: got @timestamp %v event.start %v, want the record's time and no event.start", doc["@timestamp"], doc["event.start"])
	}
}
