package otlp

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
)

// TestMetricsEqualStats: the glassbox.exporter.* instruments of a span
// processor and a sink report the figures of their Stats.
func TestMetricsEqualStats(t *testing.T) {
	srv := otlptest.NewHTTP(t)
	mr := metrictest.New(t)
	pl := newPipeline(t, ProtocolHTTPProtobuf, srv.Endpoint(), WithMeterProvider(mr.Provider), WithRetry(RetryConfig{}))
	for range 3 {
		pl.logger.Info("exported")
		_, sp := pl.tp.Tracer("t").Start(t.Context(), "exported")
		sp.End()
	}
	pl.flush(t)
	srv.FailAll(otlptest.Logs, otlptest.Fault{Code: codes.InvalidArgument})
	pl.logger.Info("rejected")
	if err := pl.sink.Flush(t.Context()); err == nil {
		t.Fatal("Flush: got no error, want the rejected record reported")
	}
	want := func(s Stats) map[string]int64 {
		return map[string]int64{
			"produced": s.Produced, "delivered": s.Exported, "dropped.queue_full": s.Dropped.QueueFull,
			"dropped.export_failed": s.Dropped.ExportFailed, "dropped.shutdown": s.Dropped.Shutdown, "in_flight": s.InFlight,
		}
	}
	spans, logs := pl.proc.Stats(), pl.sink.Stats()
	if spans.Exported != 3 || logs.Exported != 3 || logs.Dropped.ExportFailed != 1 {
		t.Fatalf("got spans %+v logs %+v, want 3 exported each and 1 log rejected", spans, logs)
	}
	points := mr.Collect(t)
	metrictest.EqualFigures(t, metrictest.ExporterFigures(points, "otlp_spans"), want(spans))
	metrictest.EqualFigures(t, metrictest.ExporterFigures(points, "otlp_logs"), want(logs))
}
