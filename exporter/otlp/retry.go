package otlp

import (
	"context"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/otlp/internal/oconf"
)

// spanExporter is the SDK's span exporter under an exportPolicy.
type spanExporter struct {
	next   sdktrace.SpanExporter
	policy oconf.Policy
}

var _ sdktrace.SpanExporter = (*spanExporter)(nil)

func (e *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.policy.Run(ctx, func(ctx context.Context) error { return e.next.ExportSpans(ctx, spans) })
}

func (e *spanExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

// logExporter is the SDK's log exporter under an exportPolicy.
type logExporter struct {
	next   sdklog.Exporter
	policy oconf.Policy
}

var _ sdklog.Exporter = (*logExporter)(nil)

func (e *logExporter) Export(ctx context.Context, records []sdklog.Record) error {
	return e.policy.Run(ctx, func(ctx context.Context) error { return e.next.Export(ctx, records) })
}

func (e *logExporter) Shutdown(ctx context.Context) error   { return e.next.Shutdown(ctx) }
func (e *logExporter) ForceFlush(ctx context.Context) error { return e.next.ForceFlush(ctx) }
