package middleware_test

import (
	"io"
	"net/http"
	"testing"

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
