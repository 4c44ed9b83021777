package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// Attribute and log field names glassbox adds to the semantic conventions.
const (
	// AttrCorrelationID is the span attribute and log field of the
	// correlation ID.
	AttrCorrelationID = "correlation.id"
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
//   - recovers panics: 500 if nothing was written yet, an exception event on
//     the span, an error record with the stack (and error.id);
//     http.ErrAbortHandler is re-panicked as net/http expects;
//   - writes one access-log record at the end.
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

// httpState is the per-request scratch space, pooled.
type httpState struct {
	c        *Config
	w        responseWriter
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
	ctx := r.Context()
	carrier := headerCarrier(r.Header)

	ex := trace.ExtractCorrelationID(carrier, c.corrHeaders)
	st.rejected = ex.Rejected
	opts := append(st.opts[:0], serverKind)
	if c.PeerTrusted(r.RemoteAddr) {
		ctx = c.prop.Extract(ctx, carrier)
		if vals := r.Header["Baggage"]; len(vals) > 0 && !BaggageWithinLimits(vals) {
			ctx = baggage.ContextWithoutBaggage(ctx)
		}
		if ex.ID != "" {
			if cur, ok := trace.CorrelationID(ctx); !ok || cur != ex.ID {
				ctx = trace.WithCorrelationID(ctx, ex.ID)
			}
		}
	} else {
		// Public endpoint, untrusted peer: the caller's trace becomes a
		// link, its baggage and correlation ID are dropped.
		opts = append(opts, oteltrace.WithNewRoot())
		if sc := oteltrace.SpanContextFromContext(c.prop.Extract(context.Background(), carrier)); sc.IsValid() {
			opts = append(opts, oteltrace.WithLinks(oteltrace.Link{SpanContext: sc}))
		}
	}

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

	st.req = Request{Protocol: "http", HTTP: r, Method: method, CorrelationID: id}
	for _, o := range c.observers {
		ctx = o.Begin(ctx, &st.req)
	}
	r2 := r.WithContext(ctx)
	st.req.HTTP = r2
	st.r, st.ctx, st.span = r2, ctx, span
	st.w.reset(w)
	defer st.finish()
	h.next.ServeHTTP(&st.w, r2)
}

// serveSkipped serves a filtered request: no span, no access log, but the
// handler still gets a correlation ID and the response still carries it.
func (h *handler) serveSkipped(w http.ResponseWriter, r *http.Request) {
	c := h.c
	ctx := r.Context()
	id, ok := trace.CorrelationID(ctx)
	if !ok {
		if c.PeerTrusted(r.RemoteAddr) {
			id = trace.ExtractCorrelationID(headerCarrier(r.Header), c.corrHeaders).ID
		}
		if id == "" {
			id = trace.NewCorrelationID()
		}
		r = r.WithContext(trace.WithCorrelationID(ctx, id))
	}
	w.Header()[c.corrHeaders[0]] = []string{id}
	h.next.ServeHTTP(w, r)
}

// finish runs deferred: it recovers a panic, ends the span, tells the
// observers and writes the records.
func (st *httpState) finish() {
	p := recover()
	c := st.c
	abort := p == http.ErrAbortHandler
	var stack []byte
	if p != nil && !abort {
		stack = debug.Stack()
		if !st.w.wroteHeader && !st.w.hijacked {
			h := st.w.Header()
			h.Del("Content-Length")
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			st.w.WriteHeader(http.StatusInternalServerError)
			_, _ = st.w.WriteString("Internal Server Error\n")
		}
	}
	dur := time.Since(st.start)
	status := st.w.status
	if status == 0 {
		status = http.StatusOK // what net/http sends when nothing was written
	}
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
		for i := len(c.observers) - 1; i >= 0; i-- {
			if id := c.observers[i].End(st.ctx, &st.req, &st.out); id != "" && eventID == "" {
				eventID = id
			}
		}
	}

	span := st.span
	clientIP := sanitize(c.clientIP(st.r), maxValueLen)
	attrs := st.requestAttrs(clientIP)
	attrs = append(attrs,
		semconv.HTTPResponseStatusCodeKey.Int(status),
		attribute.String(AttrCorrelationID, st.req.CorrelationID),
	)
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
	var panicMsg, panicType string
	switch {
	case p != nil && !abort:
		panicMsg, panicType = sanitize(fmt.Sprint(p), 4096), fmt.Sprintf("%T", p)
		attrs = append(attrs, semconv.ErrorTypeKey.String(panicType))
		span.AddEvent(semconv.ExceptionEventName, oteltrace.WithAttributes(
			semconv.ExceptionTypeKey.String(panicType),
			semconv.ExceptionMessageKey.String(panicMsg),
			semconv.ExceptionStacktraceKey.String(string(stack)),
		))
		span.SetStatus(codes.Error, "panic: "+panicMsg)
	case abort:
		attrs = append(attrs, semconv.ErrorTypeKey.String("http.ErrAbortHandler"))
		span.SetStatus(codes.Error, "handler aborted")
	case status >= 500:
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, "")
	}
	span.SetAttributes(attrs...)
	span.End()

	logger := c.Logger()
	ctx := st.ctx
	if p != nil && !abort && logger.Enabled(ctx, slog.LevelError) {
		la := append(st.logAttrs[:0],
			slog.String("error.message", panicMsg),
			slog.String("error.type", panicType),
			slog.String("error.stack_trace", string(stack)),
			slog.String("http.request.method", st.method),
			slog.String("url.path", sanitize(st.r.URL.Path, maxPathLen)),
		)
		if eventID != "" {
			la = append(la, slog.String(AttrErrorID, sanitize(eventID, 64)))
		}
		rec := slog.NewRecord(time.Now(), slog.LevelError, "panic recovered", 0)
		rec.AddAttrs(la...)
		_ = logger.Handler().Handle(ctx, rec)
	}

	level := c.statusLevel(status)
	if p != nil && !abort {
		level = slog.LevelError
	}
	if logger.Enabled(ctx, level) {
		r := st.r
		la := append(st.logAttrs[:0],
			slog.String("http.request.method", st.method),
			slog.String("url.path", sanitize(r.URL.Path, maxPathLen)),
			slog.Int("http.response.status_code", status),
			slog.Int64("http.response.body.bytes", st.w.bytes),
			slog.Duration("event.duration", dur),
			clientField(clientIP),
		)
		if route != "" {
			la = append(la, slog.String("http.route", route))
		}
		if r.URL.RawQuery != "" {
			la = append(la, slog.String("url.query", c.redactQuery(r.URL.RawQuery)))
		}
		if ua := r.Header.Get("User-Agent"); ua != "" {
			la = append(la, slog.String("user_agent.original", sanitize(ua, maxValueLen)))
		}
		for _, hc := range c.headers {
			if len(la) == len(st.logAttrs) {
				break
			}
			if vals := r.Header.Values(hc.name); len(vals) > 0 {
				la = append(la, slog.String(hc.attrKey, strings.Join(c.headerValues(hc.name, vals), ", ")))
			}
		}
		if st.rejected > 0 && len(la) < len(st.logAttrs) {
			la = append(la, slog.Int(AttrCorrelationIDRejected, st.rejected))
		}
		if eventID != "" && len(la) < len(st.logAttrs) {
			la = append(la, slog.String(AttrErrorID, sanitize(eventID, 64)))
		}
		rec := slog.NewRecord(time.Now(), level, "request completed", 0)
		rec.AddAttrs(la...)
		_ = logger.Handler().Handle(ctx, rec)
	}
	st.release()
	if abort {
		panic(p)
	}
}

// clientField is client.ip when the client address is an IP address (ECS
// maps client.ip as type ip: anything else would get the document
// rejected), else client.address (a unix socket, a test's fake address).
func clientField(addr string) slog.Attr {
	if parseAddr(addr).IsValid() {
		return slog.String("client.ip", addr)
	}
	return slog.String("client.address", addr)
}

// requestAttrs appends the request's semantic-convention attributes to
// st.attrs[:0].
func (st *httpState) requestAttrs(clientIP string) []attribute.KeyValue {
	c, r := st.c, st.r
	attrs := append(st.attrs[:0],
		semconv.HTTPRequestMethodKey.String(st.method),
		semconv.URLPathKey.String(sanitize(r.URL.Path, maxPathLen)),
		semconv.URLSchemeKey.String(scheme(r)),
		semconv.NetworkProtocolVersionKey.String(protoVersion(r)),
		semconv.ClientAddressKey.String(clientIP),
	)
	if st.method == "_OTHER" {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(sanitize(r.Method, maxValueLen)))
	}
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(sanitize(host, maxValueLen)))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginalKey.String(sanitize(ua, maxValueLen)))
	}
	if r.URL.RawQuery != "" {
		attrs = append(attrs, semconv.URLQueryKey.String(c.redactQuery(r.URL.RawQuery)))
	}
	for _, hc := range c.headers {
		if vals := r.Header.Values(hc.name); len(vals) > 0 {
			attrs = append(attrs, attribute.StringSlice(hc.attrKey, c.headerValues(hc.name, vals)))
		}
	}
	return attrs
}

// maxHeaderValues caps the values captured per header.
const maxHeaderValues = 8

func (c *Config) headerValues(name string, vals []string) []string {
	if len(vals) > maxHeaderValues {
		vals = vals[:maxHeaderValues]
	}
	out := make([]string, len(vals))
	redact := c.redactor.Match(name)
	for i, v := range vals {
		if redact {
			out[i] = "[REDACTED]"
		} else {
			out[i] = sanitize(v, maxValueLen)
		}
	}
	return out
}

// redactQuery replaces the values of query parameters whose names are on
// the redaction list, then sanitises the result.
func (c *Config) redactQuery(q string) string {
	if c.redactor == nil || !c.queryNeedsRedaction(q) {
		return sanitize(q, maxValueLen)
	}
	var b strings.Builder
	b.Grow(len(q))
	for rest := q; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		key, _, hasVal := strings.Cut(pair, "=")
		if hasVal && c.redactor.Match(unescapeKey(key)) {
			b.WriteString(key)
			b.WriteString("=[REDACTED]")
			continue
		}
		b.WriteString(pair)
	}
	return sanitize(b.String(), maxValueLen)
}

func (c *Config) queryNeedsRedaction(q string) bool {
	for rest := q; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if key, _, hasVal := strings.Cut(pair, "="); hasVal && c.redactor.Match(unescapeKey(key)) {
			return true
		}
	}
	return false
}

func unescapeKey(k string) string {
	if strings.ContainsAny(k, "%+") {
		if u, err := url.QueryUnescape(k); err == nil {
			return u
		}
	}
	return k
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
