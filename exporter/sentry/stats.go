package sentry

import (
	"sync/atomic"

	"github.com/getsentry/sentry-go/report"
	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/internal/selfmetrics"
)

// Stats counts what happened to the events of a Reporter. Every event
// that passed sampling is accounted for, once:
// Queued = Sent + Aggregated + Dropped + InFlight.
//
// The Reporter tells Sentry of the events it discarded itself in client
// reports (https://develop.sentry.dev/sdk/telemetry/client-reports/),
// one reason per counter as each counter says; the quantities Sentry
// receives add up to these counters.
type Stats struct {
	// Queued is the number of events reported, after sampling. An
	// aggregation window's summary is one of them, not an extra event.
	Queued uint64
	// Sent is the number of events Sentry accepted (2xx).
	Sent uint64
	// Aggregated counts events not sent because an event with the same
	// fingerprint was sent in the aggregation window: they are counted
	// in the window's summary event (see WithAggregationWindow). They are
	// not discarded, and not in client reports: the summary carries them.
	Aggregated uint64
	// Dropped is the sum of the Dropped* counters.
	Dropped uint64
	// DroppedQueueFull counts events dropped because the queue had no
	// room for them (WithQueueBytes; Sentry slow or down). Client report
	// reason: queue_overflow.
	DroppedQueueFull uint64
	// DroppedBackoff counts events not sent because Sentry had asked the
	// Reporter to back off (Retry-After, X-Sentry-Rate-Limits) and the
	// limit had not expired. Client report reason: ratelimit_backoff.
	DroppedBackoff uint64
	// DroppedRateLimited counts events Sentry dropped for a rate limit:
	// answered 429 Too Many Requests, or accepted the envelope for the
	// client report riding along while announcing a limit on errors
	// (X-Sentry-Rate-Limits). Sentry records these outcomes itself, so
	// they are not in client reports (that would count them twice).
	DroppedRateLimited uint64
	// DroppedNetwork counts events whose request failed or timed out.
	// Client report reason: network_error.
	DroppedNetwork uint64
	// DroppedRejected counts events answered with another 4xx or 5xx
	// status, or too large to send (above Sentry's 1 MiB, which Sentry
	// would answer 413). Client report reason: send_error.
	DroppedRejected uint64
	// DroppedInternal counts events lost to a failure inside the Reporter
	// while it built or encoded them (for example, an error whose Unwrap
	// method panics). Client report reason: internal_sdk_error.
	DroppedInternal uint64
	// DroppedShutdown counts events still queued when Shutdown's deadline
	// passed, or reported after Shutdown. They are not in client reports:
	// no request can carry a report once the Reporter stopped.
	DroppedShutdown uint64
	// SampledOut counts events not sent because of the sample rate; they
	// are not in Queued. Client report reason: sample_rate.
	SampledOut uint64
	// InFlight is the number of events queued, being sent, or held for
	// an aggregation window's summary.
	InFlight int64
}

type counters struct {
	queued, sent atomic.Uint64
	inFlight     atomic.Int64
	outcomes     [numOutcomes]atomic.Uint64
	reports      *report.Aggregator // the pending client report; nil: off
}

// count records that n events had outcome o: in Stats and, when Sentry is
// to hear of it, in the pending client report.
func (c *counters) count(o outcome, n uint64) {
	c.outcomes[o].Add(n)
	if reason, ok := o.discardReason(); ok {
		c.reports.Record(reason, categoryError, int64(n)) // nil-safe: off
	}
}

// drop counts one in-flight event as lost for reason o.
func (c *counters) drop(o outcome) {
	c.count(o, 1)
	c.inFlight.Add(-1)
}

func (c *counters) stats() Stats {
	s := Stats{
		Sent:               c.sent.Load(),
		Aggregated:         c.outcomes[outcomeAggregated].Load(),
		DroppedQueueFull:   c.outcomes[outcomeQueueFull].Load(),
		DroppedBackoff:     c.outcomes[outcomeBackoff].Load(),
		DroppedRateLimited: c.outcomes[outcomeRateLimited].Load(),
		DroppedNetwork:     c.outcomes[outcomeNetwork].Load(),
		DroppedRejected:    c.outcomes[outcomeRejected].Load(),
		DroppedInternal:    c.outcomes[outcomeInternal].Load(),
		DroppedShutdown:    c.outcomes[outcomeShutdown].Load(),
		SampledOut:         c.outcomes[outcomeSampledOut].Load(),
		InFlight:           c.inFlight.Load(),
		Queued:             c.queued.Load(),
	}
	s.Dropped = s.DroppedQueueFull + s.DroppedBackoff + s.DroppedRateLimited + s.DroppedNetwork +
		s.DroppedRejected + s.DroppedInternal + s.DroppedShutdown
	return s
}

// registerMetrics publishes Stats on mp (see WithMeterProvider).
func (r *Reporter) registerMetrics(mp metric.MeterProvider) error {
	return selfmetrics.Register(mp, "sentry", func(rec *selfmetrics.Recorder) {
		s := r.Stats()
		rec.Count(selfmetrics.Produced, int64(s.Queued))
		rec.Count(selfmetrics.Delivered, int64(s.Sent))
		rec.Count(selfmetrics.Aggregated, int64(s.Aggregated))
		rec.Count(selfmetrics.SampledOut, int64(s.SampledOut))
		for _, d := range []struct {
			reason string
			n      uint64
		}{
			{"queue_full", s.DroppedQueueFull}, {"backoff", s.DroppedBackoff}, {"rate_limited", s.DroppedRateLimited},
			{"network", s.DroppedNetwork}, {"rejected", s.DroppedRejected}, {"internal", s.DroppedInternal},
			{"shutdown", s.DroppedShutdown},
		} {
			rec.Dropped(d.reason, int64(d.n))
		}
		rec.Set(selfmetrics.InFlight, s.InFlight)
	})
}
