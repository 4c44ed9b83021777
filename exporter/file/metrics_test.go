package file_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/exporter/file"
	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/log"
)

// TestMetricsEqualStats: the glassbox.exporter.* instruments report the
// figures of Stats, while records flow and after Shutdown.
func TestMetricsEqualStats(t *testing.T) {
	mr := metrictest.New(t)
	exp, _ := newExporter(t, file.WithMeterProvider(mr.Provider), file.WithQueueBytes(2000))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	want := func(s file.Stats) map[string]int64 {
		return map[string]int64{
			"produced": s.Produced, "delivered": s.Written, "dropped.queue_full": s.Dropped.QueueFull,
			"dropped.write_failed": s.Dropped.WriteFailed, "dropped.shutdown": s.Dropped.Shutdown,
			"in_flight": s.InFlight(), "queue.size": s.QueuedBytes,
		}
	}
	for range 3 {
		logger.Info("written")
		if err := exp.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	logger.Info("larger than the queue: dropped", "pad", strings.Repeat("p", 3000))
	s := exp.Stats()
	if s.Written != 3 || s.Dropped.QueueFull != 1 {
		t.Fatalf("got %+v, want 3 written and 1 dropped", s)
	}
	metrictest.EqualFigures(t, metrictest.ExporterFigures(mr.Collect(t), "file"), want(s))
	shutdown(t, exp)
	logger.Info("after shutdown")
	s = exp.Stats()
	if s.Dropped.Shutdown != 1 {
		t.Fatalf("got %+v, want one dropped at shutdown", s)
	}
	metrictest.EqualFigures(t, metrictest.ExporterFigures(mr.Collect(t), "file"), want(s))
}
