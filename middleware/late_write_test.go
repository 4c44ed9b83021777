package middleware_test

import (
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/middleware"
)

// lateCall is what a goroutine of a finished handler does with the
// ResponseWriter it kept; it returns the error the call reported.
type lateCall struct {
	name    string
	do      func(w http.ResponseWriter) error
	refused bool // the call reports an error
}

var lateCalls = []lateCall{
	{"Write", func(w http.ResponseWriter) error { _, err := w.Write([]byte("SECRET-OF-A")); return err }, true},
	{"WriteString", func(w http.ResponseWriter) error { _, err := io.WriteString(w, "SECRET-OF-A"); return err }, true},
	{"ReadFrom", func(w http.ResponseWriter) error {
		_, err := io.Copy(w, strings.NewReader("SECRET-OF-A"))
		return err
	}, true},
	{"Header", func(w http.ResponseWriter) error { w.Header().Set("X-Secret", "SECRET-OF-A"); return nil }, false},
	{"WriteHeader", func(w http.ResponseWriter) error { w.WriteHeader(http.StatusTeapot); return nil }, false},
	{"Flush", func(w http.ResponseWriter) error { w.(http.Flusher).Flush(); return nil }, false},
	{"FlushError", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }, true},
	{"Hijack", func(w http.ResponseWriter) error { _, _, err := http.NewResponseController(w).Hijack(); return err }, true},
}

// lateHandler serves /a by starting a goroutine that uses w once /b is in
// flight, after /a's handler returned; /b waits for that call to be done,
// then answers "b-body". lateErr and latePanic hold what the late call
// returned and panicked with.
type lateHandler struct {
	call      lateCall
	release   chan struct{}
	lateDone  chan struct{}
	lateErr   error
	latePanic any
}

func newLateHandler(call lateCall) *lateHandler {
	return &lateHandler{call: call, release: make(chan struct{}), lateDone: make(chan struct{})}
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/a" {
		go func() {
			defer close(l.lateDone)
			defer func() { l.latePanic = recover() }()
			<-l.release
			l.lateErr = l.call.do(w)
		}()
		_, _ = io.WriteString(w, "a-body")
		// Flushed, the response is chunked: net/http's HTTP/1 writer would
		// then take a late write into the buffer it gave back to its pool.
		w.(http.Flusher).Flush()
		return
	}
	close(l.release)
	<-l.lateDone
	_, _ = io.WriteString(w, "b-body")
}

// check fails unless the late call was refused (or had no effect) without
// a panic.
func (l *lateHandler) check(t *testing.T) {
	t.Helper()
	if l.latePanic != nil {
		t.Errorf("late %s panicked: %v; want it refused", l.call.name, l.latePanic)
	}
	if l.call.refused && l.lateErr == nil {
		t.Errorf("late %s: got no error, want it refused", l.call.name)
	}
}

// A handler's goroutine that uses the ResponseWriter after the handler
// returned reaches nothing: not the response of the request served next
// (the middleware's per-request state is reused), not its own, finished
// one, and not the records.
func TestLateWriteStaysInItsRequest(t *testing.T) {
	for _, skipped := range []bool{false, true} {
		for _, call := range lateCalls {
			name := call.name
			if skipped {
				name += "/skipped"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				var opts []middleware.Option
				if skipped {
					opts = append(opts, middleware.WithSkipPaths("/a", "/b"))
				}
				lh := newLateHandler(call)
				h := middleware.HTTP(f.opts(opts...)...)(lh)
				ra, rb := httptest.NewRecorder(), httptest.NewRecorder()
				h.ServeHTTP(ra, httptest.NewRequest("GET", "/a", nil))
				ra.Flushed = false
				h.ServeHTTP(rb, httptest.NewRequest("GET", "/b", nil))

				lh.check(t)
				for _, tc := range []struct {
					path string
					rec  *httptest.ResponseRecorder
					body string
				}{{"/a", ra, "a-body"}, {"/b", rb, "b-body"}} {
					if tc.rec.Code != http.StatusOK || tc.rec.Body.String() != tc.body || tc.rec.Header().Get("X-Secret") != "" || tc.rec.Flushed {
						t.Errorf("%s response: got %d %q X-Secret %q flushed %v, want 200 %q, no X-Secret, no late flush",
							tc.path, tc.rec.Code, tc.rec.Body.String(), tc.rec.Header().Get("X-Secret"), tc.rec.Flushed, tc.body)
					}
				}
				if skipped {
					return
				}
				// The records were written when each request ended: the
				// late call is in neither.
				for _, rec := range f.records(t) {
					if rec["message"] != "request completed" {
						continue
					}
					if rec["http.response.body.bytes"] != float64(6) || rec["http.response.status_code"] != float64(200) {
						t.Errorf("access log of %v: got %v bytes, status %v; want 6 bytes, 200",
							rec["url.path"], rec["http.response.body.bytes"], rec["http.response.status_code"])
					}
				}
			})
		}
	}
}

// Through a real server, over HTTP/1.1 (where net/http's own writer would
// take the late write into a buffer it has given back to its pool) and
// HTTP/2, a late write is refused and the next response is untouched.
func TestLateWriteRealServer(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		for _, skipped := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skipped=%v", proto, skipped), func(t *testing.T) {
				f := newFixture(t)
				var opts []middleware.Option
				if skipped {
					opts = append(opts, middleware.WithSkipPaths("/a", "/b"))
				}
				lh := newLateHandler(lateCalls[0])
				srv := startServer(t, proto, middleware.HTTP(f.opts(opts...)...)(lh), nil)
				for _, want := range []struct{ path, body string }{{"/a", "a-body"}, {"/b", "b-body"}} {
					resp, err := srv.Client().Get(srv.URL + want.path)
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || resp.Proto != proto || string(b) != want.body {
						t.Errorf("%s: got %s %q, %v; want %s %q", want.path, resp.Proto, b, err, proto, want.body)
					}
				}
				lh.check(t)
			})
		}
	}
}

// gateReader gives "a-body-2" at once, then, once open is closed, a secret
// and EOF: the body of an upstream that stalls mid-stream.
type gateReader struct {
	step    int
	started chan struct{}
	open    chan struct{}
}

func (g *gateReader) Read(p []byte) (int, error) {
	g.step++
	switch g.step {
	case 1:
		return copy(p, "a-body-2"), nil
	case 2:
		close(g.started)
		<-g.open
		return copy(p, "SECRET-OF-A"), nil
	}
	return 0, io.EOF
}

// A copy that is still running when the handler returns (the handler gave
// up on a stalled upstream) stops there: the rest of it never reaches the
// server's writer, which by then serves the next request on the
// connection.
func TestInflightCopyStopsWithItsRequest(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		for _, skipped := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skipped=%v", proto, skipped), func(t *testing.T) {
				f := newFixture(t)
				g := &gateReader{started: make(chan struct{}), open: make(chan struct{})}
				copyDone := make(chan struct{})
				var copyErr error
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/a" {
						_, _ = io.WriteString(w, "a-body-1,")
						w.(http.Flusher).Flush() // chunked from here on
						go func() {
							defer close(copyDone)
							_, copyErr = io.Copy(w, g)
						}()
						<-g.started
						return
					}
					close(g.open)
					<-copyDone
					_, _ = io.WriteString(w, "b-body")
				})
				var opts []middleware.Option
				if skipped {
					opts = append(opts, middleware.WithSkipPaths("/a", "/b"))
				}
				srv := startServer(t, proto, middleware.HTTP(f.opts(opts...)...)(h), nil)
				for _, want := range []struct{ path, body string }{{"/a", "a-body-1,a-body-2"}, {"/b", "b-body"}} {
					resp, err := srv.Client().Get(srv.URL + want.path)
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || string(b) != want.body {
						t.Errorf("%s: got %q, %v; want %q", want.path, b, err, want.body)
					}
				}
				if copyErr == nil || !strings.Contains(copyErr.Error(), "after its handler returned") {
					t.Errorf("late part of the copy: got error %v, want the writer's refusal", copyErr)
				}
			})
		}
	}
}

// startServer starts a loopback server for h speaking proto ("HTTP/1.1",
// or "HTTP/2.0" over TLS), with net/http's error log written to errLog
// when it is not nil. It stops when the test ends.
func startServer(t *testing.T, proto string, h http.Handler, errLog io.Writer) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if errLog != nil {
		srv.Config.ErrorLog = stdlog.New(errLog, "", 0)
	}
	if proto == "HTTP/2.0" {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}
