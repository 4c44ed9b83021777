package sentry

import "sync/atomic"

// Stats counts what happened to the events of a Reporter. Every event
// that passed sampling is accounted for, once:
// Queued = Sent + Aggregated + Dropped + InFlight.
type Stats struct {
	// Queued is the number of events reported, after sampling. An
	// aggregation window's summary is one of them, not an extra event.
	Queued uint64
	// Sent is the number of events Sentry accepted (2xx).
	Sent uint64
	// Aggregated counts events not sent because an event with the same
	// fingerprint was sent in the aggregation window: they are counted
	// in the window's summary event (see WithAggregationWindow).
	Aggregated uint64
	// Dropped is the sum of the Dropped* counters.
	Dropped uint64
	// DroppedQueueFull counts events dropped because the queue had no
	// room for them (WithQueueBytes; Sentry slow or down).
	DroppedQueueFull uint64
	// DroppedRateLimited counts events answered 429 or not sent because
	// Sentry asked us to back off (Retry-After, X-Sentry-Rate-Limits).
	DroppedRateLimited uint64
	// DroppedNetwork counts events whose request failed or timed out.
	DroppedNetwork uint64
	// DroppedRejected counts events answered with another non-2xx
	// status, or too large to send (above Sentry's 1 MiB).
	DroppedRejected uint64
	// DroppedShutdown counts events still queued when Shutdown's deadline
	// passed, or reported after Shutdown.
	DroppedShutdown uint64
	// SampledOut counts events not sent because of the sample rate; they
	// are not in Queued.
	SampledOut uint64
	// InFlight is the number of events queued, being sent, or held for
	// an aggregation window's summary.
	InFlight int64
}

type counters struct {
	queued, sent, aggregated                                        atomic.Uint64
	queueFull, rateLimited, network, rejected, shutdown, sampledOut atomic.Uint64
	inFlight                                                        atomic.Int64
}

func (c *counters) stats() Stats {
	s := Stats{
		Sent:               c.sent.Load(),
		Aggregated:         c.aggregated.Load(),
		DroppedQueueFull:   c.queueFull.Load(),
		DroppedRateLimited: c.rateLimited.Load(),
		DroppedNetwork:     c.network.Load(),
		DroppedRejected:    c.rejected.Load(),
		DroppedShutdown:    c.shutdown.Load(),
		SampledOut:         c.sampledOut.Load(),
		InFlight:           c.inFlight.Load(),
		Queued:             c.queued.Load(),
	}
	s.Dropped = s.DroppedQueueFull + s.DroppedRateLimited + s.DroppedNetwork + s.DroppedRejected + s.DroppedShutdown
	return s
}
