package soak

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glassbox-obs/glassbox"
)

// counts is one sink's accounting in one snapshot of glassbox.Stats,
// reduced to the identity every exporter keeps:
//
//	Produced = Delivered + Settled + Dropped (by reason) + InFlight + InSpool
//
// Settled are records settled without a new delivery: Elasticsearch's
// duplicates (409: stored already) and dead letters, Sentry's aggregated
// events (counted in a summary event).
type counts struct {
	Produced  int64            `json:"produced"`
	Delivered int64            `json:"delivered"`
	Settled   int64            `json:"settled"`
	Dropped   map[string]int64 `json:"dropped"`
	InFlight  int64            `json:"in_flight"`
	InSpool   int64            `json:"in_spool"`
}

// countsOf reads sink's counts from st.
func countsOf(st glassbox.Stats, sink string) counts {
	switch sink {
	case "elasticsearch":
		e := st.Elasticsearch
		return counts{
			Produced: e.Produced + e.Recovered, Delivered: e.Delivered, Settled: e.Duplicates + e.DeadLettered,
			Dropped: map[string]int64{
				"queue_full": e.Dropped.QueueFull, "spool_full": e.Dropped.SpoolFull,
				"retry_exhausted": e.Dropped.RetryExhausted, "shutdown": e.Dropped.Shutdown,
			},
			InFlight: e.InFlight, InSpool: e.InSpool,
		}
	case "otlp spans", "otlp logs":
		o := st.OTLPSpans
		if sink == "otlp logs" {
			o = st.OTLPLogs
		}
		return counts{
			Produced: o.Produced, Delivered: o.Exported,
			Dropped: map[string]int64{
				"queue_full": o.Dropped.QueueFull, "export_failed": o.Dropped.ExportFailed, "shutdown": o.Dropped.Shutdown,
			},
			InFlight: o.InFlight,
		}
	default:
		s := st.Sentry
		return counts{
			Produced: int64(s.Queued), Delivered: int64(s.Sent), Settled: int64(s.Aggregated),
			Dropped: map[string]int64{
				"queue_full": int64(s.DroppedQueueFull), "backoff": int64(s.DroppedBackoff),
				"rate_limited": int64(s.DroppedRateLimited), "network": int64(s.DroppedNetwork),
				"rejected": int64(s.DroppedRejected), "internal": int64(s.DroppedInternal),
				"shutdown": int64(s.DroppedShutdown),
			},
			InFlight: s.InFlight,
		}
	}
}

// dropped is the sum over all reasons.
func (c counts) dropped() int64 {
	var n int64
	for _, v := range c.Dropped {
		n += v
	}
	return n
}

// imbalance is what the identity misses: 0 when every record is
// accounted for once.
func (c counts) imbalance() int64 {
	return c.Produced - c.Delivered - c.Settled - c.dropped() - c.InFlight - c.InSpool
}

// minus is the change from prev to c (the in-flight figures are c's).
func (c counts) minus(prev counts) counts {
	d := counts{
		Produced: c.Produced - prev.Produced, Delivered: c.Delivered - prev.Delivered,
		Settled: c.Settled - prev.Settled, Dropped: map[string]int64{},
		InFlight: c.InFlight, InSpool: c.InSpool,
	}
	for k, v := range c.Dropped {
		d.Dropped[k] = v - prev.Dropped[k]
	}
	return d
}

// droppedString lists the non-zero reasons: "queue_full 12, shutdown 3".
func (c counts) droppedString() string {
	var parts []string
	for k, v := range c.Dropped {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, v))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
