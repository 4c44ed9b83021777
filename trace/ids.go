package trace

import (
	"context"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// IDs are the identifiers of the unit of work a context belongs to, read
// from it in one pass. The zero value means "none of them".
type IDs struct {
	// CorrelationID is the correlation ID, or "" when there is none.
	CorrelationID string
	// TraceID is the W3C trace ID of the current span; zero when none.
	TraceID oteltrace.TraceID
	// SpanID is the W3C span ID of the current span; zero when none.
	SpanID oteltrace.SpanID
}

// FromContext reads the correlation ID and the current span's trace and span
// IDs from ctx. Invalid (all-zero) span contexts yield zero IDs.
func FromContext(ctx context.Context) IDs {
	if ctx == nil {
		return IDs{}
	}
	var ids IDs
	ids.CorrelationID, _ = CorrelationID(ctx)
	if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() {
		ids.TraceID = sc.TraceID()
		ids.SpanID = sc.SpanID()
	}
	return ids
}

// HasTrace reports whether the IDs include a valid trace ID.
func (ids IDs) HasTrace() bool { return ids.TraceID.IsValid() }

// HasSpan reports whether the IDs include a valid span ID.
func (ids IDs) HasSpan() bool { return ids.SpanID.IsValid() }

// TraceID returns the hex trace ID of the span in ctx and whether there is
// a valid one.
func TraceID(ctx context.Context) (string, bool) {
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.TraceID().IsValid() {
		return "", false
	}
	return sc.TraceID().String(), true
}

// SpanID returns the hex span ID of the span in ctx and whether there is a
// valid one.
func SpanID(ctx context.Context) (string, bool) {
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.SpanID().IsValid() {
		return "", false
	}
	return sc.SpanID().String(), true
}
