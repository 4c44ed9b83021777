package middleware

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

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
// It records http.client.request.duration (see WithMeterProvider) with
// the request's method, server.address, server.port, url.scheme, the
// response's status code and protocol version, and error.type (the
// status code from 400 up, or the transport error's type).
//
// Of the options, Transport uses WithTracerProvider, WithMeterProvider,
// WithPropagator, WithCorrelationHeaders (the first name is sent) and
// WithRedactor (query values in url.full).
func Transport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	c := instrument.New(opts)
	return &transport{base: base, c: c, metrics: instrument.NewHTTPClientMetrics(c)}
}

type transport struct {
	base    http.RoundTripper
	c       *config
	metrics *instrument.HTTPClientMetrics
}

var clientKind = oteltrace.WithSpanKind(oteltrace.SpanKindClient)

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	start := time.Now()
	method, known := normMethod(req.Method)
	call := instrument.HTTPClientCall{Method: method}
	var attrBuf [8]attribute.KeyValue
	attrs := append(attrBuf[:0], semconv.HTTPRequestMethodKey.String(method))
	if !known {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(sanitize(req.Method, maxValueLen)))
	}
	if req.URL != nil {
		host, port := instrument.SplitHostPort(req.URL.Host)
		call.Host = sanitize(host, maxValueLen)
		attrs = append(attrs, semconv.ServerAddressKey.String(call.Host))
		if port == 0 {
			port = defaultPort(req.URL.Scheme)
		}
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
		call.Port, call.Scheme = port, urlScheme(req.URL.Scheme)
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
		call.ErrorType = errorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(call.ErrorType))
		span.SetStatus(codes.Error, sanitize(err.Error(), maxValueLen))
	case resp != nil:
		call.Status, call.Version = resp.StatusCode, protocolVersion(resp)
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(resp.StatusCode))
		if resp.StatusCode >= 400 {
			call.ErrorType = strconv.Itoa(resp.StatusCode)
			span.SetAttributes(semconv.ErrorTypeKey.String(call.ErrorType))
			span.SetStatus(codes.Error, "")
		}
	}
	span.End()
	if t.metrics.Enabled(ctx) {
		t.metrics.Record(ctx, time.Since(start), call)
	}
	return resp, err
}

// urlScheme returns url.scheme of an outgoing request's URL, "" for one
// neither http nor https (the set stays bounded).
func urlScheme(s string) string {
	switch s {
	case "http", "https":
		return s
	}
	return ""
}

// protocolVersion returns network.protocol.version of a response.
func protocolVersion(resp *http.Response) string {
	return instrument.ProtoVersion(resp.ProtoMajor, resp.ProtoMinor)
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
