package middleware_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/middleware"
)

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// A handler flushes through http.ResponseController; the client reads the
// first chunk while the handler is still waiting, which proves the flush
// went through the wrapper.
func TestResponseControllerFlushStreams(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_, _ = io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
		<-release
		_, _ = io.WriteString(w, "second\n")
	})))
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk: got %q, %v; want it before the handler finished", line, err)
	}
	if id := resp.Header.Get("X-Correlation-ID"); id == "" {
		t.Error("streamed response has no X-Correlation-ID")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Errorf("rest: got %q, want %q", rest, "second\n")
	}
}

func TestResponseControllerDeadlinesAndFlusher(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("wrapper lost http.Flusher")
		}
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("wrapper lost io.ReaderFrom")
		}
		w.(http.Flusher).Flush()
	})))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestHijackThroughWrapper(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello")
		_ = brw.Flush()
	})))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status: got %d, want 101", resp.StatusCode)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hello" {
		t.Errorf("body: got %q, want hello", b)
	}
	// The hijacked connection answered before the handler returned: wait
	// for the access-log record.
	select {
	case <-f.logs.Written("request completed"):
	case <-time.After(10 * time.Second):
		t.Fatal("no access-log record 10s after the hijacked response")
	}
	if got := f.record(t, "request completed")["http.response.status_code"]; got != float64(101) {
		t.Errorf("access log status: got %v, want 101", got)
	}
}

func TestReadFromCountsBytes(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fh, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer fh.Close()
		_, _ = io.Copy(w, fh) // uses io.ReaderFrom
	})))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 10000 {
		t.Errorf("body: got %d bytes, want 10000", len(b))
	}
	if got := f.record(t, "request completed")["http.response.body.bytes"]; got != float64(10000) {
		t.Errorf("access log bytes: got %v, want 10000", got)
	}
}

func TestRealServerPanicAndLargeHeader(t *testing.T) {
	f := newFixture(t)
	h := middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("kaboom")
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.MaxHeaderBytes = 4 << 20
	srv.Start()
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	big := strings.Repeat("Z", 1<<20)
	req.Header.Set("X-Correlation-ID", big)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status: got %d, want 500", resp.StatusCode)
	}
	if id := resp.Header.Get("X-Correlation-ID"); len(id) != 32 {
		t.Errorf("X-Correlation-ID: got %q, want a new 32-hex ID", trunc(id))
	}
	f.checkAllClean(t, big[:100])
}

func TestInvalidStatusCodeBecomes500(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(42) // net/http panics on this
	})))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Correlation-ID") == "" {
		t.Errorf("got %d with X-Correlation-ID %q, want 500 with an ID", resp.StatusCode, resp.Header.Get("X-Correlation-ID"))
	}
	if got := f.record(t, "request completed")["http.response.status_code"]; got != float64(500) {
		t.Errorf("access log status: got %v, want 500", got)
	}
}

// noFlushWriter is a ResponseWriter that cannot flush (nor unwrap to one
// that can), as some wrapping middlewares are.
type noFlushWriter struct{ w http.ResponseWriter }

func (n noFlushWriter) Header() http.Header         { return n.w.Header() }
func (n noFlushWriter) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n noFlushWriter) WriteHeader(code int)        { n.w.WriteHeader(code) }

// A flush the writer below cannot do sends nothing, so it must not count
// as a started response: a later panic still gets the 500 (not a cut
// connection), and a later status is the one recorded.
func TestFailedFlushDoesNotStartResponse(t *testing.T) {
	for _, tc := range []struct {
		name       string
		skip       bool
		then       func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{"panic", false, func(http.ResponseWriter) { panic("after a failed flush") }, 500, "Internal Server Error\n"},
		{"panic/skipped", true, func(http.ResponseWriter) { panic("after a failed flush") }, 500, "Internal Server Error\n"},
		{"status", false, func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }, http.StatusTeapot, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var opts []middleware.Option
			path := "/items"
			if tc.skip {
				opts = append(opts, middleware.WithSkipPaths("/healthz"))
				path = "/healthz"
			}
			h := middleware.HTTP(f.opts(opts...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
					t.Errorf("flush: got %v, want http.ErrNotSupported", err)
				}
				w.(http.Flusher).Flush()
				tc.then(w)
			}))
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("ServeHTTP panicked with %v, want a complete response", p)
					}
				}()
				h.ServeHTTP(noFlushWriter{rec}, httptest.NewRequest("GET", path, nil))
			}()
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody {
				t.Errorf("response: got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if tc.skip {
				return
			}
			if got := f.record(t, "request completed")["http.response.status_code"]; got != float64(tc.wantStatus) {
				t.Errorf("access log status: got %v, want %d", got, tc.wantStatus)
			}
		})
	}
}
