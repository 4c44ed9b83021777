package elasticsearch

import (
	"context"
	"encoding/base64"
	"sync"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/ecs/spandoc"
	"github.com/glassbox-obs/glassbox/log"
)

// LogSink returns the log.Sink that queues every log document into the
// logs data stream. Its Shutdown flushes (by ctx's deadline) but leaves the
// Exporter running; call Exporter.Shutdown last.
func (e *Exporter) LogSink() log.Sink { return &logSink{e: e} }

type logSink struct {
	e      *Exporter
	closed atomic.Bool
}

var (
	_ log.Sink    = (*logSink)(nil)
	_ log.Flusher = (*logSink)(nil)
)

// Write queues e.Doc as it is: the log.Entry contract makes it a
// complete document on one line. It never blocks on Elasticsearch and
// never fails.
func (s *logSink) Write(_ context.Context, ent *log.Entry) error {
	if s.closed.Load() {
		s.e.st.produced.Add(1)
		s.e.st.droppedShutdown.Add(1)
		return nil
	}
	s.e.enqueue(s.e.logsAction, nil, ent.Doc)
	return nil
}

// Flush delivers what is queued; see Exporter.Flush.
func (s *logSink) Flush(ctx context.Context) error { return s.e.Flush(ctx) }

// Shutdown flushes and stops accepting records.
func (s *logSink) Shutdown(ctx context.Context) error {
	err := s.e.Flush(ctx)
	s.closed.Store(true)
	return err
}

// SpanExporter returns the sdktrace.SpanExporter that writes spans as ECS
// span documents into the traces data stream, with _id derived from the
// trace and span IDs (so a re-exported span is stored once). Use it with a
// batch span processor. Its Shutdown flushes but leaves the Exporter
// running; call Exporter.Shutdown last.
func (e *Exporter) SpanExporter() sdktrace.SpanExporter { return &spanExporter{e: e} }

type spanExporter struct {
	e      *Exporter
	closed atomic.Bool
}

var _ sdktrace.SpanExporter = (*spanExporter)(nil)

type spanBuf struct{ doc, id []byte }

var spanBufPool = sync.Pool{New: func() any { return &spanBuf{doc: make([]byte, 0, 2048), id: make([]byte, 0, 32)} }}

// ExportSpans queues the spans; it does not wait for delivery.
func (x *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if x.closed.Load() {
		x.e.st.produced.Add(int64(len(spans)))
		x.e.st.droppedShutdown.Add(int64(len(spans)))
		return nil
	}
	sb := spanBufPool.Get().(*spanBuf)
	for _, sp := range spans {
		sb.doc = spandoc.Append(sb.doc[:0], sp, &x.e.cfg.service, x.e.cfg.redactor)
		sb.doc = append(sb.doc, '\n')
		sc := sp.SpanContext()
		tid, sid := sc.TraceID(), sc.SpanID()
		var raw [24]byte
		copy(raw[:], tid[:])
		copy(raw[16:], sid[:])
		sb.id = base64.RawURLEncoding.AppendEncode(sb.id[:0], raw[:])
		x.e.enqueue(x.e.tracesAction, sb.id, sb.doc)
	}
	if cap(sb.doc) <= 64<<10 {
		spanBufPool.Put(sb)
	}
	return nil
}

// Shutdown flushes and stops accepting spans.
func (x *spanExporter) Shutdown(ctx context.Context) error {
	err := x.e.Flush(ctx)
	x.closed.Store(true)
	return err
}
