package otlp

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/glassbox-obs/glassbox/internal/selfmetrics"
)

// Stats account for every span or log record handed to a SpanProcessor or
// Sink, as the other glassbox exporters do:
//
//	Produced = Exported + Dropped.Total() + InFlight
//
// After Shutdown returns, InFlight is zero: what was still queued or being
// exported when its deadline passed is counted in Dropped.Shutdown.
type Stats struct {
	// Produced counts items handed over: sampled spans ended, log records
	// written.
	Produced int64
	// Exported counts items the collector acknowledged.
	Exported int64
	// Dropped counts items given up, by reason.
	Dropped Dropped
	// InFlight is the number of items queued or being exported.
	InFlight int64
}

// Dropped counts items given up, by reason.
type Dropped struct {
	// QueueFull: the queue was full (the collector slow or down for longer
	// than the queue can absorb).
	QueueFull int64
	// ExportFailed: the collector rejected the export (a non-retryable
	// answer), or retrying it went past the retry time or the timeout.
	ExportFailed int64
	// Shutdown: handed over after Shutdown began, or still queued or being
	// exported when Shutdown's deadline passed.
	Shutdown int64
}

// Total is the sum over all reasons.
func (d Dropped) Total() int64 { return d.QueueFull + d.ExportFailed + d.Shutdown }

// State bits of counters.state, above the count of pending items.
const (
	gateClosed = int64(1) << 62 // no item is admitted any more
	settled    = int64(1) << 61 // pending items were counted as dropped at shutdown
	countMask  = settled - 1
)

// counters is the lock-free bookkeeping behind Stats, and the queue gate:
// at most limit items are admitted and not yet settled. Each admitted item
// is settled exactly once: by the export that carries it, or by abandon
// at the end of Shutdown, whichever comes first.
type counters struct {
	limit int64
	// state holds the number of pending items (admitted, not settled) and
	// the gateClosed and settled bits, so that admitting, settling and
	// abandoning agree on one value.
	state            atomic.Int64
	produced         atomic.Int64
	exported         atomic.Int64
	droppedQueueFull atomic.Int64
	droppedFailed    atomic.Int64
	droppedShutdown  atomic.Int64
}

// admit reserves a queue slot, or counts a drop (queue full, or shut
// down) and reports false.
func (c *counters) admit() bool {
	c.produced.Add(1)
	for {
		v := c.state.Load()
		switch {
		case v&gateClosed != 0:
			c.droppedShutdown.Add(1)
			return false
		case v&countMask >= c.limit:
			c.droppedQueueFull.Add(1)
			return false
		}
		if c.state.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// outcome is how an export of items ended.
type outcome int

const (
	exported     outcome = iota // the collector acknowledged them
	exportFailed                // rejected, or retries gave up
	shutdownCut                 // the Shutdown deadline ended the export
)

// settle records the outcome of an export of n items. It reports false,
// counting nothing, when abandon already counted them.
func (c *counters) settle(n int, o outcome) bool {
	for {
		v := c.state.Load()
		if v&settled != 0 {
			return false
		}
		if c.state.CompareAndSwap(v, v-int64(n)) {
			break
		}
	}
	switch o {
	case exported:
		c.exported.Add(int64(n))
	case exportFailed:
		c.droppedFailed.Add(int64(n))
	default:
		c.droppedShutdown.Add(int64(n))
	}
	return true
}

// outcomeOf classifies the result err of an export that was given ctx:
// a failure because the Shutdown deadline (ctx of the SDK's final export)
// passed counts as dropped at shutdown, like what abandon counts.
func (c *counters) outcomeOf(ctx context.Context, err error) outcome {
	switch {
	case err == nil:
		return exported
	case done(ctx) && c.state.Load()&gateClosed != 0:
		return shutdownCut
	}
	return exportFailed
}

// done reports whether ctx is done or its deadline has passed (gRPC fails
// a call at its deadline a moment before the context says so).
func done(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// closeGate refuses every item from now on (counted in Dropped.Shutdown).
func (c *counters) closeGate() { c.state.Or(gateClosed) }

// abandon counts the items still pending as dropped at shutdown, once;
// later settlements are ignored. It returns how many it counted.
func (c *counters) abandon() int64 {
	old := c.state.Or(gateClosed | settled)
	if old&settled != 0 {
		return 0
	}
	n := old & countMask
	c.droppedShutdown.Add(n)
	return n
}

// aborted reports whether abandon ran: exports from then on are pointless.
func (c *counters) aborted() bool { return c.state.Load()&settled != 0 }

func (c *counters) stats() Stats {
	// Read the outcomes before produced, so that a snapshot taken while
	// items flow never shows more settled than produced.
	s := Stats{
		Exported: c.exported.Load(),
		Dropped: Dropped{
			QueueFull:    c.droppedQueueFull.Load(),
			ExportFailed: c.droppedFailed.Load(),
			Shutdown:     c.droppedShutdown.Load(),
		},
	}
	if v := c.state.Load(); v&settled == 0 {
		s.InFlight = v & countMask
	}
	s.Produced = c.produced.Load()
	return s
}

// registerMetrics publishes the counters on the WithMeterProvider
// provider (a failure goes to the error handler: the exporter works
// without its metrics).
func registerMetrics(cfg config, name string, c *counters) {
	err := selfmetrics.Register(cfg.MeterProvider, name, func(r *selfmetrics.Recorder) {
		s := c.stats()
		r.Count(selfmetrics.Produced, s.Produced)
		r.Count(selfmetrics.Delivered, s.Exported)
		r.Dropped("queue_full", s.Dropped.QueueFull)
		r.Dropped("export_failed", s.Dropped.ExportFailed)
		r.Dropped("shutdown", s.Dropped.Shutdown)
		r.Set(selfmetrics.InFlight, s.InFlight)
	})
	if err != nil {
		cfg.ErrorHandler.Handle(fmt.Errorf("otlp: %s metrics: %w", name, err))
	}
}
