package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// syncBuffer is the log output of a fixture: safe for concurrent use, and
// it signals when a text was written (see written).
// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer = testutil.Buffer

// fixture captures the spans and log records of the middleware under test.
type fixture struct {
	exp    *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	logs   *syncBuffer
	logger *slog.Logger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logs := &syncBuffer{}
	logger := slog.New(log.NewHandler(log.WithWriter(logs), log.WithLevel(slog.LevelDebug)))
	return &fixture{exp: exp, tp: tp, logs: logs, logger: logger}
}

func (f *fixture) opts(extra ...middleware.Option) []middleware.Option {
	return append([]middleware.Option{
		middleware.WithTracerProvider(f.tp),
		middleware.WithLogger(f.logger),
	}, extra...)
}

// records returns the decoded log records.
func (f *fixture) records(t *testing.T) []map[string]any {
	t.Helper()
	return testutil.JSONLines(t, f.logs.String())
}

// record returns the only record with the given message.
func (f *fixture) record(t *testing.T, msg string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range f.records(t) {
		if r["message"] == msg {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d records with message %q, want 1; logs:\n%s", len(found), msg, f.logs.String())
	}
	return found[0]
}

func (f *fixture) span(t *testing.T) tracetest.SpanStub {
	t.Helper()
	spans := f.exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	return spans[0]
}

func attrOf(attrs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// checkClean fails when s holds a value no log line or attribute may carry.
func checkClean(t *testing.T, where, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", where, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			t.Errorf("%s: control character %U in %q", where, r, trunc(s))
			return
		}
	}
	if len(s) > 8192 {
		t.Errorf("%s: value of %d bytes, want it capped", where, len(s))
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// checkAllClean checks every string in every record and span attribute.
func (f *fixture) checkAllClean(t *testing.T, hostile ...string) {
	t.Helper()
	raw := f.logs.String()
	for _, h := range hostile {
		if len(h) > 16 && strings.Contains(raw, h) {
			t.Errorf("hostile value %q appears raw in the logs", trunc(h))
		}
	}
	for i, r := range f.records(t) {
		walk(r, func(k string, v string) {
			if k != "error.stack_trace" { // program-made, multi-line by nature
				checkClean(t, "log record "+string(rune('0'+i))+" field "+k, v)
			}
			if k != "error.stack_trace" && len(v) > 4096 {
				t.Errorf("log field %s has %d bytes, want at most 4096", k, len(v))
			}
			for _, h := range hostile {
				if len(h) > 16 && strings.Contains(v, h) {
					t.Errorf("hostile value %q appears in log field %s", trunc(h), k)
				}
			}
		})
	}
	for _, s := range f.exp.GetSpans() {
		checkClean(t, "span name", s.Name)
		for _, a := range s.Attributes {
			vals := []string{a.Value.Emit()}
			if a.Value.Type() == attribute.STRINGSLICE {
				vals = a.Value.AsStringSlice()
			}
			for _, v := range vals {
				checkClean(t, "span attribute "+string(a.Key), v)
				if len(v) > 4096 {
					t.Errorf("span attribute %s has %d bytes, want at most 4096", a.Key, len(v))
				}
				for _, h := range hostile {
					if len(h) > 16 && strings.Contains(v, h) {
						t.Errorf("hostile value %q appears in span attribute %s", trunc(h), a.Key)
					}
				}
			}
		}
	}
}

func walk(m map[string]any, f func(k, v string)) {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			f(k, v)
		case map[string]any:
			walk(v, f)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					f(k, s)
				}
			}
		}
	}
}

// recordingObserver records Begin/End calls and returns eventID from End
// when the request failed.
type recordingObserver struct {
	mu        sync.Mutex
	eventID   string
	begins    int
	beginHTTP *http.Request
	ends      []middleware.Outcome
	reqs      []middleware.Request
	logsAt    []string // the logs at the time End was called
	logs      *syncBuffer
}

type obsKey struct{}

func (o *recordingObserver) Begin(ctx context.Context, req *middleware.Request) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.begins++
	o.beginHTTP = req.HTTP
	return context.WithValue(ctx, obsKey{}, "begun")
}

func (o *recordingObserver) End(ctx context.Context, req *middleware.Request, out *middleware.Outcome) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ends = append(o.ends, *out)
	o.reqs = append(o.reqs, *req)
	if o.logs != nil {
		o.logsAt = append(o.logsAt, o.logs.String())
	}
	if ctx.Value(obsKey{}) != "begun" {
		panic("End did not get the context returned by Begin")
	}
	if out.Panic != nil || out.Status >= 500 || out.GRPCCode >= 2 {
		return o.eventID
	}
	return ""
}
