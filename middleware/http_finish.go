package middleware

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/glassbox-obs/glassbox/internal/route"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

var _ instrument.Protocol = (*httpState)(nil)

// finish runs deferred: it recovers a panic, answers 500 if nothing was
// written, and hands the outcome to Config.Finish (observers, span,
// records). When the handler panicked after its response started, or
// aborted with http.ErrAbortHandler, finish panics with
// http.ErrAbortHandler once all is recorded, so that net/http aborts the
// response instead of ending it as if it were complete.
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
			st.w.internalError(c.CorrHeaders[0], st.req.CorrelationID)
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
	status := st.w.status
	st.bytes = st.w.bytes
	st.w.close()
	if status == 0 && !abort {
		status = http.StatusOK // what net/http sends when nothing was written
	}
	// An abort before any write sends no status at all: status stays 0 and
	// is not recorded.
	st.out = Outcome{Status: status, Panic: p, Stack: stack, Duration: dur}
	if abort {
		st.out.Panic, st.out.Err = nil, http.ErrAbortHandler
	}
	if pattern := st.r.Pattern; pattern != "" {
		st.req.Route = sanitize(route.FromPattern(pattern), maxPathLen)
		name := st.method
		if name == "_OTHER" {
			name = "HTTP"
		}
		st.span.SetName(name + " " + st.req.Route)
	}
	st.prepare()
	c.ActiveDone(st.active)
	c.Finish(st.ctx, &instrument.End{
		Req:       &st.req,
		Out:       &st.out,
		Span:      st.span,
		Protocol:  st,
		Rejected:  st.rejected,
		SpanAttrs: st.attrs[:0],
		LogAttrs:  st.logAttrs[:0],
	})
	st.release()
	if rethrow {
		panic(http.ErrAbortHandler)
	}
}

// prepare sanitises each request-controlled value (and redacts the query)
// once, for both the span and the records.
func (st *httpState) prepare() {
	c, r := st.c, st.r
	st.path = sanitize(r.URL.Path, maxPathLen)
	st.client = sanitize(clientIP(c, r), maxValueLen)
	if v := r.Header.Get("User-Agent"); v != "" {
		st.ua = sanitize(v, maxValueLen)
	}
	if r.URL.RawQuery != "" {
		st.query = c.Redactor.RedactQuery(r.URL.RawQuery, maxValueLen)
	}
	for i := range c.Headers {
		hc := &c.Headers[i]
		if vals := r.Header.Values(hc.Name); len(vals) > 0 {
			if st.captured == nil {
				st.captured = make([][]string, len(c.Headers))
			}
			st.captured[i] = c.CapturedValues(hc.Name, vals)
		}
	}
}

// AppendSpanAttrs appends the HTTP semantic-convention attributes of the
// server span.
func (st *httpState) AppendSpanAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	r := st.r
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(st.method),
		semconv.URLPathKey.String(st.path),
		semconv.URLSchemeKey.String(scheme(r)),
		semconv.NetworkProtocolVersionKey.String(protoVersion(r)),
		semconv.ClientAddressKey.String(st.client),
	)
	if st.out.Status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(st.out.Status))
	}
	if st.method == "_OTHER" {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(sanitize(r.Method, maxValueLen)))
	}
	if host, port := instrument.SplitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(sanitize(host, maxValueLen)))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
	}
	if st.ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginalKey.String(st.ua))
	}
	if st.query != "" {
		attrs = append(attrs, semconv.URLQueryKey.String(st.query))
	}
	for i, vals := range st.captured {
		if vals != nil {
			attrs = append(attrs, attribute.StringSlice(st.c.Headers[i].AttrKey, vals))
		}
	}
	if st.req.Route != "" {
		attrs = append(attrs, semconv.HTTPRouteKey.String(st.req.Route))
	}
	return attrs
}

// AppendAccessFields appends the HTTP fields of the access record.
func (st *httpState) AppendAccessFields(la []slog.Attr) []slog.Attr {
	la = append(la,
		slog.String("http.request.method", st.method),
		slog.String("url.path", st.path),
		slog.Int64("http.response.body.bytes", st.bytes),
		clientField(st.client),
	)
	if st.out.Status != 0 {
		la = append(la, slog.Int("http.response.status_code", st.out.Status))
	}
	if st.req.Route != "" {
		la = append(la, slog.String("http.route", st.req.Route))
	}
	if st.query != "" {
		la = append(la, slog.String("url.query", st.query))
	}
	if st.ua != "" {
		la = append(la, slog.String("user_agent.original", st.ua))
	}
	for i, vals := range st.captured {
		// Finish adds at most 4 fields: those left room for, the
		// captured headers fill the pooled array, never grow it.
		if vals != nil && len(la) < len(st.logAttrs)-4 {
			la = append(la, slog.String(st.c.Headers[i].AttrKey, strings.Join(vals, ", ")))
		}
	}
	return la
}

// AppendPanicFields appends the method and path of the request.
func (st *httpState) AppendPanicFields(la []slog.Attr) []slog.Attr {
	return append(la, slog.String("http.request.method", st.method), slog.String("url.path", st.path))
}
