package trace

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// CorrelationAttribute is the span attribute that carries the correlation ID.
const CorrelationAttribute = "correlation.id"

// CorrelationSpanProcessor stamps every span with the correlation ID of the
// context it is started in (attribute correlation.id), so that spans started
// by application code and by instrumentation libraries inside a request are
// found by the same query as its logs. Spans started without a correlation
// ID in their context are left alone.
//
// Register it on the TracerProvider before the exporting processors
// (glassbox.Start does). It is stateless and safe for concurrent use.
type CorrelationSpanProcessor struct{}

var _ sdktrace.SpanProcessor = CorrelationSpanProcessor{}

// OnStart sets correlation.id from ctx.
func (CorrelationSpanProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if id, ok := CorrelationID(ctx); ok {
		s.SetAttributes(attribute.String(CorrelationAttribute, id))
	}
}

// OnEnd does nothing.
func (CorrelationSpanProcessor) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (CorrelationSpanProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (CorrelationSpanProcessor) ForceFlush(context.Context) error { return nil }
