package middleware

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// The methods below expose a Config to package grpcmw, which shares the
// options with the HTTP middleware.

// Tracer returns the tracer spans are started with.
func (c *Config) Tracer() oteltrace.Tracer { return c.tracer }

// Propagator returns the propagator for trace context and baggage.
func (c *Config) Propagator() propagation.TextMapPropagator { return c.prop }

// Observers returns the configured observers. The slice must not be
// modified.
func (c *Config) Observers() []Observer { return c.observers }

// Redactor returns the redaction list; nil redacts nothing.
func (c *Config) Redactor() *log.Redactor { return c.redactor }

// CorrelationMetadataKeys returns the correlation headers as lowercase gRPC
// metadata keys, in order of preference. The slice must not be modified.
func (c *Config) CorrelationMetadataKeys() []string { return c.corrMD }

// Inject writes the trace context and baggage of ctx into carrier through
// the propagator, for an outgoing request or call. The correlation ID is
// not the propagator's to send: the caller writes it under the first of
// CorrelationMetadataKeys (gRPC) or of the correlation headers (HTTP).
func (c *Config) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if c.isolateCorr {
		ctx = trace.WithoutCorrelationID(ctx)
	}
	c.prop.Inject(ctx, carrier)
}

// RequestMetadataKeys returns the WithRequestHeaders names as lowercase
// gRPC metadata keys. The slice must not be modified.
func (c *Config) RequestMetadataKeys() []string { return c.mdKeys }

// AppendRequestMetadata appends to dst the span attributes
// rpc.grpc.request.metadata.<key> of the WithRequestHeaders keys that md
// holds, with the values CapturedValues returns, as long as dst has fewer
// than limit attributes.
func (c *Config) AppendRequestMetadata(dst []attribute.KeyValue, md propagation.ValuesGetter, limit int) []attribute.KeyValue {
	for i := range c.headers {
		if len(dst) >= limit {
			break
		}
		hc := &c.headers[i]
		if vals := md.Values(hc.mdName); len(vals) > 0 {
			dst = append(dst, attribute.StringSlice(hc.mdAttrKey, c.CapturedValues(hc.mdName, vals)))
		}
	}
	return dst
}

// maxHeaderValues caps the values captured per header.
const maxHeaderValues = 8

// CapturedValues returns the values of a captured request header or
// metadata key as they are recorded: at most 8, each as
// log.Redactor.RedactHeader returns it ("[REDACTED]" when name is on the
// redaction list; Referer, Origin and Location without user info,
// fragment and secret query values), cut to 1 KiB.
func (c *Config) CapturedValues(name string, vals []string) []string {
	if len(vals) > maxHeaderValues {
		vals = vals[:maxHeaderValues]
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = c.redactor.RedactHeader(name, v, maxValueLen)
	}
	return out
}

// GRPCCodeLevel returns the access-log level for a gRPC status code.
func (c *Config) GRPCCodeLevel(code uint32) slog.Level { return c.codeLevel(code) }

// SkipGRPC reports whether the full gRPC method ("/pkg.Service/Method")
// gets no span and no access log: listed in WithSkipGRPCMethods (by
// method or service), or rejected by the WithFilter function.
func (c *Config) SkipGRPC(fullMethod string) bool {
	for _, m := range c.skipMethods {
		if m == fullMethod {
			return true
		}
	}
	if len(c.skipServices) > 0 {
		svc, _ := SplitGRPCMethod(fullMethod)
		for _, s := range c.skipServices {
			if s == svc {
				return true
			}
		}
	}
	if c.filter != nil {
		req := Request{Protocol: "grpc", Method: fullMethod, Route: fullMethod}
		return !c.filter(&req)
	}
	return false
}

// SplitGRPCMethod splits "/pkg.Service/Method" into "pkg.Service" and
// "Method". A malformed name yields ("", name without the leading slash).
func SplitGRPCMethod(fullMethod string) (service, method string) {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}
