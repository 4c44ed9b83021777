// Package trace carries the correlation ID of a unit of work in a
// context.Context and connects it to OpenTelemetry tracing.
//
// A correlation ID is the one value an on-call engineer needs to find every
// log line, span and error report of a request across services. It is valid
// when it is 1 to 128 characters of [A-Za-z0-9._:-]; anything else is never
// stored, logged or propagated. When a request arrives without one, the
// trace ID of its server span is used, so one ID finds both logs and spans.
//
// TraceContext is glassbox's W3C Trace Context propagator, which follows
// the current rules of the specification (all tracestate lines, the
// current key grammar, a repeated traceparent is invalid); Propagator
// combines it with W3C baggage and the correlation headers.
//
// Most programs need one call, made by the glassbox middleware for them:
//
//	ctx, id := trace.EnsureCorrelationID(ctx)
//
// and read it back anywhere below with trace.CorrelationID(ctx).
package trace
