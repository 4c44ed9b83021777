package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/middleware"
)

// lateCall is what a goroutine of a finished handler does with the
// ResponseWriter it kept.
type lateCall struct {
	name string
	do   func(w http.ResponseWriter)
}

var lateCalls = []lateCall{
	{"Write", func(w http.ResponseWriter) { _, _ = w.Write([]byte("SECRET-OF-A")) }},
	{"WriteString", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "SECRET-OF-A") }},
	{"ReadFrom", func(w http.ResponseWriter) { _, _ = io.Copy(w, strings.NewReader("SECRET-OF-A")) }},
	{"Header", func(w http.ResponseWriter) { w.Header().Set("X-Secret", "SECRET-OF-A") }},
	{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }},
	{"Flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }},
}

// lateHandler serves /a by starting a goroutine that uses w once /b is in
// flight, after /a's handler returned; /b waits for that call to be done,
// then answers "b-body". lateErr holds what the late call panicked with.
type lateHandler struct {
	call     lateCall
	release  chan struct{}
	lateDone chan struct{}
	lateErr  any
}

func newLateHandler(call lateCall) *lateHandler {
	return &lateHandler{call: call, release: make(chan struct{}), lateDone: make(chan struct{})}
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/a" {
		go func() {
			defer close(l.lateDone)
			defer func() { l.lateErr = recover() }()
			<-l.release
			l.call.do(w)
		}()
		_, _ = io.WriteString(w, "a-body")
		return
	}
	close(l.release)
	<-l.lateDone
	_, _ = io.WriteString(w, "b-body")
}

// A handler's goroutine that uses the ResponseWriter after the handler
// returned must reach, at worst, the response of its own request, as with
// net/http's writer: never the response of the request served next (the
// middleware's per-request state is reused).
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
				h.ServeHTTP(rb, httptest.NewRequest("GET", "/b", nil))

				if lh.lateErr != nil {
					t.Errorf("late %s panicked: %v; want it passed to /a's own writer", call.name, lh.lateErr)
				}
				if rb.Code != http.StatusOK || rb.Body.String() != "b-body" || rb.Header().Get("X-Secret") != "" || rb.Flushed {
					t.Errorf("/b response: got %d %q X-Secret %q flushed %v, want 200 \"b-body\", no X-Secret, not flushed",
						rb.Code, rb.Body.String(), rb.Header().Get("X-Secret"), rb.Flushed)
				}
				// Passed through: /a's recorder got it, as net/http's
				// writer would have (and then refused or dropped it).
				switch call.name {
				case "Header":
					if got := ra.Header().Get("X-Secret"); got != "SECRET-OF-A" {
						t.Errorf("/a header X-Secret: got %q, want the late value", got)
					}
				case "Flush":
					if !ra.Flushed {
						t.Error("/a: the late flush did not reach its writer")
					}
				case "WriteHeader":
					if ra.Code != http.StatusOK {
						t.Errorf("/a status: got %d, want 200 (sent before the late call)", ra.Code)
					}
				default:
					if got := ra.Body.String(); got != "a-body"+"SECRET-OF-A" {
						t.Errorf("/a body: got %q, want the late write after a-body", got)
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

// Over HTTP/2 net/http's writer panics when used after its handler
// finished: through the middleware the late call gets that same panic
// (not a nil dereference inside the middleware), and the next request's
// response is untouched.
func TestLateWriteHTTP2(t *testing.T) {
	for _, skipped := range []bool{false, true} {
		t.Run(fmt.Sprintf("skipped=%v", skipped), func(t *testing.T) {
			f := newFixture(t)
			var opts []middleware.Option
			if skipped {
				opts = append(opts, middleware.WithSkipPaths("/a", "/b"))
			}
			lh := newLateHandler(lateCalls[0])
			srv := httptest.NewUnstartedServer(middleware.HTTP(f.opts(opts...)...)(lh))
			srv.EnableHTTP2 = true
			srv.StartTLS()
			t.Cleanup(srv.Close)
			get := func(path string) string {
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if resp.ProtoMajor != 2 {
					t.Fatalf("%s: got %s, want HTTP/2", path, resp.Proto)
				}
				return string(b)
			}
			if got := get("/a"); got != "a-body" {
				t.Errorf("/a body: got %q, want a-body", got)
			}
			if got := get("/b"); got != "b-body" {
				t.Errorf("/b body: got %q, want b-body", got)
			}
			t.Logf("late write: %v", lh.lateErr)
			var rerr runtime.Error
			if err, ok := lh.lateErr.(error); ok && errors.As(err, &rerr) {
				t.Errorf("late write: got %v, want net/http's own answer", rerr)
			}
		})
	}
}
