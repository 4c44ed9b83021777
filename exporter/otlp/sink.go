package otlp

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/glassbox-obs/glassbox/log"
)

// scopeName is the instrumentation scope of exported log records.
const scopeName = "github.com/glassbox-obs/glassbox/log"

// Sink is a log.Sink that exports glassbox records as OTel log records
// through the OTel log SDK's batch processor: severity and severity text
// from the level, the message as body, time, trace and span IDs, and the
// document's other fields (correlation.id, error details as exception.*,
// the user's attributes, already redacted) as attributes, with the
// resource given by WithResource.
//
// Write copies the encoded document once and returns; turning it into
// attributes happens on the batch processor's goroutine, just before
// export. The queue is bounded (WithMaxQueueSize, OTEL_BLRP_MAX_QUEUE_SIZE):
// when the collector is down longer than it can absorb, new records are
// dropped and counted (see Stats), and logging never waits. The SDK reads
// OTEL_BLRP_SCHEDULE_DELAY, OTEL_BLRP_EXPORT_TIMEOUT and
// OTEL_BLRP_MAX_EXPORT_BATCH_SIZE.
//
// A Sink is safe for concurrent use.
type Sink struct {
	provider *sdklog.LoggerProvider
	bp       *sdklog.BatchProcessor
	logger   otellog.Logger
	c        *counters
	errh     otel.ErrorHandler
	abort    *abandonment
}

var (
	_ log.Sink    = (*Sink)(nil)
	_ log.Flusher = (*Sink)(nil)
)

// NewSink returns a Sink exporting through exp (see NewLogExporter). It
// owns exp: Shutdown shuts it down. Of opts, WithMaxQueueSize,
// WithResource, WithErrorHandler and WithMeterProvider apply.
func NewSink(exp sdklog.Exporter, opts ...Option) *Sink {
	cfg := newConfig("LOGS", opts)
	for _, w := range cfg.Warnings {
		cfg.ErrorHandler.Handle(w)
	}
	s := &Sink{c: &counters{limit: int64(cfg.QueueSize)}, errh: cfg.ErrorHandler, abort: newAbandonment()}
	s.bp = sdklog.NewBatchProcessor(&decodingExporter{next: exp, s: s}, sdklog.WithMaxQueueSize(cfg.QueueSize))
	popts := []sdklog.LoggerProviderOption{sdklog.WithProcessor(s.bp)}
	if cfg.Resource != nil {
		popts = append(popts, sdklog.WithResource(cfg.Resource))
	}
	s.provider = sdklog.NewLoggerProvider(popts...)
	s.logger = s.provider.Logger(scopeName)
	registerMetrics(cfg, "otlp_logs", s.c)
	return s
}

// Write queues e for export and returns at once; it never fails.
func (s *Sink) Write(ctx context.Context, e *log.Entry) error {
	if e == nil {
		return nil
	}
	if !s.c.admit() {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var r otellog.Record
	if !e.Untimed {
		r.SetTimestamp(e.Time)
	}
	r.SetObservedTimestamp(e.Time)
	r.SetSeverity(severity(e.Level))
	r.SetSeverityText(e.Level.String())
	// The document travels as the body until the exporter decodes it.
	r.SetBody(attribute.StringValue(string(e.Doc)))
	s.logger.Emit(ctx, r)
	return nil
}

// severity maps slog levels onto OTel severities: Debug 5, Info 9, Warn 13,
// Error 17, offsets kept, clamped to 1..24.
func severity(l slog.Level) otellog.Severity {
	n := int(l) + 9
	return otellog.Severity(min(max(n, 1), 24))
}

// Flush exports every queued record, by ctx's deadline. It reports an
// error when records failed to export meanwhile.
func (s *Sink) Flush(ctx context.Context) error {
	before := s.c.droppedFailed.Load()
	if err := s.provider.ForceFlush(ctx); err != nil {
		return err
	}
	if n := s.c.droppedFailed.Load() - before; n > 0 {
		return fmt.Errorf("otlp: %d log records failed to export", n)
	}
	return nil
}

// Shutdown exports what is queued and shuts the exporter down, returning
// by ctx's deadline. Records still queued or being exported then are given
// up: their exports are cancelled and they are counted in
// Stats.Dropped.Shutdown, so that nothing stays in flight; so are records
// written after Shutdown began. Calls after the first do nothing more.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.c.closeGate()
	before := s.c.droppedFailed.Load()
	err := s.provider.Shutdown(ctx)
	// The provider skips its processors when ctx is already done (as it
	// is when an earlier shutdown step used up the deadline), which would
	// leave the batch goroutine and the connection behind. Shutting the
	// processor down directly always releases them, in the background if
	// need be; after a complete provider shutdown it is a no-op.
	if perr := s.bp.Shutdown(ctx); err == nil {
		err = perr
	}
	return shutdownResult(err, s.c, s.abort, before, "log records")
}

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats { return s.c.stats() }

// decodingExporter turns the queued documents into attributes on the
// export goroutine, exports them, and settles the counters. The batch
// processor never calls Export concurrently, so buf needs no lock.
type decodingExporter struct {
	next  sdklog.Exporter
	s     *Sink
	buf   []sdklog.Record
	attrs []attribute.KeyValue
}

func (d *decodingExporter) Export(ctx context.Context, records []sdklog.Record) error {
	if len(records) == 0 || d.s.c.aborted() {
		return nil // nothing, or given up at Shutdown and counted then
	}
	ectx, cancel := d.s.abort.exportContext(ctx)
	defer cancel()
	out := d.buf[:0]
	for i := range records {
		r := records[i].Clone()
		doc := r.Body().AsString()
		msg, attrs, err := decodeDoc(doc, d.attrs[:0])
		if err != nil {
			// Cannot happen with documents from log.Handler; keep the raw
			// document rather than lose the record.
			d.s.errh.Handle(fmt.Errorf("otlp: %w", err))
		} else {
			r.SetBody(attribute.StringValue(msg))
			r.SetAttributes(attrs...)
		}
		clear(attrs)
		d.attrs = attrs[:0]
		out = append(out, r)
	}
	err := errNoExporter
	if d.next != nil {
		err = d.next.Export(ectx, out)
	}
	clear(out)
	d.buf = out[:0]
	if o := d.s.c.outcomeOf(ctx, err); d.s.c.settle(len(records), o) && o == exportFailed {
		d.s.errh.Handle(fmt.Errorf("otlp: exporting %d log records: %w", len(records), err))
	}
	return nil
}

func (d *decodingExporter) Shutdown(ctx context.Context) error {
	defer d.s.abort.exporterShutDown()
	if d.next == nil {
		return nil
	}
	return d.next.Shutdown(ctx)
}

func (d *decodingExporter) ForceFlush(ctx context.Context) error {
	if d.next == nil {
		return nil
	}
	return d.next.ForceFlush(ctx)
}
