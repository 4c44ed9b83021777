package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// Attribute and log field names glassbox adds to the semantic conventions.
const (
	// AttrCorrelationID is the span attribute and log field of the
	// correlation ID.
	AttrCorrelationID = trace.CorrelationAttribute
	// AttrCorrelationIDRejected counts inbound correlation ID values that
	// were invalid and therefore ignored (never recorded). It is set only
	// when non-zero.
	AttrCorrelationIDRejected = "correlation.id_rejected"
	// AttrErrorID is the log field of the error event an Observer recorded
	// (the Sentry event ID).
	AttrErrorID = "error.id"
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
//   - writes one access-log record at the end.
//
// Requests skipped by WithSkipPaths or WithFilter (health checks) get no
// span, no access record and no observer calls, but they still get a
// correlation ID, echoed on the response, and panic recovery as above: a
// 500 if nothing was written (else the response is cut), the error record
// with the stack, and the observers are told (Begin, then End with the
// panic), so a panicking health check is not silent.
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
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		if next == nil {
			next = http.DefaultServeMux
		}
		return &handler{c: c, next: next}
	}
}

type handler struct {
	c    *Config
	next http.Handler
}

// httpState is the per-request scratch space, pooled. Nothing in it may be
// reachable by the handler once ServeHTTP returned: a goroutine the handler
// started may still hold what it was given. The writer wrapper it hands the
// handler is therefore allocated per request (w points to it), and the
// request and context it gets are made per request too.
type httpState struct {
	c        *Config
	w        *responseWriter
	r        *http.Request
	ctx      context.Context
	span     oteltrace.Span
	start    time.Time
	method   string
	rejected int
	req      Request
	out      Outcome
	attrs    [24]attribute.KeyValue
	opts     [4]oteltrace.SpanStartOption
	logAttrs [20]slog.Attr
}

var httpStatePool = sync.Pool{New: func() any { return new(httpState) }}

func (st *httpState) release() {
	*st = httpState{}
	httpStatePool.Put(st)
}

func (c *Config) skipHTTP(r *http.Request) bool {
	for _, p := range c.skipPaths {
		if r.URL.Path == p {
			return true
		}
	}
	if c.filter != nil {
		req := Request{Protocol: "http", HTTP: r, Method: r.Method}
		return !c.filter(&req)
	}
	return false
}

var serverKind = oteltrace.WithSpanKind(oteltrace.SpanKindServer)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.c
	if c.skipHTTP(r) {
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
	spanName := method
	if !known {
		spanName = "HTTP"
	}
	ctx, span := c.tracer.Start(ctx, spanName, opts...)
	ctx, id := trace.EnsureCorrelationID(ctx)
	// The span's attributes are all set in finish, in one SetAttributes
	// call: the SDK then sizes its attribute slice once (passing some at
	// start costs a second, larger allocation). Samplers therefore see no
	// attributes; the standard ones do not use them.
	w.Header()[c.corrHeaders[0]] = []string{id}

	// The handler's request exists before the observers begin: what they
	// keep of req.HTTP is then the request ServeMux sets Pattern on, so a
	// report made during the request knows its route.
	r2 := r.WithContext(ctx)
	st.req = Request{Protocol: "http", HTTP: r2, Method: method, CorrelationID: id}
	if len(c.observers) > 0 {
		ctx = c.BeginObservers(ctx, &st.req)
		*r2 = *r2.WithContext(ctx)
	}
	st.r, st.ctx, st.span = r2, ctx, span
	st.w = newResponseWriter(w)
	defer st.finish()
	h.next.ServeHTTP(st.w, r2)
}

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
	w.Header()[c.corrHeaders[0]] = []string{id}
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
		w.internalError(c.corrHeaders[0], id)
	} else {
		rethrow = !w.hijacked
	}
	status := w.status
	w.close()

	method, _ := normMethod(r.Method)
	ctx := r.Context()
	var eventID string
	if len(c.observers) > 0 {
		req := Request{Protocol: "http", HTTP: r, Method: method, CorrelationID: id}
		ctx = c.BeginObservers(ctx, &req)
		if r.Pattern != "" {
			req.Route = sanitize(patternPath(r.Pattern), maxPathLen)
		}
		out := Outcome{Status: status, Panic: p, Stack: stack, Duration: time.Since(start)}
		eventID = c.EndObservers(ctx, &req, &out)
	}
	rp := NewRecoveredPanic(p, stack)
	c.LogPanic(ctx, &rp, eventID,
		slog.String("http.request.method", method),
		slog.String("url.path", sanitize(r.URL.Path, maxPathLen)),
	)
	if rethrow {
		panic(http.ErrAbortHandler)
	}
}

// finish runs deferred: it recovers a panic, ends the span, tells the
// observers and writes the records. When the handler panicked after its
// response started, or aborted with http.ErrAbortHandler, finish panics
// with http.ErrAbortHandler once all is recorded, so that net/http aborts
// the response instead of ending it as if it were complete.
func (st *httpState) finish() {
	p := recover()
	c := st.c
	abort := p == http.ErrAbortHandler
	panicked := p != nil && !abort
	rethrow := abort
	var stack []byte
	if panicked {
		stack = debug.Stack()
		if !st.w.wroteHeader {
			st.w.internalError(c.corrHeaders[0], st.req.CorrelationID)
		} else if !st.w.hijacked {
			// A started response cannot be completed: the client must
			// see it cut (net/http closes the connection or resets the
			// HTTP/2 stream), not a truncated body that ends cleanly. A
			// hijacked connection is the handler's: net/http would do
			// nothing with the panic.
			rethrow = true
		}
	}
	dur := time.Since(st.start)
	// The last read of the writer's record: from here on it passes late
	// calls (a goroutine of the handler's) through without recording them.
	status, bodyBytes := st.w.status, st.w.bytes
	st.w.close()
	if status == 0 && !abort {
		status = http.StatusOK // what net/http sends when nothing was written
	}
	// An abort before any write sends no status at all: status stays 0 and
	// is not recorded.
	route := st.r.Pattern
	if route != "" {
		route = sanitize(patternPath(route), maxPathLen)
	}

	// Observers first, so records can carry the event ID.
	var eventID string
	if len(c.observers) > 0 {
		st.req.Route = route
		st.out = Outcome{Status: status, Panic: p, Stack: stack, Duration: dur}
		if abort {
			st.out.Panic, st.out.Err = nil, http.ErrAbortHandler
		}
		eventID = c.EndObservers(st.ctx, &st.req, &st.out)
	}

	// Each request-controlled value is sanitised (and the query redacted)
	// once, for both the span and the records.
	r := st.r
	path := sanitize(r.URL.Path, maxPathLen)
	clientIP := sanitize(c.clientIP(r), maxValueLen)
	var ua, query string
	if v := r.Header.Get("User-Agent"); v != "" {
		ua = sanitize(v, maxValueLen)
	}
	if r.URL.RawQuery != "" {
		query = c.redactor.RedactQuery(r.URL.RawQuery, maxValueLen)
	}
	var rp RecoveredPanic
	var errType string // error.type of the span and the access record
	switch {
	case panicked:
		rp = NewRecoveredPanic(p, stack)
		errType = rp.Type
	case abort:
		errType = "http.ErrAbortHandler"
	case status >= 500:
		errType = strconv.Itoa(status)
	}

	logger := c.Logger()
	ctx := st.ctx
	var level slog.Level
	switch {
	case panicked:
		level = slog.LevelError
	case abort:
		// Not a success, whatever was written: the response was cut.
		level = slog.LevelWarn
		if status != 0 {
			level = max(level, c.statusLevel(status))
		}
	default:
		level = c.statusLevel(status)
	}
	var la []slog.Attr // the access-log record's attributes; nil when disabled
	if logger.Enabled(ctx, level) {
		la = append(st.logAttrs[:0],
			slog.String("http.request.method", st.method),
			slog.String("url.path", path),
			slog.Int64("http.response.body.bytes", bodyBytes),
			slog.Duration("event.duration", dur),
			clientField(clientIP),
		)
		if status != 0 {
			la = append(la, slog.Int("http.response.status_code", status))
		}
		if errType != "" {
			la = append(la, slog.String("error.type", errType))
		}
		if route != "" {
			la = append(la, slog.String("http.route", route))
		}
		if query != "" {
			la = append(la, slog.String("url.query", query))
		}
		if ua != "" {
			la = append(la, slog.String("user_agent.original", ua))
		}
	}

	span := st.span
	attrs := append(st.attrs[:0],
		semconv.HTTPRequestMethodKey.String(st.method),
		semconv.URLPathKey.String(path),
		semconv.URLSchemeKey.String(scheme(r)),
		semconv.NetworkProtocolVersionKey.String(protoVersion(r)),
		semconv.ClientAddressKey.String(clientIP),
		attribute.String(AttrCorrelationID, st.req.CorrelationID),
	)
	if status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(status))
	}
	if st.method == "_OTHER" {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(sanitize(r.Method, maxValueLen)))
	}
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(sanitize(host, maxValueLen)))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
	}
	if ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginalKey.String(ua))
	}
	if query != "" {
		attrs = append(attrs, semconv.URLQueryKey.String(query))
	}
	for i := range c.headers {
		hc := &c.headers[i]
		vals := r.Header.Values(hc.name)
		if len(vals) == 0 {
			continue
		}
		captured := c.CapturedValues(hc.name, vals)
		attrs = append(attrs, attribute.StringSlice(hc.attrKey, captured))
		if la != nil && len(la) < len(st.logAttrs) {
			la = append(la, slog.String(hc.attrKey, strings.Join(captured, ", ")))
		}
	}
	if st.rejected > 0 {
		attrs = append(attrs, attribute.Int(AttrCorrelationIDRejected, st.rejected))
	}
	if route != "" {
		attrs = append(attrs, semconv.HTTPRouteKey.String(route))
		name := st.method
		if name == "_OTHER" {
			name = "HTTP"
		}
		span.SetName(name + " " + route)
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	switch {
	case panicked:
		rp.RecordOnSpan(span)
	case abort:
		span.SetStatus(codes.Error, "handler aborted")
	case status >= 500:
		span.SetStatus(codes.Error, "")
	}
	span.SetAttributes(attrs...)
	span.End()

	if panicked {
		c.LogPanic(ctx, &rp, eventID,
			slog.String("http.request.method", st.method),
			slog.String("url.path", path),
		)
	}
	if la != nil {
		if st.rejected > 0 && len(la) < len(st.logAttrs) {
			la = append(la, slog.Int(AttrCorrelationIDRejected, st.rejected))
		}
		if eventID != "" && len(la) < len(st.logAttrs) {
			la = append(la, slog.String(AttrErrorID, sanitize(eventID, 64)))
		}
		rec := slog.NewRecord(time.Now(), level, "request completed", 0)
		rec.AddAttrs(la...)
		HandleRecord(ctx, logger.Handler(), rec)
	}
	st.release()
	if rethrow {
		panic(http.ErrAbortHandler)
	}
}

// clientField is client.ip when the client address is an IP address (ECS
// maps client.ip as type ip: anything else would get the document
// rejected), else client.address (a unix socket, a test's fake address).
func clientField(addr string) slog.Attr {
	// Elasticsearch's ip type takes no IPv6 zone ("fe80::1%eth0").
	if a := parseAddr(addr); a.IsValid() && a.Zone() == "" {
		return slog.String("client.ip", addr)
	}
	return slog.String("client.address", addr)
}

// normMethod returns the method as the HTTP semantic conventions want it:
// a known method, or "_OTHER".
func normMethod(m string) (string, bool) {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace, "QUERY":
		return m, true
	}
	return "_OTHER", false
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func protoVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	}
	return "1.1"
}

// splitHostPort splits a Host header value; port is 0 when absent or bad.
func splitHostPort(hostport string) (string, int) {
	if hostport == "" {
		return "", 0
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.IndexByte(hostport[i:], ']') >= 0 {
		return strings.Trim(hostport, "[]"), 0
	}
	port, err := strconv.Atoi(hostport[i+1:])
	if err != nil || port <= 0 || port > 65535 {
		port = 0
	}
	return strings.Trim(hostport[:i], "[]"), port
}

// patternPath strips the method and host of a ServeMux pattern
// ("GET example.com/users/{id}" -> "/users/{id}").
func patternPath(p string) string {
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = strings.TrimLeft(p[i+1:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:]
	}
	return p
}
