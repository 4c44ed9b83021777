package middleware

import (
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

// Transport returns an http.RoundTripper that starts a client span for each
// request (HTTP semantic conventions, status Error on 5xx and transport
// errors) and sets traceparent, tracestate, baggage and the correlation ID
// header from the request's context before calling base. A nil base means
// http.DefaultTransport. The request passed in is never modified: headers
// are set on a clone. The span ends when base.RoundTrip returns.
//
// Of the options, Transport uses WithTracerProvider, WithPropagator,
// WithCorrelationHeaders (the first name is sent) and WithRedactor (query
// values in url.full).
func Transport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, c: instrument.New(opts)}
}

type transport struct {
	base http.RoundTripper
	c    *config
}

var clientKind = oteltrace.WithSpanKind(oteltrace.SpanKindClient)

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	method, known := normMethod(req.Method)
	var attrBuf [8]attribute.KeyValue
	attrs := append(attrBuf[:0], semconv.HTTPRequestMethodKey.String(method))
	if !known {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(sanitize(req.Method, maxValueLen)))
	}
	if req.URL != nil {
		host, port := instrument.SplitHostPort(req.URL.Host)
		attrs = append(attrs, semconv.ServerAddressKey.String(sanitize(host, maxValueLen)))
		if port == 0 {
			port = defaultPort(req.URL.Scheme)
		}
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
		attrs = append(attrs, semconv.URLFullKey.String(c.Redactor.RedactURL(req.URL.String(), maxPathLen)))
	}
	if id, ok := trace.CorrelationID(ctx); ok {
		attrs = append(attrs, attribute.String(AttrCorrelationID, id))
	}
	name := method
	if !known {
		name = "HTTP"
	}
	ctx, span := c.Tracer.Start(ctx, name, clientKind, oteltrace.WithAttributes(attrs...))

	r2 := req.Clone(ctx)
	if r2.Header == nil {
		r2.Header = make(http.Header)
	}
	c.Inject(ctx, headerCarrier(r2.Header))
	if id, ok := trace.CorrelationID(ctx); ok {
		r2.Header[c.CorrHeaders[0]] = []string{id}
	}
	resp, err := t.base.RoundTrip(r2)
	switch {
	case err != nil:
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, sanitize(err.Error(), maxValueLen))
	case resp != nil:
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
			span.SetStatus(codes.Error, "")
		}
	}
	span.End()
	return resp, err
}

func errorType(err error) string {
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		err = ue.Err
	}
	return errtype.Name(err)
}

func defaultPort(scheme string) int {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}
