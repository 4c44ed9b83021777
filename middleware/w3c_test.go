package middleware_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/w3ctest"
	"github.com/glassbox-obs/glassbox/middleware"
)

// w3cService is the service the W3C Trace Context validation suite
// drives: an HTTP server behind the middleware whose handler calls back
// the harness count times through the Transport. It returns the server's
// URL and the headers of each callback.
func w3cService(t *testing.T, count int) (url string, callbacks func() []http.Header) {
	t.Helper()
	f := newFixture(t)
	var mu sync.Mutex
	var got []http.Header
	harness := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
	}))
	client := &http.Client{Transport: middleware.Transport(nil, f.opts()...)}
	svc := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < count; i++ {
			req, _ := http.NewRequestWithContext(r.Context(), "POST", fmt.Sprintf("%s/%d", harness.URL, i), nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}
	})))
	return svc.URL, func() []http.Header {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// send makes the harness's request: the header lines in order, names as
// written (not canonicalised), over a real connection.
func send(t *testing.T, url string, headers []w3ctest.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		req.Header[h.Name] = append(req.Header[h.Name], h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("service answered %d", resp.StatusCode)
	}
}

// Every case of the public W3C Trace Context validation suite
// (w3c/trace-context test/test.py, TraceContextTest), over HTTP: the
// harness's request goes through the middleware, the handler's callback
// through the Transport, and the callback's headers are checked as the
// suite checks them.
func TestW3CTraceContextSuiteHTTP(t *testing.T) {
	for _, c := range w3ctest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			url, callbacks := w3cService(t, 1)
			send(t, url, c.Headers)
			cb := callbacks()
			if len(cb) != 1 {
				t.Fatalf("got %d callbacks, want 1", len(cb))
			}
			w3ctest.Check(t, &c, cb[0].Values("Traceparent"), cb[0].Values("Tracestate"))
		})
	}
}

// The suite's AdvancedTest: several callbacks of one request share its
// trace (the caller's when valid) and each has a parent-id of its own.
func TestW3CTraceContextSuiteHTTPAdvanced(t *testing.T) {
	valid := w3ctest.Header{Name: "traceparent", Value: "00-" + w3ctest.TraceID + "-" + w3ctest.ParentID + "-01"}
	zero := w3ctest.Header{Name: "traceparent", Value: "00-00000000000000000000000000000000-" + w3ctest.ParentID + "-01"}
	for _, tc := range []struct {
		name      string
		headers   []w3ctest.Header
		continues bool
	}{
		{"multiple_requests_with_valid_traceparent", []w3ctest.Header{valid}, true},
		{"multiple_requests_without_traceparent", nil, false},
		{"multiple_requests_with_illegal_traceparent", []w3ctest.Header{zero}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, callbacks := w3cService(t, 3)
			send(t, url, tc.headers)
			c := w3ctest.Case{Name: tc.name, Headers: tc.headers, Continues: tc.continues}
			traces, parents := map[string]bool{}, map[string]bool{}
			for _, h := range callbacks() {
				tid, pid := w3ctest.Check(t, &c, h.Values("Traceparent"), h.Values("Tracestate"))
				traces[tid], parents[pid] = true, true
			}
			if len(traces) != 1 || len(parents) != 3 {
				t.Errorf("3 callbacks: %d trace-ids, %d parent-ids; want 1 and 3", len(traces), len(parents))
			}
		})
	}
}
