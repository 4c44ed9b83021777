package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// Skipped paths make the same trust decision: a trusted caller's
// correlation ID (or trace ID) is used, an untrusted caller's never.
func TestHTTPSkippedPathTrust(t *testing.T) {
	public := []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}
	tests := []struct {
		name    string
		remote  string
		headers map[string]string
		want    string // "" means a new valid ID
	}{
		{"trusted, correlation header", "10.0.0.1:1", map[string]string{"X-Correlation-ID": "probe-1", "traceparent": traceparent}, "probe-1"},
		{"trusted, traceparent only", "10.0.0.1:1", map[string]string{"traceparent": traceparent}, remoteTraceID},
		{"untrusted, correlation header", "203.0.113.9:1", map[string]string{"X-Correlation-ID": "probe-1", "traceparent": traceparent}, ""},
		{"trusted, invalid header", "10.0.0.1:1", map[string]string{"X-Correlation-ID": "bad\nid"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var seen string
			h := middleware.HTTP(f.opts(public...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _ = trace.CorrelationID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Correlation-ID")
			if got != seen {
				t.Errorf("response ID %q, handler saw %q; want the same", got, seen)
			}
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("correlation ID: got %q, want %q", got, tt.want)
			case tt.want == "" && (!trace.ValidCorrelationID(got) || got == "probe-1" || got == remoteTraceID):
				t.Errorf("correlation ID: got %q, want a new one", got)
			}
			if n := len(f.exp.GetSpans()); n != 0 {
				t.Errorf("skipped path: got %d spans, want none", n)
			}
		})
	}
}

// Only the configured correlation headers are read: the default ones are
// ignored once WithCorrelationHeaders leaves them out, although the default
// propagator knows them too.
func TestCustomCorrelationHeadersIgnoreDefaultOnes(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string // "" means a new valid ID
	}{
		{"default headers only", map[string]string{"X-Request-ID": "chosen-by-caller", "X-Correlation-ID": "also-chosen"}, ""},
		{"configured header", map[string]string{"X-Trace-Token": "tok-1", "X-Request-ID": "chosen-by-caller"}, "tok-1"},
		{"invalid configured header", map[string]string{"X-Trace-Token": "bad\nvalue", "X-Correlation-ID": "also-chosen"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var seen string
			h := middleware.HTTP(f.opts(middleware.WithCorrelationHeaders("X-Trace-Token"))...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _ = trace.CorrelationID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/orders", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Trace-Token")
			if got != seen {
				t.Errorf("response X-Trace-Token %q, handler saw %q; want the same", got, seen)
			}
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("correlation ID: got %q, want %q", got, tt.want)
			case tt.want == "" && (!trace.ValidCorrelationID(got) || got == "chosen-by-caller" || got == "also-chosen"):
				t.Errorf("correlation ID: got %q, want a new one", got)
			}
			for _, h := range []string{"X-Correlation-Id", "X-Request-Id"} {
				if v := rec.Header().Get(h); v != "" {
					t.Errorf("response header %s = %q, want none", h, v)
				}
			}
			if v, _ := attrOf(f.span(t).Attributes, "correlation.id"); v.AsString() != got {
				t.Errorf("span correlation.id: got %q, want %q", v.AsString(), got)
			}
		})
	}
}

// A propagator that carries correlation IDs under a header of its own does
// not decide the correlation ID either, in or out: only the configured
// headers do.
func TestPropagatorWithOtherCorrelationHeader(t *testing.T) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, trace.NewCorrelationPropagator("X-Trace-Ref"))
	for _, name := range []string{"default headers", "custom header"} {
		t.Run(name, func(t *testing.T) {
			opts := []middleware.Option{middleware.WithPropagator(prop)}
			echo := "X-Correlation-Id"
			if name == "custom header" {
				opts = append(opts, middleware.WithCorrelationHeaders("X-Corr"))
				echo = "X-Corr"
			}
			rec, seen, sent := relay(t, opts, map[string]string{"X-Trace-Ref": "from-unlisted-header", "traceparent": traceparent})
			if seen == "from-unlisted-header" || !trace.ValidCorrelationID(seen) {
				t.Errorf("handler's correlation ID: got %q, want a new one", seen)
			}
			if got := rec.Header().Get(echo); got != seen {
				t.Errorf("response %s: got %q, want %q", echo, got, seen)
			}
			if v, ok := sent["X-Trace-Ref"]; ok {
				t.Errorf("outgoing X-Trace-Ref = %v, want none", v)
			}
			if got := sent.Get(echo); got != seen {
				t.Errorf("outgoing %s: got %q, want %q", echo, got, seen)
			}
			if !strings.Contains(sent.Get("Traceparent"), remoteTraceID) {
				t.Errorf("outgoing traceparent %q is not in the caller's trace %s", sent.Get("Traceparent"), remoteTraceID)
			}
		})
	}
}

// namelessPropagator names no fields, as OTel's global propagator does
// when it is taken before one was set, then delegates to what is set
// later.
type namelessPropagator struct{ propagation.TextMapPropagator }

func (namelessPropagator) Fields() []string { return nil }

// Such a propagator may carry the correlation ID under any header; only the
// configured headers still decide it, in and out.
func TestPropagatorWithoutFields(t *testing.T) {
	prop := namelessPropagator{trace.Propagator()} // reads and writes X-Correlation-ID
	opts := []middleware.Option{middleware.WithPropagator(prop), middleware.WithCorrelationHeaders("X-Trace-Id")}
	_, seen, sent := relay(t, opts, map[string]string{"X-Correlation-ID": "from-unlisted-header"})
	if seen == "from-unlisted-header" || !trace.ValidCorrelationID(seen) {
		t.Errorf("handler's correlation ID: got %q, want a new one", seen)
	}
	if v, ok := sent["X-Correlation-Id"]; ok {
		t.Errorf("outgoing X-Correlation-Id = %v, want none", v)
	}
	if got := sent.Get("X-Trace-Id"); got != seen {
		t.Errorf("outgoing X-Trace-Id: got %q, want %q", got, seen)
	}
}

// relay serves one request with the given headers through the middleware
// built with opts, to a handler that calls a backend through the Transport
// built with the same opts. It returns the response, the correlation ID
// the handler saw and the headers the backend received.
func relay(t *testing.T, opts []middleware.Option, headers map[string]string) (rec *httptest.ResponseRecorder, seen string, sent http.Header) {
	t.Helper()
	f := newFixture(t)
	backend := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent = r.Header.Clone() }))
	client := &http.Client{Transport: middleware.Transport(nil, f.opts(opts...)...)}
	h := middleware.HTTP(f.opts(opts...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = trace.CorrelationID(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}))
	req := httptest.NewRequest("GET", "/orders", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, seen, sent
}
