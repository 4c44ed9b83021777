package logtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestRecordAccessors(t *testing.T) {
	logger, rec := NewLogger(log.WithService(log.Service{Name: "checkout", Environment: "test"}), log.WithLevel(slog.LevelDebug))
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("t").Start(trace.WithCorrelationID(context.Background(), "req-7"), "op")
	logger.WarnContext(ctx, "card declined",
		"attempt", 2, "ok", false, "message", "a user attribute named message",
		slog.Group("card", "brand", "visa", "token", "secret"),
		"err", errors.New("insufficient funds"))
	span.End()

	if got := rec.Len(); got != 1 {
		t.Fatalf("Len: got %d, want 1", got)
	}
	r := rec.Records()[0]
	if r.Level != slog.LevelWarn || r.Message != "card declined" {
		t.Errorf("level, message: got %v %q, want WARN %q", r.Level, r.Message, "card declined")
	}
	if r.CorrelationID != "req-7" || r.TraceID != span.SpanContext().TraceID().String() || r.SpanID != span.SpanContext().SpanID().String() {
		t.Errorf("IDs: got %q %q %q, want req-7 and the span's", r.CorrelationID, r.TraceID, r.SpanID)
	}
	if r.Time.IsZero() {
		t.Error("Time: got zero, want the record's time")
	}
	for _, tt := range []struct {
		key  string
		want any
	}{
		{"attempt", 2.0},
		{"ok", false},
		{"card.brand", "visa"},
		{"card.token", log.Redacted},
		{"error.message", "insufficient funds"},
		{"correlation.id", "req-7"},
		{"service.name", "checkout"},
		{"message", "card declined"},
		{"message_2", "a user attribute named message"},
	} {
		if got, ok := r.Attr(tt.key); !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Attr(%q): got %v, %v; want %v", tt.key, got, ok, tt.want)
		}
	}
	for _, missing := range []string{"nope", "card.cvv", "attempt.x", ""} {
		if v, ok := r.Attr(missing); ok {
			t.Errorf("Attr(%q): got %v, want none", missing, v)
		}
	}

	attrs := r.Attrs()
	for _, k := range []string{"attempt", "ok", "card", "message_2", "error.message", "error.type"} {
		if _, ok := attrs[k]; !ok {
			t.Errorf("Attrs: no %q in %v", k, attrs)
		}
	}
	for _, k := range []string{"@timestamp", "log.level", "message", "service.name", "correlation.id", "trace.id", "span.id", "ecs.version"} {
		if _, ok := attrs[k]; ok {
			t.Errorf("Attrs: got the handler's field %q, want only the record's attributes", k)
		}
	}
	if string(r.JSON[len(r.JSON)-1]) != "}" {
		t.Errorf("JSON: got %q, want the document without its newline", r.JSON)
	}
}

func TestFiltersAndTakeAll(t *testing.T) {
	logger, rec := NewLogger()
	a := trace.WithCorrelationID(context.Background(), "a")
	b := trace.WithCorrelationID(context.Background(), "b")
	logger.InfoContext(a, "one")
	logger.InfoContext(b, "two")
	logger.InfoContext(a, "two")
	logger.Debug("below the level") // the handler's default level is info

	if got := messages(rec.FilterCorrelationID("a")); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("FilterCorrelationID(a): got %v, want [one two]", got)
	}
	if got := len(rec.FilterMessage("two")); got != 2 {
		t.Errorf("FilterMessage(two): got %d records, want 2", got)
	}
	if got := messages(rec.TakeAll()); !reflect.DeepEqual(got, []string{"one", "two", "two"}) {
		t.Errorf("TakeAll: got %v, want [one two two]", got)
	}
	if got := rec.Len(); got != 0 {
		t.Errorf("Len after TakeAll: got %d, want 0", got)
	}
	logger.Info("three")
	if got := messages(rec.Records()); !reflect.DeepEqual(got, []string{"three"}) {
		t.Errorf("Records after TakeAll: got %v, want [three]", got)
	}
}

// TestConcurrentUse logs from many goroutines while others read: every
// record is kept once (run with -race).
func TestConcurrentUse(t *testing.T) {
	logger, rec := NewLogger()
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				logger.Info("msg", "w", w, "i", i)
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				_ = rec.Len()
				_ = rec.FilterMessage("msg")
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range rec.Records() {
		w, _ := r.Attr("w")
		i, _ := r.Attr("i")
		seen[fmt.Sprint(w, "/", i)] = true
	}
	if len(seen) != writers*each || rec.Len() != writers*each {
		t.Errorf("got %d distinct of %d records, want %d", len(seen), rec.Len(), writers*each)
	}
}

// TestRecordsAreCopies: the handler reuses its buffer after Write; what
// the Recorder returned earlier does not change, and callers own the
// slices of records they get.
func TestRecordsAreCopies(t *testing.T) {
	logger, rec := NewLogger()
	logger.Info("first", "k", "v1")
	before := rec.Records()
	js := string(before[0].JSON)
	logger.Info("second", "k", "v2")
	if string(before[0].JSON) != js {
		t.Errorf("first record changed after a second write: %q, then %q", js, before[0].JSON)
	}
	before[0].Message = "changed by the caller"
	if got := rec.Records()[0].Message; got != "first" {
		t.Errorf("Records()[0].Message: got %q, want first", got)
	}
}

func TestWriteRejectsANonObject(t *testing.T) {
	var rec Recorder // the zero value is ready to use
	if err := rec.Write(context.Background(), &log.Entry{Doc: []byte("not json\n")}); err == nil {
		t.Error("Write: got nil, want an error for a document that is not a JSON object")
	}
	if err := rec.Write(context.Background(), nil); err != nil || rec.Len() != 0 {
		t.Errorf("Write(nil): got %v and %d records, want nil and none", err, rec.Len())
	}
}

func messages(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Message)
	}
	return out
}
