package glassbox

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/parallel"
	"github.com/glassbox-obs/glassbox/trace"
)

// CorrelationSpanProcessor stamps every span with the correlation ID of the
// context it is started in (attribute correlation.id, see
// trace.CorrelationAttribute), so that spans started by application code
// and by instrumentation libraries inside a request are found by the same
// query as its logs. Spans started without a correlation ID in their
// context are left alone.
//
// Start registers it first on the TracerProvider it builds; register it
// yourself, before the exporting processors, on a TracerProvider you build.
// It lives here rather than in package trace so that trace depends on the
// OpenTelemetry API only. It is stateless and safe for concurrent use.
type CorrelationSpanProcessor struct{}

var _ sdktrace.SpanProcessor = CorrelationSpanProcessor{}

// OnStart sets correlation.id from ctx.
func (CorrelationSpanProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if id, ok := trace.CorrelationID(ctx); ok {
		s.SetAttributes(attribute.String(trace.CorrelationAttribute, id))
	}
}

// OnEnd does nothing.
func (CorrelationSpanProcessor) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (CorrelationSpanProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (CorrelationSpanProcessor) ForceFlush(context.Context) error { return nil }

// fanoutProcessor hands every span to several processors and shuts them
// down in parallel. The SDK's TracerProvider shuts its processors down one
// after the other and stops at the deadline, so one exporter stuck on a
// hung backend (an OTLP collector) would leave the next one (Elasticsearch)
// no time at all; here each gets the whole deadline.
type fanoutProcessor []sdktrace.SpanProcessor

var _ sdktrace.SpanProcessor = fanoutProcessor(nil)

func (f fanoutProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	for _, p := range f {
		p.OnStart(ctx, s)
	}
}

func (f fanoutProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	for _, p := range f {
		p.OnEnd(s)
	}
}

func (f fanoutProcessor) Shutdown(ctx context.Context) error {
	return f.parallel(func(p sdktrace.SpanProcessor) error { return p.Shutdown(ctx) })
}

func (f fanoutProcessor) ForceFlush(ctx context.Context) error {
	return f.parallel(func(p sdktrace.SpanProcessor) error { return p.ForceFlush(ctx) })
}

func (f fanoutProcessor) parallel(call func(sdktrace.SpanProcessor) error) error {
	return parallel.Do(len(f), func(i int) error { return call(f[i]) })
}
