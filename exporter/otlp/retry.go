package otlp

import (
	"context"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/otlp/internal/oconf"
	"github.com/glassbox-obs/glassbox/internal/ecs/spandoc"
	"github.com/glassbox-obs/glassbox/log"
)

// spanExporter is the SDK's span exporter under an exportPolicy.
type spanExporter struct {
	next     sdktrace.SpanExporter
	policy   oconf.Policy
	redactor *log.Redactor
}

var _ sdktrace.SpanExporter = (*spanExporter)(nil)

// ExportSpans sends spans with their attributes redacted (spandoc.Redacted:
// the decision the span documents of the other exporters get).
func (e *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	var out []sdktrace.ReadOnlySpan // nil until a span needs redacting
	for i, s := range spans {
		if r, changed := spandoc.Redacted(s, e.redactor); changed || out != nil {
			if out == nil {
				out = append(make([]sdktrace.ReadOnlySpan, 0, len(spans)), spans[:i]...)
			}
			out = append(out, r)
		}
	}
	if out != nil {
		spans = out
	}
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
