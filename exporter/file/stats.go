package file

import (
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/internal/selfmetrics"
)

// Stats are the exporter's counters since New. Every document handed to
// it is accounted for:
//
//	Produced = Written + Dropped.Total() + in flight
//
// where in flight is what waits in the queue or is being written; it is
// zero once Shutdown has returned.
type Stats struct {
	// Produced counts documents handed to the exporter (log records and spans).
	Produced int64
	// Written counts documents written to a file.
	Written int64
	// Dropped counts documents given up, by reason.
	Dropped Dropped
	// QueuedBytes is the memory held by documents not yet written.
	QueuedBytes int64
	// LastError is the latest background failure, empty if none;
	// LastErrorTime when it happened.
	LastError     string
	LastErrorTime time.Time
}

// Dropped counts documents given up, by reason.
type Dropped struct {
	// QueueFull: the queue was full when the document was written (the
	// disk slower than the program logs).
	QueueFull int64
	// WriteFailed: the file could not be opened, written or rotated (disk
	// full, permissions, the directory removed).
	WriteFailed int64
	// Shutdown: written after Shutdown, or still unwritten at its deadline.
	Shutdown int64
}

// Total is the sum over all reasons.
func (d Dropped) Total() int64 { return d.QueueFull + d.WriteFailed + d.Shutdown }

// InFlight is Produced - Written - Dropped.Total(): documents queued or
// being written.
func (s Stats) InFlight() int64 { return s.Produced - s.Written - s.Dropped.Total() }

// counters are guarded by Exporter.mu, so that a Stats snapshot is
// consistent.
type counters struct {
	produced, written                               int64
	droppedQueueFull, droppedWrite, droppedShutdown int64
	lastErr                                         string
	lastAt                                          time.Time
}

// Stats returns a consistent snapshot of the counters.
func (e *Exporter) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{
		Produced: e.st.produced,
		Written:  e.st.written,
		Dropped: Dropped{
			QueueFull:   e.st.droppedQueueFull,
			WriteFailed: e.st.droppedWrite,
			Shutdown:    e.st.droppedShutdown,
		},
		QueuedBytes:   e.queued,
		LastError:     e.st.lastErr,
		LastErrorTime: e.st.lastAt,
	}
}

// registerMetrics publishes Stats on mp (see WithMeterProvider).
func (e *Exporter) registerMetrics(mp metric.MeterProvider) error {
	return selfmetrics.Register(mp, "file", func(r *selfmetrics.Recorder) {
		s := e.Stats()
		r.Count(selfmetrics.Produced, s.Produced)
		r.Count(selfmetrics.Delivered, s.Written)
		r.Dropped("queue_full", s.Dropped.QueueFull)
		r.Dropped("write_failed", s.Dropped.WriteFailed)
		r.Dropped("shutdown", s.Dropped.Shutdown)
		r.Set(selfmetrics.InFlight, s.InFlight())
		r.Set(selfmetrics.QueueBytes, s.QueuedBytes)
	})
}
