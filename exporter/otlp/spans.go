package otlp

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// flushSlack is room left in the SDK's queue above our own bound, for the
// markers ForceFlush puts in it, so the SDK never drops a span uncounted.
const flushSlack = 64

// SpanProcessor is the OTel SDK's batch span processor over an exporter,
// with a bounded queue that counts what it drops and counters for what it
// exports (see Stats). Ending a span never waits for the collector.
//
// The SDK reads OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT and
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE; the queue size comes from WithMaxQueueSize
// or OTEL_BSP_MAX_QUEUE_SIZE. Only sampled spans are exported.
type SpanProcessor struct {
	bsp     sdktrace.SpanProcessor
	c       *counters
	errh    otel.ErrorHandler
	stopped atomic.Bool
}

var _ sdktrace.SpanProcessor = (*SpanProcessor)(nil)

// NewSpanProcessor returns a SpanProcessor exporting through exp (see
// NewSpanExporter). It owns exp: Shutdown shuts it down. Of opts, only
// WithMaxQueueSize and WithErrorHandler apply.
func NewSpanProcessor(exp sdktrace.SpanExporter, opts ...Option) *SpanProcessor {
	cfg := newConfig("TRACES", opts)
	p := &SpanProcessor{c: &counters{limit: int64(cfg.queueSize)}, errh: cfg.errorHandler}
	p.bsp = sdktrace.NewBatchSpanProcessor(
		&countingSpanExporter{next: exp, p: p},
		sdktrace.WithMaxQueueSize(cfg.queueSize+flushSlack),
	)
	return p
}

// OnStart implements sdktrace.SpanProcessor.
func (p *SpanProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	p.bsp.OnStart(ctx, s)
}

// OnEnd queues a sampled span for export, or counts it dropped when the
// queue is full or the processor is shut down. It never blocks.
func (p *SpanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if p.stopped.Load() {
		p.c.droppedShutdown.Add(1)
		return
	}
	if !p.c.admit() {
		return
	}
	p.bsp.OnEnd(s)
}

// ForceFlush exports every queued span, by ctx's deadline. It reports an
// error when spans failed to export meanwhile.
func (p *SpanProcessor) ForceFlush(ctx context.Context) error {
	before := p.c.failed.Load()
	err := p.bsp.ForceFlush(ctx)
	if err != nil {
		return err
	}
	if n := p.c.failed.Load() - before; n > 0 {
		return fmt.Errorf("otlp: %d spans failed to export", n)
	}
	return nil
}

// Shutdown exports what is queued and shuts the exporter down, returning
// by ctx's deadline. Spans ended afterwards are counted in DroppedShutdown.
func (p *SpanProcessor) Shutdown(ctx context.Context) error {
	p.stopped.Store(true)
	before := p.c.failed.Load()
	err := p.bsp.Shutdown(ctx)
	if err == nil {
		if n := p.c.failed.Load() - before; n > 0 {
			err = fmt.Errorf("otlp: %d spans failed to export at shutdown", n)
		}
	}
	return err
}

// Stats returns the processor's counters.
func (p *SpanProcessor) Stats() Stats { return p.c.stats() }

// countingSpanExporter settles the counters after each export and sends
// failures to the error handler (instead of the OTel global one).
type countingSpanExporter struct {
	next sdktrace.SpanExporter
	p    *SpanProcessor
}

func (e *countingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := errNoExporter
	if e.next != nil {
		err = e.next.ExportSpans(ctx, spans)
	}
	e.p.c.settle(len(spans), err == nil)
	if err != nil {
		e.p.errh.Handle(fmt.Errorf("otlp: exporting %d spans: %w", len(spans), err))
	}
	return nil
}

func (e *countingSpanExporter) Shutdown(ctx context.Context) error {
	if e.next == nil {
		return nil
	}
	return e.next.Shutdown(ctx)
}

var errNoExporter = errors.New("no exporter")
