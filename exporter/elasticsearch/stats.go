package elasticsearch

import (
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/internal/selfmetrics"
)

// Stats are the exporter's counters since New. Every record is accounted
// for, once:
//
//	Produced + Recovered = Delivered + Duplicates + DeadLettered + Dropped.Total() + InSpool + InFlight
//
// where Recovered is what a previous run left in the spool, InSpool what
// waits in the spool now (for this run's replayer or the next run's) and
// InFlight what is held in memory. After Shutdown returns, InFlight is 0.
type Stats struct {
	// Produced counts documents handed to the exporter (log records and spans).
	Produced int64
	// Delivered counts documents Elasticsearch acknowledged as created.
	Delivered int64
	// Duplicates counts documents Elasticsearch already had (409 on create
	// with the same _id, after a retry whose first answer was lost). They
	// are stored once; this is not an error.
	Duplicates int64
	// Retried counts document re-sends (per-item 429/5xx and whole-request
	// failures without a spool).
	Retried int64
	// Repaired counts documents that did not come from glassbox's
	// encoders and broke a rule they keep, re-sent after repair: a
	// top-level key named like one of Elasticsearch's metadata fields
	// ("_id", "_index", ...), renamed "_id_2" (the first free suffix), or
	// a line break inside the document (see log.Entry), made a space.
	Repaired int64
	// DeadLettered counts documents rejected for good (400-class item
	// errors, a single document too large), written to the dead-letter file.
	DeadLettered int64
	// Dropped counts documents given up, by reason.
	Dropped Dropped
	// Spooled counts documents put in the spool because they could not be
	// delivered (or, in SpoolAlways mode, left in their journal for
	// replay); Replayed counts documents read back from it and settled
	// (delivered, duplicates or dead-lettered).
	Spooled, Replayed int64
	// Journaled counts documents written ahead to the spool in SpoolAlways
	// mode (every accepted one, unless the spool failed).
	Journaled int64
	// Recovered is how many documents the spool held at New, left by a
	// previous run (a crash, or an outage at its Shutdown).
	Recovered int64
	// InSpool is how many documents wait in the spool for replay:
	// Recovered + Spooled - Replayed - what the spool dropped to make room
	// or lost on disk.
	InSpool int64
	// InFlight is how many documents of this run are held in memory: queued,
	// being sent or waiting for a retry.
	InFlight int64
	// SpoolCorrupt counts the damaged places found in spool segment files
	// (a torn write, flipped bytes, a garbage header, a file removed or
	// unreadable): each drops the bad record and the rest of its file,
	// which can no longer be framed, and is reported to the error handler;
	// the records before it and the other files are replayed. Damage found
	// at New was left by an earlier run (not in Recovered); records lost
	// to damage later are counted in Dropped.SpoolFull too.
	SpoolCorrupt int64
	// QueuedBytes is the memory held by documents not yet delivered.
	QueuedBytes int64
	// SpooledBytes is the size of the spool files.
	SpooledBytes int64
	// Requests and WireBytes count bulk requests and their body bytes as
	// sent (after compression).
	Requests, WireBytes int64
	// LastError is the latest background failure, empty if none;
	// LastErrorTime when it happened.
	LastError     string
	LastErrorTime time.Time
}

// Dropped counts documents given up, by reason.
type Dropped struct {
	// QueueFull: the memory queue was full when the document was written.
	QueueFull int64
	// SpoolFull: the spool dropped its oldest segment to make room, could
	// not be written (a full or failing disk), or lost records it held (a
	// segment file removed or damaged while the exporter ran; see
	// SpoolCorrupt).
	SpoolFull int64
	// RetryExhausted: retries went on longer than the maximum elapsed time
	// and there is no spool.
	RetryExhausted int64
	// Shutdown: left undelivered at the Shutdown deadline without a spool
	// (or still held by a request that ignored cancellation when Shutdown
	// returned), or written after Shutdown.
	Shutdown int64
}

// Total is the sum over all reasons.
func (d Dropped) Total() int64 { return d.QueueFull + d.SpoolFull + d.RetryExhausted + d.Shutdown }

type counters struct {
	produced, delivered, duplicates, retried, deadLettered atomic.Int64
	droppedQueueFull, droppedSpoolFull, droppedRetry       atomic.Int64
	droppedShutdown, spooled, replayed, repaired           atomic.Int64
	requests, wireBytes, journaled, inflight, recovered    atomic.Int64

	mu      sync.Mutex
	lastErr string
	lastAt  time.Time
}

func (c *counters) setLastError(err error) {
	c.mu.Lock()
	c.lastErr, c.lastAt = err.Error(), time.Now()
	c.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (e *Exporter) Stats() Stats {
	s := Stats{
		Produced:     e.st.produced.Load(),
		Delivered:    e.st.delivered.Load(),
		Duplicates:   e.st.duplicates.Load(),
		Retried:      e.st.retried.Load(),
		Repaired:     e.st.repaired.Load(),
		DeadLettered: e.st.deadLettered.Load(),
		Dropped: Dropped{
			QueueFull:      e.st.droppedQueueFull.Load(),
			SpoolFull:      e.st.droppedSpoolFull.Load(),
			RetryExhausted: e.st.droppedRetry.Load(),
			Shutdown:       e.st.droppedShutdown.Load(),
		},
		Spooled:   e.st.spooled.Load(),
		Replayed:  e.st.replayed.Load(),
		Journaled: e.st.journaled.Load(),
		Recovered: e.st.recovered.Load(),
		InFlight:  e.st.inflight.Load(),
		Requests:  e.st.requests.Load(),
		WireBytes: e.st.wireBytes.Load(),
	}
	e.mu.Lock()
	s.QueuedBytes = e.queued
	e.mu.Unlock()
	if e.spool != nil {
		ss := e.spool.Stats()
		s.SpooledBytes = ss.Bytes
		s.Dropped.SpoolFull += ss.DroppedItems + ss.LostItems
		s.SpoolCorrupt = ss.CorruptRecords
		s.InSpool = s.Recovered + s.Spooled - s.Replayed - ss.DroppedItems - ss.LostItems
	}
	e.st.mu.Lock()
	s.LastError, s.LastErrorTime = e.st.lastErr, e.st.lastAt
	e.st.mu.Unlock()
	return s
}

// registerMetrics publishes Stats on mp (see WithMeterProvider).
func (e *Exporter) registerMetrics(mp metric.MeterProvider) error {
	return selfmetrics.Register(mp, "elasticsearch", func(r *selfmetrics.Recorder) {
		s := e.Stats()
		for _, c := range []struct {
			c selfmetrics.Counter
			n int64
		}{
			{selfmetrics.Produced, s.Produced}, {selfmetrics.Delivered, s.Delivered},
			{selfmetrics.Duplicates, s.Duplicates}, {selfmetrics.Retried, s.Retried},
			{selfmetrics.Repaired, s.Repaired}, {selfmetrics.DeadLettered, s.DeadLettered},
			{selfmetrics.Spooled, s.Spooled}, {selfmetrics.Replayed, s.Replayed},
			{selfmetrics.Journaled, s.Journaled}, {selfmetrics.Recovered, s.Recovered},
			{selfmetrics.SpoolCorrupt, s.SpoolCorrupt}, {selfmetrics.Requests, s.Requests},
			{selfmetrics.WireBytes, s.WireBytes},
		} {
			r.Count(c.c, c.n)
		}
		r.Dropped("queue_full", s.Dropped.QueueFull)
		r.Dropped("spool_full", s.Dropped.SpoolFull)
		r.Dropped("retry_exhausted", s.Dropped.RetryExhausted)
		r.Dropped("shutdown", s.Dropped.Shutdown)
		r.Set(selfmetrics.InFlight, s.InFlight)
		r.Set(selfmetrics.InSpool, s.InSpool)
		r.Set(selfmetrics.QueueBytes, s.QueuedBytes)
		r.Set(selfmetrics.SpoolBytes, s.SpooledBytes)
	})
}
