package otlp

import (
	"context"
	"errors"
	"fmt"

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
// OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT and
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE configure the batching (a value that is
// not a positive integer is reported to the error handler and ignored);
// the queue size comes from WithMaxQueueSize or OTEL_BSP_MAX_QUEUE_SIZE.
// Only sampled spans are exported.
type SpanProcessor struct {
	bsp   sdktrace.SpanProcessor
	c     *counters
	errh  otel.ErrorHandler
	abort *abandonment
}

var _ sdktrace.SpanProcessor = (*SpanProcessor)(nil)

// NewSpanProcessor returns a SpanProcessor exporting through exp (see
// NewSpanExporter). It owns exp: Shutdown shuts it down. Of opts, only
// WithMaxQueueSize, WithErrorHandler and WithMeterProvider apply.
func NewSpanProcessor(exp sdktrace.SpanExporter, opts ...Option) *SpanProcessor {
	cfg := newConfig("TRACES", opts)
	for _, w := range cfg.Warnings {
		cfg.ErrorHandler.Handle(w)
	}
	p := &SpanProcessor{c: &counters{limit: int64(cfg.QueueSize)}, errh: cfg.ErrorHandler, abort: newAbandonment()}
	p.bsp = sdktrace.NewBatchSpanProcessor(
		&countingSpanExporter{next: exp, p: p},
		sdktrace.WithMaxQueueSize(cfg.QueueSize+flushSlack),
		sdktrace.WithMaxExportBatchSize(cfg.BSP.MaxExportBatchSize),
		sdktrace.WithBatchTimeout(cfg.BSP.ScheduleDelay),
		sdktrace.WithExportTimeout(cfg.BSP.ExportTimeout),
	)
	registerMetrics(cfg, "otlp_spans", p.c)
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
	if !p.c.admit() {
		return
	}
	p.bsp.OnEnd(s)
}

// ForceFlush exports every queued span, by ctx's deadline. It reports an
// error when spans failed to export meanwhile.
func (p *SpanProcessor) ForceFlush(ctx context.Context) error {
	before := p.c.droppedFailed.Load()
	err := p.bsp.ForceFlush(ctx)
	if err != nil {
		return err
	}
	if n := p.c.droppedFailed.Load() - before; n > 0 {
		return fmt.Errorf("otlp: %d spans failed to export", n)
	}
	return nil
}

// Shutdown exports what is queued and shuts the exporter down, returning
// by ctx's deadline. Spans still queued or being exported then are given
// up: their exports are cancelled and they are counted in
// Stats.Dropped.Shutdown, so that nothing stays in flight; so are spans
// ended after Shutdown began. Calls after the first do nothing more.
func (p *SpanProcessor) Shutdown(ctx context.Context) error {
	p.c.closeGate()
	before := p.c.droppedFailed.Load()
	err := p.bsp.Shutdown(ctx)
	return shutdownResult(err, p.c, p.abort, before, "spans")
}

// Stats returns the processor's counters.
func (p *SpanProcessor) Stats() Stats { return p.c.stats() }

// shutdownResult gives up what a Shutdown that returned err (nil, or the
// deadline's error) left in flight, and says what was lost.
func shutdownResult(err error, c *counters, a *abandonment, failedBefore int64, what string) error {
	// Count first, then cancel: the cancelled exports then settle nothing.
	n := c.abandon()
	a.cancel()
	if n > 0 && err == nil {
		err = fmt.Errorf("otlp: %d %s not exported by the shutdown deadline", n, what)
	}
	if err == nil {
		if n := c.droppedFailed.Load() - failedBefore; n > 0 {
			err = fmt.Errorf("otlp: %d %s failed to export at shutdown", n, what)
		}
	}
	return err
}

// countingSpanExporter settles the counters after each export and sends
// failures to the error handler (instead of the OTel global one).
type countingSpanExporter struct {
	next sdktrace.SpanExporter
	p    *SpanProcessor
}

func (e *countingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.p.c.aborted() {
		return nil // given up at Shutdown, and counted then
	}
	ectx, cancel := e.p.abort.exportContext(ctx)
	defer cancel()
	err := errNoExporter
	if e.next != nil {
		err = e.next.ExportSpans(ectx, spans)
	}
	if o := e.p.c.outcomeOf(ctx, err); e.p.c.settle(len(spans), o) && o == exportFailed {
		e.p.errh.Handle(fmt.Errorf("otlp: exporting %d spans: %w", len(spans), err))
	}
	return nil
}

func (e *countingSpanExporter) Shutdown(ctx context.Context) error {
	defer e.p.abort.exporterShutDown()
	if e.next == nil {
		return nil
	}
	return e.next.Shutdown(ctx)
}

var errNoExporter = errors.New("no exporter")
