package otlp

import "sync/atomic"

// Stats accounts for every span or log record handed to a SpanProcessor or
// Sink: Accepted = Exported + Failed + InFlight, and every one refused is in
// Dropped or DroppedShutdown.
type Stats struct {
	// Accepted counts items queued for export.
	Accepted uint64
	// Exported counts items the collector acknowledged.
	Exported uint64
	// Failed counts items whose export failed for good (a non-retryable
	// error, or retries exhausted or timed out); they are lost.
	Failed uint64
	// Dropped counts items refused because the queue was full (the
	// collector slow or down for longer than the queue can absorb).
	Dropped uint64
	// DroppedShutdown counts items refused because they came after
	// Shutdown.
	DroppedShutdown uint64
	// InFlight is the number of accepted items not yet exported or failed.
	InFlight int64
}

// counters is the lock-free bookkeeping behind Stats, and the queue gate:
// at most limit items are accepted and not yet settled.
type counters struct {
	limit           int64
	pending         atomic.Int64
	accepted        atomic.Uint64
	exported        atomic.Uint64
	failed          atomic.Uint64
	dropped         atomic.Uint64
	droppedShutdown atomic.Uint64
}

// admit reserves a queue slot, or counts a drop and reports false.
func (c *counters) admit() bool {
	if c.pending.Add(1) > c.limit {
		c.pending.Add(-1)
		c.dropped.Add(1)
		return false
	}
	c.accepted.Add(1)
	return true
}

// settle records the outcome of an export of n items.
func (c *counters) settle(n int, ok bool) {
	if ok {
		c.exported.Add(uint64(n))
	} else {
		c.failed.Add(uint64(n))
	}
	c.pending.Add(-int64(n))
}

func (c *counters) stats() Stats {
	// Read the outcomes before accepted so that InFlight is never negative
	// in a snapshot taken while exports settle.
	s := Stats{
		Exported:        c.exported.Load(),
		Failed:          c.failed.Load(),
		Dropped:         c.dropped.Load(),
		DroppedShutdown: c.droppedShutdown.Load(),
	}
	s.Accepted = c.accepted.Load()
	s.InFlight = int64(s.Accepted - s.Exported - s.Failed)
	return s
}
