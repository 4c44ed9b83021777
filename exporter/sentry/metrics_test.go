package sentry_test

import (
	"context"
	"errors"
	"testing"

	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
)

// TestMetricsEqualStats: the glassbox.exporter.* instruments report the
// figures of Stats.
func TestMetricsEqualStats(t *testing.T) {
	srv := sentrytest.NewServer(t)
	mr := metrictest.New(t)
	rep := newReporter(t, srv, gbsentry.WithMeterProvider(mr.Provider))
	rep.Report(context.Background(), errors.New("sent"))
	events(t, rep, srv, 1)
	srv.SetStatus(503)
	rep.Report(context.Background(), errors.New("rejected"))
	events(t, rep, srv, 1)
	s := rep.Stats()
	if s.Sent != 1 || s.DroppedRejected != 1 {
		t.Fatalf("got %+v, want 1 sent and 1 rejected", s)
	}
	metrictest.EqualFigures(t, metrictest.ExporterFigures(mr.Collect(t), "sentry"), map[string]int64{
		"produced": int64(s.Queued), "delivered": int64(s.Sent), "aggregated": int64(s.Aggregated),
		"sampled_out": int64(s.SampledOut), "in_flight": s.InFlight,
		"dropped.queue_full": int64(s.DroppedQueueFull), "dropped.backoff": int64(s.DroppedBackoff),
		"dropped.rate_limited": int64(s.DroppedRateLimited), "dropped.network": int64(s.DroppedNetwork),
		"dropped.rejected": int64(s.DroppedRejected), "dropped.internal": int64(s.DroppedInternal),
		"dropped.shutdown": int64(s.DroppedShutdown),
	})
}
