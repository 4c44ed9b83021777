package file

import (
	"context"
	"sync"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/ecs/spandoc"
	"github.com/glassbox-obs/glassbox/log"
)

// LogSink returns the log.Sink that writes every log document to the logs
// file. Its Shutdown flushes (by ctx's deadline) and stops accepting
// records but leaves the Exporter running; call Exporter.Shutdown last.
func (e *Exporter) LogSink() log.Sink { return &logSink{e: e} }

type logSink struct {
	e      *Exporter
	closed atomic.Bool
}

var (
	_ log.Sink    = (*logSink)(nil)
	_ log.Flusher = (*logSink)(nil)
)

// Write queues ent.Doc as it is: the log.Entry contract makes it a
// complete document on one line, the bytes every other sink ships. It
// never blocks on the disk and never fails.
func (s *logSink) Write(_ context.Context, ent *log.Entry) error {
	if s.closed.Load() {
		s.e.dropClosed(1)
		return nil
	}
	s.e.enqueue(logsStream, ent.Doc)
	return nil
}

// Flush writes what is queued; see Exporter.Flush.
func (s *logSink) Flush(ctx context.Context) error { return s.e.Flush(ctx) }

// Shutdown flushes and stops accepting records.
func (s *logSink) Shutdown(ctx context.Context) error {
	err := s.e.Flush(ctx)
	s.closed.Store(true)
	return err
}

// SpanProcessor returns the span processor that writes every sampled span,
// when it ends, to the traces file as the ECS span document the
// Elasticsearch exporter sends (internal/ecs/spandoc.Append). It encodes on the
// ending goroutine and queues the bytes, so there is no batch processor in
// between whose drops would go uncounted. Its Shutdown flushes and stops
// accepting spans but leaves the Exporter running; call Exporter.Shutdown
// last.
func (e *Exporter) SpanProcessor() sdktrace.SpanProcessor { return &spanProcessor{e: e} }

type spanProcessor struct {
	e      *Exporter
	closed atomic.Bool
}

var _ sdktrace.SpanProcessor = (*spanProcessor)(nil)

var spanBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// OnStart does nothing.
func (p *spanProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd encodes s and queues it.
func (p *spanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if p.closed.Load() {
		p.e.dropClosed(1)
		return
	}
	bp := spanBufPool.Get().(*[]byte)
	*bp = spandoc.Append((*bp)[:0], s, &p.e.cfg.service, p.e.cfg.redactor)
	p.e.enqueue(tracesStream, *bp)
	if cap(*bp) <= 64<<10 {
		spanBufPool.Put(bp)
	}
}

// ForceFlush writes what is queued; see Exporter.Flush.
func (p *spanProcessor) ForceFlush(ctx context.Context) error { return p.e.Flush(ctx) }

// Shutdown flushes and stops accepting spans.
func (p *spanProcessor) Shutdown(ctx context.Context) error {
	err := p.e.Flush(ctx)
	p.closed.Store(true)
	return err
}
