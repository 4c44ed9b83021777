package middleware_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"

	"github.com/glassbox-obs/glassbox/middleware"
)

// A handler that set the headers of the response it meant to send and then
// panicked before writing: the 500 must not carry them (a client would try
// to gunzip the plain-text body, a cache would keep the error for a day, a
// cookie would be set by a failed request). Only the correlation ID stays.
func TestHTTPPanicBeforeWriteDropsHandlerHeaders(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "1234")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Set-Cookie", "session=abc")
		h.Set("ETag", `"v1"`)
		h.Set("Trailer", "X-Checksum")
		h.Set("X-Correlation-ID", "overwritten-by-handler")
		panic("boom")
	})))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip") // so the client does not decode for us
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the 500: %v", err)
	}
	if resp.StatusCode != 500 || string(body) != "Internal Server Error\n" {
		t.Errorf("response: got %d %q, want 500 %q", resp.StatusCode, body, "Internal Server Error\n")
	}
	for _, name := range []string{"Content-Encoding", "Cache-Control", "Set-Cookie", "Etag", "Trailer"} {
		if v, ok := resp.Header[name]; ok {
			t.Errorf("header %s: got %q, want none", name, v)
		}
	}
	if len(resp.Trailer) != 0 {
		t.Errorf("trailers: got %v, want none", resp.Trailer)
	}
	for name, want := range map[string]string{
		"Content-Type":           "text/plain; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         "22",
		"X-Correlation-Id":       f.span(t).SpanContext.TraceID().String(),
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("header %s: got %q, want %q", name, got, want)
		}
	}
}

// A handler that panics once its response has started cannot send a 500:
// the client must see the response cut (an error reading the body, over
// HTTP/1.1 and HTTP/2), not a truncated JSON document that ends cleanly.
// Everything is still recorded, and net/http prints no stack of its own.
func TestHTTPPanicAfterWriteAbortsResponse(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			f := newFixture(t)
			obs := &recordingObserver{eventID: "ev-cut"}
			h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"items":[1,2,3`)
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("flush: %v", err)
				}
				panic("boom mid-body")
			}))
			errLog := &syncBuffer{}
			srv := startServer(t, proto, h, errLog)

			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatalf("the header was sent, want a response: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Proto != proto {
				t.Errorf("protocol: got %s, want %s", resp.Proto, proto)
			}
			if err == nil {
				t.Errorf("reading the body: got %q and no error, want the response cut", body)
			}
			if resp.StatusCode != 200 || string(body) != `{"items":[1,2,3` {
				t.Errorf("response: got %d %q, want 200 and the part written", resp.StatusCode, body)
			}
			// The records are written before the middleware re-panics,
			// which is before net/http cuts the response.
			if strings.Contains(errLog.String(), "panic") {
				t.Errorf("net/http logged the panic:\n%s", errLog.String())
			}
			span := f.span(t)
			if span.Status.Code != codes.Error || len(span.Events) == 0 || span.Events[0].Name != "exception" {
				t.Errorf("span: got status %v events %v, want Error and an exception event", span.Status, span.Events)
			}
			er := f.record(t, "panic recovered")
			if st, _ := er["error.stack_trace"].(string); !strings.Contains(st, "TestHTTPPanicAfterWriteAbortsResponse") || er["error.id"] != "ev-cut" {
				t.Errorf("error record: got error.id %v stack %q, want ev-cut and the panicking function", er["error.id"], trunc(st))
			}
			acc := f.record(t, "request completed")
			if acc["log.level"] != "error" || acc["http.response.status_code"] != float64(200) || acc["error.type"] != "string" {
				t.Errorf("access log: got level %v status %v error.type %v, want error 200 string", acc["log.level"], acc["http.response.status_code"], acc["error.type"])
			}
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.ends) != 1 || obs.ends[0].Panic != "boom mid-body" || obs.ends[0].Status != 200 {
				t.Errorf("observer outcomes: got %+v, want the panic with status 200", obs.ends)
			}
		})
	}
}

// http.ErrAbortHandler is re-panicked for net/http, and the request is
// recorded as the failure it is: span status Error and error.type, an
// access record at Warn at least with error.type, and the status code only
// when one was written (an abort before any write sends none).
func TestHTTPErrAbortHandlerRecorded(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int // 0: none recorded
		wantLevel  string
	}{
		{"before any write", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 0, "warn"},
		{"after 200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			panic(http.ErrAbortHandler)
		}, 200, "warn"},
		{"after 503", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			panic(http.ErrAbortHandler)
		}, 503, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			obs := &recordingObserver{}
			h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(tt.handler)
			if p := serveRecover(h, httptest.NewRecorder(), httptest.NewRequest("GET", "/download", nil)); p != http.ErrAbortHandler {
				t.Fatalf("panic out of the middleware: got %v, want http.ErrAbortHandler", p)
			}
			span := f.span(t)
			if span.Status.Code != codes.Error {
				t.Errorf("span status: got %v, want Error", span.Status)
			}
			if v, _ := attrOf(span.Attributes, "error.type"); v.AsString() != "http.ErrAbortHandler" {
				t.Errorf("span error.type: got %q, want http.ErrAbortHandler", v.AsString())
			}
			v, ok := attrOf(span.Attributes, "http.response.status_code")
			if got := int(v.AsInt64()); ok != (tt.wantStatus != 0) || got != tt.wantStatus {
				t.Errorf("span status code: got %d (set %v), want %d", got, ok, tt.wantStatus)
			}
			acc := f.record(t, "request completed")
			if acc["log.level"] != tt.wantLevel || acc["error.type"] != "http.ErrAbortHandler" {
				t.Errorf("access log: got level %v error.type %v, want %s http.ErrAbortHandler", acc["log.level"], acc["error.type"], tt.wantLevel)
			}
			code, ok := acc["http.response.status_code"]
			if tt.wantStatus == 0 && ok || tt.wantStatus != 0 && code != float64(tt.wantStatus) {
				t.Errorf("access log status code: got %v, want %d (0: none)", code, tt.wantStatus)
			}
			if len(obs.ends) != 1 || obs.ends[0].Status != tt.wantStatus || !errors.Is(obs.ends[0].Err, http.ErrAbortHandler) {
				t.Errorf("observer outcomes: got %+v, want status %d and Err http.ErrAbortHandler", obs.ends, tt.wantStatus)
			}
		})
	}
}

// Filters skip the span and the access record, not the recovery: a
// panicking health check still answers 500 with its correlation ID (or is
// cut once started), writes the error record with the stack, and is
// reported to the observers. Without a panic the observers are not called.
func TestHTTPSkippedRequestPanic(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		handler   http.HandlerFunc
		wantCode  int
		wantBody  string
		wantPanic any // what comes out of the middleware
		wantRec   bool
	}{
		{"no panic", "/healthz", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}, 200, "ok", nil, false},
		{"before write", "/healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			panic("health boom")
		}, 500, "Internal Server Error\n", nil, true},
		{"filtered by WithFilter", "/synthetic", func(w http.ResponseWriter, r *http.Request) {
			panic("health boom")
		}, 500, "Internal Server Error\n", nil, true},
		{"after write", "/readyz", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not rea")
			panic("health boom")
		}, 503, "not rea", http.ErrAbortHandler, true},
		{"ErrAbortHandler", "/livez", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 200, "", http.ErrAbortHandler, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			obs := &recordingObserver{eventID: "ev-health"}
			h := middleware.HTTP(f.opts(
				middleware.WithObservers(obs),
				middleware.WithFilter(func(r *middleware.Request) bool { return r.HTTP.URL.Path != "/synthetic" }),
			)...)(tt.handler)
			rec := httptest.NewRecorder()
			p := serveRecover(h, rec, httptest.NewRequest("GET", tt.path, nil))
			if p != tt.wantPanic {
				t.Errorf("panic out of the middleware: got %v, want %v", p, tt.wantPanic)
			}
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("response: got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
			id := rec.Header().Get("X-Correlation-ID")
			if len(id) != 32 {
				t.Errorf("X-Correlation-ID: got %q, want a new ID", id)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "" {
				t.Errorf("Cache-Control of the 500: got %q, want none", cc)
			}
			if n := len(f.exp.GetSpans()); n != 0 {
				t.Errorf("got %d spans, want none for a skipped request", n)
			}
			for _, r := range f.records(t) {
				if r["message"] == "request completed" {
					t.Errorf("access record for a skipped request: %v", r)
				}
			}
			if !tt.wantRec {
				if n := len(f.records(t)); n != 0 {
					t.Errorf("got %d records, want none", n)
				}
				if obs.begins != 0 || len(obs.ends) != 0 {
					t.Errorf("observers: got %d Begin %d End, want none", obs.begins, len(obs.ends))
				}
				return
			}
			er := f.record(t, "panic recovered")
			if st, _ := er["error.stack_trace"].(string); !strings.Contains(st, "TestHTTPSkippedRequestPanic") {
				t.Errorf("error.stack_trace does not show the panicking function: %q", trunc(st))
			}
			if er["error.message"] != "health boom" || er["url.path"] != tt.path || er["correlation.id"] != id || er["error.id"] != "ev-health" {
				t.Errorf("error record: got message %v path %v correlation.id %v error.id %v, want health boom %s %s ev-health",
					er["error.message"], er["url.path"], er["correlation.id"], er["error.id"], tt.path, id)
			}
			if obs.begins != 1 || len(obs.ends) != 1 {
				t.Fatalf("observers: got %d Begin %d End, want 1 and 1", obs.begins, len(obs.ends))
			}
			if out := obs.ends[0]; out.Panic != "health boom" || len(out.Stack) == 0 || out.Status != tt.wantCode {
				t.Errorf("outcome: got panic %v, %d stack bytes, status %d; want health boom, a stack, %d", out.Panic, len(out.Stack), out.Status, tt.wantCode)
			}
			if req := obs.reqs[0]; req.CorrelationID != id || req.Method != "GET" || req.HTTP == nil {
				t.Errorf("observed request: got %+v, want GET with correlation ID %s", req, id)
			}
		})
	}
}
