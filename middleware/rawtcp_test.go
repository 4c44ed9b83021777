package middleware_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/middleware"
)

// rawRequest writes req byte for byte to the server at addr, as a hostile
// client would (no client library cleans anything), and reads the answer.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A deadline, not a sleep: a server that stalled fails the test
	// instead of hanging it.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	res.Body.Close()
	return res
}

// TestHostileHeadersOverRawTCP sends what net/http's own parser lets
// through to a handler (bytes 0x80-0xff, invalid UTF-8, bidi overrides,
// U+2028, escaped CR LF and ESC in the path and query, a 60 KiB value) to a
// real server over a bare TCP connection, and checks what a user would: the
// request is served, the hostile correlation ID is replaced by the trace
// ID and echoed, and no record or span holds a raw hostile value.
func TestHostileHeadersOverRawTCP(t *testing.T) {
	hostile := map[string]string{
		"obs-text":    "id-\x80\x81\xfe\xff-tail-of-value",
		"invalid-utf": "caf\xc3\x28-\xed\xa0\x80-bytes-and-more",
		"bidi":        "user\u202egnp.exe-override-value",
		"U+2028":      "line\u2028separator\u2029paragraph",
		"60KiB":       strings.Repeat("A", 60<<10),
	}
	for name, v := range hostile {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			srv := httptest.NewServer(middleware.HTTP(f.opts(middleware.WithRequestHeaders("X-Custom"))...)(capture(&s)))

			res := rawRequest(t, srv.Listener.Addr().String(),
				"GET /p/%0d%0aX-Injected:%20yes/%1b%5b31m?q=%0d%0a%1b%5b31m HTTP/1.1\r\n"+
					"Host: example.test\r\n"+
					"X-Correlation-ID: "+v+"\r\n"+
					"X-Request-ID: "+v+"\r\n"+
					"User-Agent: "+v+"\r\n"+
					"X-Custom: "+v+"\r\n"+
					"X-Forwarded-For: "+v+"\r\n"+
					"Traceparent: "+v+"\r\n"+
					"Baggage: "+v+"\r\n"+
					"Connection: close\r\n\r\n")
			// Close waits for the request to complete: what the handler
			// saw and what the middleware recorded are then in place.
			srv.Close()

			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200: net/http accepts these bytes, so the handler must serve them", res.StatusCode)
			}
			span := f.span(t)
			want := span.SpanContext.TraceID().String()
			if got := res.Header.Get("X-Correlation-ID"); got != want || s.corrID != want {
				t.Errorf("correlation ID: handler %q, response %q; want a new one = the trace ID %s", trunc(s.corrID), trunc(got), want)
			}
			if span.Parent.IsValid() {
				t.Error("the span continued a hostile traceparent")
			}
			if s.baggage != "" {
				t.Errorf("baggage reached the handler: %q", trunc(s.baggage))
			}
			if got := f.record(t, "request completed")["correlation.id_rejected"]; got != float64(2) {
				t.Errorf("correlation.id_rejected: got %v, want 2", got)
			}
			f.checkAllClean(t, v, v[:len(v)/2], "\r\nX-Injected", "\x1b[31m")
		})
	}
}

// TestControlBytesInHeadersNeverReachTheHandler: CR, LF, NUL and ESC in a
// header value are refused by net/http itself with a 400 before any
// middleware runs; the service answers, stays up, and logs nothing raw.
func TestControlBytesInHeadersNeverReachTheHandler(t *testing.T) {
	f := newFixture(t)
	var s seen
	srv := httptest.NewServer(middleware.HTTP(f.opts()...)(capture(&s)))
	for name, v := range map[string]string{"NUL": "a\x00b", "ESC": "\x1b[31mred", "bare CR": "a\rX-Injected: yes"} {
		res := rawRequest(t, srv.Listener.Addr().String(),
			"GET / HTTP/1.1\r\nHost: example.test\r\nX-Correlation-ID: "+v+"\r\nConnection: close\r\n\r\n")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400 from net/http", name, res.StatusCode)
		}
	}
	// The server still serves a well-formed request after them.
	res := rawRequest(t, srv.Listener.Addr().String(),
		"GET / HTTP/1.1\r\nHost: example.test\r\nX-Correlation-ID: good-1\r\nConnection: close\r\n\r\n")
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Correlation-ID") != "good-1" {
		t.Errorf("after the refused requests: status %d, ID %q; want 200 and good-1", res.StatusCode, res.Header.Get("X-Correlation-ID"))
	}
	srv.Close() // waits for the requests to complete
	if n := len(f.records(t)); n != 1 {
		t.Errorf("got %d records, want 1 (only the good request's access record)", n)
	}
	f.checkAllClean(t)
}
