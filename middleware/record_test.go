package middleware_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// A handler other than glassbox's does not read the context: wrapped in
// log.NewContextIDHandler, it gets the request's IDs on the access record
// and the panic record.
func TestRecordsCarryIDsWithAnySlogHandler(t *testing.T) {
	f := newFixture(t)
	var buf syncBuffer
	logger := slog.New(log.NewContextIDHandler(slog.NewJSONHandler(&buf, nil)))
	h := middleware.HTTP(middleware.WithTracerProvider(f.tp), middleware.WithLogger(logger))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("boom")
		}
	}))
	for _, path := range []string{"/ok", "/boom"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("X-Correlation-ID", "corr-"+path[1:])
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	spans := f.exp.GetSpans()
	var n int
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("record is not JSON: %v: %s", err, line)
		}
		n++
		id, _ := rec["correlation.id"].(string)
		if id != "corr-ok" && id != "corr-boom" {
			t.Errorf("%q record: correlation.id = %v, want the request's", rec["msg"], rec["correlation.id"])
			continue
		}
		var found bool
		for _, sp := range spans {
			if v, _ := attrOf(sp.Attributes, "correlation.id"); v.AsString() == id {
				found = true
				if rec["trace.id"] != sp.SpanContext.TraceID().String() || rec["span.id"] != sp.SpanContext.SpanID().String() {
					t.Errorf("%q record: trace.id %v span.id %v, want the server span's %s %s", rec["msg"], rec["trace.id"], rec["span.id"], sp.SpanContext.TraceID(), sp.SpanContext.SpanID())
				}
			}
		}
		if !found {
			t.Errorf("no span with correlation.id %q", id)
		}
	}
	if n != 3 { // two access records and one panic record
		t.Errorf("got %d records, want 3:\n%s", n, buf.String())
	}
}

// glassbox's own handler reads the IDs from the context: they are not added
// a second time (which it would have to rename).
func TestRecordsNoDuplicateIDsWithGlassboxHandler(t *testing.T) {
	f := newFixture(t)
	h := middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	if out := f.logs.String(); strings.Contains(out, "correlation.id_") || strings.Contains(out, "trace.id_") || strings.Contains(out, "span.id_") {
		t.Errorf("duplicate ID fields:\n%s", out)
	}
	for _, rec := range f.records(t) {
		if rec["correlation.id"] == nil || rec["trace.id"] == nil {
			t.Errorf("%v record without IDs", rec["message"])
		}
	}
}

// The middleware adds no ID fields of its own: the handler owns them.
// Wrapped in slog.NewMultiHandler with another handler, in either order of
// wrapping, glassbox's handler and the other one each write every ID field
// of the access and panic records once.
func TestRecordsNoDuplicateIDsThroughMultiHandler(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(gb, other slog.Handler) slog.Handler
	}{
		{"multi of glassbox and other", func(gb, other slog.Handler) slog.Handler { return slog.NewMultiHandler(gb, other) }},
		{"multi, other wrapped", func(gb, other slog.Handler) slog.Handler {
			return slog.NewMultiHandler(gb, log.NewContextIDHandler(other))
		}},
		{"wrapped multi", func(gb, other slog.Handler) slog.Handler {
			return log.NewContextIDHandler(slog.NewMultiHandler(gb, other))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var gbOut, otherOut syncBuffer
			h := tc.build(log.NewHandler(log.WithWriter(&gbOut)), slog.NewJSONHandler(&otherOut, nil))
			mw := middleware.HTTP(middleware.WithTracerProvider(f.tp), middleware.WithLogger(slog.New(h)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/boom" {
					panic("boom")
				}
			}))
			for _, path := range []string{"/ok", "/boom"} {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("X-Correlation-ID", "corr-"+path[1:])
				mw.ServeHTTP(httptest.NewRecorder(), req)
			}
			for name, out := range map[string]*syncBuffer{"glassbox": &gbOut, "other": &otherOut} {
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				if len(lines) != 3 {
					t.Fatalf("%s output: got %d records, want 3:\n%s", name, len(lines), out.String())
				}
				for _, line := range lines {
					for _, k := range []string{"correlation.id", "trace.id", "span.id"} {
						if n := strings.Count(line, `"`+k+`"`); n > 1 || strings.Contains(line, `"`+k+`_`) {
							t.Errorf("%s output: %s duplicated:\n%s", name, k, line)
						}
						// glassbox's handler always has them; the other
						// one when it is wrapped.
						if name == "glassbox" || tc.name != "multi of glassbox and other" {
							if !strings.Contains(line, `"`+k+`"`) {
								t.Errorf("%s output: no %s:\n%s", name, k, line)
							}
						}
					}
				}
			}
		})
	}
}
