package sentry

import (
	"testing"

	"github.com/getsentry/sentry-go/report"
)

// TestOutcomeReasons: the one mapping from what became of an event to
// the Stats counter it is counted in and the client report reason Sentry
// hears it under, one row per outcome.
func TestOutcomeReasons(t *testing.T) {
	tests := []struct {
		name    string
		outcome outcome
		counter func(Stats) uint64
		reason  string // "": Sentry is not told
		dropped bool   // part of Stats.Dropped
	}{
		{"aggregated", outcomeAggregated, func(s Stats) uint64 { return s.Aggregated }, "", false},
		{"sampled out", outcomeSampledOut, func(s Stats) uint64 { return s.SampledOut }, "sample_rate", false},
		{"queue full", outcomeQueueFull, func(s Stats) uint64 { return s.DroppedQueueFull }, "queue_overflow", true},
		{"backoff", outcomeBackoff, func(s Stats) uint64 { return s.DroppedBackoff }, "ratelimit_backoff", true},
		{"rate limited by Sentry", outcomeRateLimited, func(s Stats) uint64 { return s.DroppedRateLimited }, "", true},
		{"network", outcomeNetwork, func(s Stats) uint64 { return s.DroppedNetwork }, "network_error", true},
		{"rejected", outcomeRejected, func(s Stats) uint64 { return s.DroppedRejected }, "send_error", true},
		{"internal", outcomeInternal, func(s Stats) uint64 { return s.DroppedInternal }, "internal_sdk_error", true},
		{"shutdown", outcomeShutdown, func(s Stats) uint64 { return s.DroppedShutdown }, "", true},
	}
	if len(tests) != int(numOutcomes) {
		t.Fatalf("the table has %d rows for %d outcomes", len(tests), numOutcomes)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := counters{reports: report.NewAggregator()}
			c.count(tt.outcome, 3)
			st := c.stats()
			if got := tt.counter(st); got != 3 {
				t.Errorf("got counter %d, want 3 (%+v)", got, st)
			}
			all := st.Aggregated + st.SampledOut + st.DroppedQueueFull + st.DroppedBackoff + st.DroppedRateLimited +
				st.DroppedNetwork + st.DroppedRejected + st.DroppedInternal + st.DroppedShutdown
			if want := map[bool]uint64{true: 3, false: 0}[tt.dropped]; all != 3 || st.Dropped != want {
				t.Errorf("got %+v, want the 3 events in this counter only, Dropped %d", st, want)
			}
			rep := c.reports.TakeReport()
			if tt.reason == "" {
				if rep != nil {
					t.Errorf("got client report %+v, want none", rep.DiscardedEvents)
				}
				return
			}
			if rep == nil || len(rep.DiscardedEvents) != 1 {
				t.Fatalf("got client report %+v, want one entry", rep)
			}
			d := rep.DiscardedEvents[0]
			if string(d.Reason) != tt.reason || string(d.Category) != "error" || d.Quantity != 3 {
				t.Errorf("got %+v, want %s/error/3", d, tt.reason)
			}
		})
	}
}

// TestTakeReport: the pending report becomes a client_report envelope item
// once, and comes back when its envelope was not accepted.
func TestTakeReport(t *testing.T) {
	a := report.NewAggregator()
	if item, rep := takeReport(a); item != nil || rep != nil {
		t.Fatalf("got an item with nothing pending")
	}
	c := counters{reports: a}
	c.count(outcomeQueueFull, 2)
	item, rep := takeReport(a)
	if item == nil || rep == nil {
		t.Fatal("got no item with a discard pending")
	}
	if again, _ := takeReport(a); again != nil {
		t.Errorf("the report was taken twice")
	}
	restoreReport(a, rep)
	c.count(outcomeQueueFull, 1)
	_, rep = takeReport(a)
	if rep == nil || len(rep.DiscardedEvents) != 1 || rep.DiscardedEvents[0].Quantity != 3 {
		t.Errorf("got %+v after restoring, want queue_overflow: 3", rep)
	}
	if (*report.Aggregator)(nil).TakeReport() != nil {
		t.Error("reports off: got a report")
	}
}
