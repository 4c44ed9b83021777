package middleware

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

// responseWriter records the status and the number of body bytes written.
// It keeps http.Flusher, http.Hijacker and io.ReaderFrom of the writer it
// wraps and supports http.ResponseController through Unwrap.
//
// It is handed to the handler, which may keep it (a goroutine still
// writing after the handler returned), so it is allocated per request and
// never reused. Once the middleware has recorded the request (close), it
// reaches nothing: the writer below may by then serve another request
// (net/http's HTTP/1 writer puts its buffer back in a pool when the handler
// returns, so a late write passed to it can end up in the next response
// of any connection). After close, Write, WriteString and ReadFrom return
// errAfterHandler and write nothing, WriteHeader and Flush do nothing,
// FlushError and Hijack return errAfterHandler, Header returns a new map
// that nothing reads, and Unwrap returns nil (so http.ResponseController
// reports http.ErrNotSupported).
type responseWriter struct {
	rw          http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
	// closed is set by close once the middleware has read the fields above
	// for the last time; from then on the methods touch neither them nor
	// rw. A call racing with close (made while ServeHTTP returns) is a
	// data race, as it is with net/http's own writer.
	closed atomic.Bool
}

// errAfterHandler is what a call on the writer returns once the request
// it was made for is over.
var errAfterHandler = errors.New("middleware: ResponseWriter used after its handler returned")

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

func newResponseWriter(rw http.ResponseWriter) *responseWriter {
	return &responseWriter{rw: rw}
}

// close ends the request for the writer: later calls reach nothing. The
// middleware calls it once it has read status, bytes, wroteHeader and
// hijacked for the last time, before ServeHTTP returns.
func (w *responseWriter) close() { w.closed.Store(true) }

// Header returns the wrapped writer's header map.
func (w *responseWriter) Header() http.Header {
	if w.closed.Load() {
		return http.Header{}
	}
	return w.rw.Header()
}

// WriteHeader records the first final status and passes code on.
// Informational (1xx) codes other than 101 pass through without counting.
func (w *responseWriter) WriteHeader(code int) {
	if w.closed.Load() {
		return
	}
	// Call through first: net/http panics on an invalid code, and the
	// middleware must then still see that nothing was written.
	w.rw.WriteHeader(code)
	if !w.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
}

func (w *responseWriter) implicitHeader() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
}

// Write writes p and counts it.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.closed.Load() {
		return 0, errAfterHandler
	}
	w.implicitHeader()
	n, err := w.rw.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString writes s without converting it when the wrapped writer
// supports io.StringWriter.
func (w *responseWriter) WriteString(s string) (int, error) {
	if w.closed.Load() {
		return 0, errAfterHandler
	}
	w.implicitHeader()
	var n int
	var err error
	if sw, ok := w.rw.(io.StringWriter); ok {
		n, err = sw.WriteString(s)
	} else {
		n, err = w.rw.Write([]byte(s))
	}
	w.bytes += int64(n)
	return n, err
}

// ReadFrom copies from r. A file (or a limited section of one) is handed
// to the wrapped writer's io.ReaderFrom whole, so that net/http can use
// sendfile. Anything else is copied chunk by chunk, each chunk checked
// against close: a copy still running when the handler returns (a proxied
// body, say) stops there with an error instead of writing on into the
// server's writer, which by then may serve another request.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.closed.Load() {
		return 0, errAfterHandler
	}
	w.implicitHeader()
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok && isFile(r) {
		n, err = rf.ReadFrom(r)
	} else {
		bp := copyBufs.Get().(*[]byte)
		n, err = io.CopyBuffer(openWriter{w}, r, *bp)
		copyBufs.Put(bp)
	}
	w.bytes += n
	return n, err
}

// copyBufs are ReadFrom's copy buffers, of net/http's size.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// isFile reports whether r is a file or a limited reader of one: the
// sources net/http sends with sendfile.
func isFile(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	_, ok := r.(*os.File)
	return ok
}

// openWriter writes to the wrapped writer while the request is not over.
// It has no ReadFrom, so io.Copy writes through it chunk by chunk.
type openWriter struct{ w *responseWriter }

func (o openWriter) Write(p []byte) (int, error) {
	if o.w.closed.Load() {
		return 0, errAfterHandler
	}
	return o.w.rw.Write(p)
}

// Flush sends buffered data to the client; see FlushError.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError flushes through the wrapped writer, reporting an error that
// wraps http.ErrNotSupported when nothing below can flush. Only a flush
// that was attempted starts the response (it sends the header): after one
// that was not supported, nothing was sent and a panic still gets its 500.
func (w *responseWriter) FlushError() error {
	if w.closed.Load() {
		return errAfterHandler
	}
	var err error
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
	} else {
		err = http.NewResponseController(w.rw).Flush()
	}
	if !errors.Is(err, http.ErrNotSupported) {
		w.implicitHeader()
	}
	return err
}

// Hijack takes over the connection when the wrapped writer allows it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.closed.Load() {
		return nil, nil, errAfterHandler
	}
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		if !w.wroteHeader {
			w.status = http.StatusSwitchingProtocols
			w.wroteHeader = true
		}
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController; nil
// once the request is over.
func (w *responseWriter) Unwrap() http.ResponseWriter {
	if w.closed.Load() {
		return nil
	}
	return w.rw
}

// internalError answers 500 in place of a response the handler did not
// start (it panicked). The headers the handler set are dropped, since they
// describe the response it meant to send (Content-Encoding, Cache-Control,
// Set-Cookie, ETag, Content-Length...): only the correlation header
// (name, canonical) is kept, with id. Content-Type and
// X-Content-Type-Options are those of http.Error.
func (w *responseWriter) internalError(name, id string) {
	h := w.Header()
	clear(h)
	h[name] = []string{id}
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.WriteString("Internal Server Error\n")
}
