package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

// HTTP returns server middleware that, for every request not skipped:
//
//   - chooses the correlation ID: the first valid value of the correlation
//     headers (from trusted peers), else the server span's trace ID; puts it
//     in the request context and sets it on the response header, also on
//     errors and panics;
//   - extracts trace context and baggage through the propagator and starts a
//     server span named after the method and r.Pattern ("GET /users/{id}")
//     with the OTel HTTP semantic-convention attributes, status Error on 5xx;
//   - calls the observers (Begin before, End after the handler);
//   - recovers panics: an exception event on the span, an error record
//     with the stack (and error.id), error.type on the access record. If
//     nothing was written yet, the response is a 500 with only the
//     correlation header kept of those the handler set. If the response
//     had started, it cannot be completed: once all is recorded the
//     middleware panics with http.ErrAbortHandler, so that net/http cuts
//     the response (closes the connection, resets the HTTP/2 stream)
//     without logging a stack, and the client sees the failure instead of
//     a truncated body that ends cleanly;
//   - re-panics http.ErrAbortHandler as net/http expects, recording the
//     request as failed: span status Error and error.type
//     "http.ErrAbortHandler" on the span and the access record (at Warn at
//     least). The status code recorded is the one written, if any: an abort
//     before any write sends none, and none is recorded (Outcome.Status 0);
//   - writes one access-log record at the end;
//   - records http.server.request.duration (with http.request.method,
//     http.route when a ServeMux pattern matched, never the path,
//     http.response.status_code, error.type, url.scheme,
//     network.protocol.version) and http.server.active_requests, through
//     the MeterProvider of WithMeterProvider, in the request's context,
//     so a sampled request's trace becomes the histogram's exemplar.
//
// Requests skipped by WithSkipPaths or WithFilter (health checks) get no
// span, no access record, no metrics and no observer calls, but they
// still get a correlation ID, echoed on the response, and panic recovery
// as above: a 500 if nothing was written (else the response is cut), the
// error record with the stack, and the observers are told (Begin, then End
// with the panic), so a panicking health check is not silent.
//
// The ResponseWriter the handler gets is made for its request alone, and
// it goes inert when the middleware has finished the request: used after
// that (by a goroutine the handler left running) it writes nothing and
// reaches nothing, so the call cannot land in another request's response
// (the server's own writer may by then serve another request). Write,
// WriteString, ReadFrom, FlushError and Hijack then return an error, and
// WriteHeader, Flush and changes to Header have no effect; an io.Copy
// still running stops at its next chunk (a file handed to sendfile is
// sent whole). net/http does
// not allow the use either: its HTTP/2 writer panics.
//
// The middleware is safe for concurrent use.
func HTTP(opts ...Option) func(http.Handler) http.Handler {
	c := instrument.New(opts)
	return func(next http.Handler) http.Handler {
		if next == nil {
			next = http.DefaultServeMux
		}
		return &handler{c: c, next: next}
	}
}

type handler struct {
	c    *config
	next http.Handler
}

// httpState is the per-request scratch space, pooled. Nothing in it may be
// reachable by the handler once ServeHTTP returned: a goroutine the handler
// started may still hold what it was given. The writer wrapper it hands the
// handler is therefore allocated per request (w points to it), and the
// request and context it gets are made per request too.
type httpState struct {
	c        *config
	w        *responseWriter
	r        *http.Request
	ctx      context.Context
	span     oteltrace.Span
	start    time.Time
	method   string
	rejected int
	active   *instrument.Active // counted in http.server.active_requests; nil if not
	req      Request
	out      Outcome
	// Set when the request ends (see finish), for the span and the
	// records: each request-controlled value sanitised (and the query
	// redacted) once.
	bytes    int64
	path     string
	client   string
	ua       string
	query    string
	captured [][]string // the WithRequestHeaders values, by header; nil when none
	attrs    [24]attribute.KeyValue
	opts     [4]oteltrace.SpanStartOption
	logAttrs [20]slog.Attr
}

var httpStatePool = sync.Pool{New: func() any { return new(httpState) }}

func (st *httpState) release() {
	*st = httpState{}
	httpStatePool.Put(st)
}

func skipHTTP(c *config, r *http.Request) bool {
	for _, p := range c.SkipPaths {
		if r.URL.Path == p {
			return true
		}
	}
	if c.Filter != nil {
		req := Request{Protocol: "http", HTTP: r, Method: r.Method}
		return !c.Filter(&req)
	}
	return false
}

var serverKind = oteltrace.WithSpanKind(oteltrace.SpanKindServer)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.c
	if skipHTTP(c, r) {
		h.serveSkipped(w, r)
		return
	}
	st := httpStatePool.Get().(*httpState)
	st.c = c
	st.start = time.Now()
	ctx, in := c.Inbound(r.Context(), headerCarrier(r.Header), r.RemoteAddr)
	st.rejected = in.Rejected
	opts := in.AppendSpanOptions(append(st.opts[:0], serverKind))

	method, known := normMethod(r.Method)
	st.method = method
	st.active = c.Active(method, scheme(r))
	st.r = r // for InboundDebug and BeginScope; the handler's request below
	ctx, grant := c.InboundDebug(ctx, headerCarrier(r.Header), in.Trusted, st)
	spanName := method
	if !known {
		spanName = "HTTP"
	}
	ctx, span := c.Tracer.Start(ctx, spanName, opts...)
	ctx, id := trace.EnsureCorrelationID(ctx)
	// The span's attributes are all set when the request ends, in one
	// SetAttributes call: the SDK then sizes its attribute slice once
	// (passing some at start costs a second, larger allocation). Samplers
	// therefore see no attributes; the standard ones do not use them.
	w.Header()[c.CorrHeaders[0]] = []string{id}
	ctx = c.BeginScope(ctx, grant, st)

	// The handler's request exists before the observers begin: what they
	// keep of req.HTTP is then the request ServeMux sets Pattern on, so a
	// report made during the request knows its route.
	r2 := r.WithContext(ctx)
	st.req = Request{Protocol: "http", HTTP: r2, Method: method, CorrelationID: id}
	c.Bind(ctx, &st.req, nil)
	if len(c.Observers) > 0 {
		ctx = c.BeginObservers(ctx, &st.req)
		*r2 = *r2.WithContext(ctx)
	}
	st.r, st.ctx, st.span = r2, ctx, span
	st.w = newResponseWriter(w)
	defer st.finish()
	h.next.ServeHTTP(st.w, r2)
}
