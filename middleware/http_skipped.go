package middleware

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/glassbox-obs/glassbox/internal/route"
	"github.com/glassbox-obs/glassbox/trace"
)

// serveSkipped serves a filtered request: no span, no access log, but the
// handler still gets a correlation ID and the response still carries it.
// What it takes from the request is decided by Config.Inbound, as for
// instrumented requests: from a trusted peer its correlation ID, else its
// trace ID, else a new ID. Panics are recovered as for instrumented
// requests (see recoverSkipped); the writer wrapper that tells whether the
// response started is made per request (the handler may keep it), and a
// deferred recover costs next to nothing when nothing panics.
func (h *handler) serveSkipped(w http.ResponseWriter, r *http.Request) {
	c := h.c
	start := time.Now()
	id, ok := trace.CorrelationID(r.Context())
	if !ok {
		ctx, _ := c.Inbound(r.Context(), headerCarrier(r.Header), r.RemoteAddr)
		ctx, id = trace.EnsureCorrelationID(ctx)
		r = r.WithContext(ctx)
	}
	w.Header()[c.CorrHeaders[0]] = []string{id}
	rw := newResponseWriter(w)
	defer h.recoverSkipped(rw, r, id, start)
	h.next.ServeHTTP(rw, r)
}

// recoverSkipped runs deferred for a skipped request. Filters skip the
// span and the access record, not the recovery: a panic gets the 500 (if
// nothing was written), the error record with the stack, and is reported
// to the observers, which are begun for it then (they are not called for
// skipped requests otherwise). As in finish, a started response is cut
// with http.ErrAbortHandler, which is itself re-panicked unrecorded (an
// abort is deliberate, and the request was filtered out).
func (h *handler) recoverSkipped(w *responseWriter, r *http.Request, id string, start time.Time) {
	p := recover()
	if p == nil || p == http.ErrAbortHandler {
		w.close()
		if p != nil {
			panic(p)
		}
		return
	}
	c := h.c
	stack := debug.Stack()
	rethrow := false
	if !w.wroteHeader {
		w.internalError(c.CorrHeaders[0], id)
	} else {
		rethrow = !w.hijacked
	}
	status := w.status
	w.close()

	method, _ := normMethod(r.Method)
	req := Request{Protocol: "http", HTTP: r, Method: method, CorrelationID: id}
	c.Bind(r.Context(), &req, nil)
	var rt string
	if r.Pattern != "" {
		rt = sanitize(route.FromPattern(r.Pattern), maxPathLen)
	}
	out := Outcome{Status: status, Panic: p, Stack: stack, Duration: time.Since(start)}
	c.ReportSkippedPanic(r.Context(), &req, rt, &out,
		slog.String("http.request.method", method),
		slog.String("url.path", sanitize(r.URL.Path, maxPathLen)),
	)
	if rethrow {
		panic(http.ErrAbortHandler)
	}
}
