package glassbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/metricsdk"
	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/middleware"
)

// manualExporter is a metrics exporter over the SDK's in-memory reader,
// built by Start as glassbox's own exporters are.
type manualExporter struct {
	name   string
	reader *sdkmetric.ManualReader
}

func newManualExporter(name string) *manualExporter {
	return &manualExporter{name: name, reader: sdkmetric.NewManualReader()}
}

func (e *manualExporter) MetricsExporterName() string { return e.name }

func (e *manualExporter) NewMetricReader(context.Context, *metricsdk.Settings) (sdkmetric.Reader, error) {
	return e.reader, nil
}

func (e *manualExporter) NewMeterProvider(s *metricsdk.Settings, readers []sdkmetric.Reader) metricsdk.Provider {
	return metricsdk.NewMeterProvider(s, readers)
}

type recordedErrors struct {
	mu  sync.Mutex
	all []string
}

func (r *recordedErrors) Handle(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, err.Error())
}

func (r *recordedErrors) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.all, "\n")
}

// TestMetricsExporterMissingNamesThePackage: OTEL_METRICS_EXPORTER naming
// an exporter that was not given fails Start with what to import.
func TestMetricsExporterMissingNamesThePackage(t *testing.T) {
	for name, want := range map[string]string{
		"prometheus": `import "github.com/glassbox-obs/glassbox/exporter/prometheus", pass glassbox.WithMetricsExporter(prometheus.New())`,
		"otlp":       `import "github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric" and pass glassbox.WithMetricsExporter(otlpmetric.New())`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Start(context.Background(), env("OTEL_METRICS_EXPORTER", name), WithLogWriter(nil), WithoutSetDefault())
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "OTEL_METRICS_EXPORTER="+name) {
				t.Fatalf("got %v, want an error naming the variable and saying: %s", err, want)
			}
		})
	}
	// Given in code, the same variable chooses it.
	tel, _ := startT(t, env("OTEL_METRICS_EXPORTER", "prometheus"), WithMetricsExporter(newManualExporter("prometheus")))
	if _, ok := tel.MeterProvider().(noop.MeterProvider); ok {
		t.Error("the exporter the variable names was given, but metrics are off")
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	prev := otel.GetMeterProvider()
	eh := &recordedErrors{}
	tel, err := Start(context.Background(), env("OTEL_METRICS_EXPORTER", "console"), WithLogWriter(nil), WithErrorHandler(eh))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	if _, ok := tel.MeterProvider().(noop.MeterProvider); !ok {
		t.Errorf("got MeterProvider %T, want the no-op one", tel.MeterProvider())
	}
	if otel.GetMeterProvider() != prev {
		t.Error("Start replaced the global MeterProvider without metrics exporters")
	}
	if !strings.Contains(eh.String(), `OTEL_METRICS_EXPORTER: exporter "console" is not supported`) {
		t.Errorf("got reports %q, want the unsupported name reported", eh)
	}
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "exporter/prometheus") {
		t.Errorf("got %d %q, want 404 saying how to turn it on", rec.Code, rec.Body.String())
	}
}

func TestMetricsNoneAndSDKDisabledWin(t *testing.T) {
	for _, e := range []Option{env("OTEL_METRICS_EXPORTER", "none"), env("OTEL_SDK_DISABLED", "true")} {
		exp := newManualExporter("otlp")
		tel, _ := startT(t, e, WithMetricsExporter(exp))
		if _, ok := tel.MeterProvider().(noop.MeterProvider); !ok {
			t.Errorf("got MeterProvider %T, want the no-op one", tel.MeterProvider())
		}
	}
}

// TestMetricsWireGlobalsAndMiddleware: with an exporter, Start installs
// its MeterProvider as the OTel global and the middleware's default, and
// Shutdown puts the previous global back.
func TestMetricsWireGlobalsAndMiddleware(t *testing.T) {
	prev := otel.GetMeterProvider()
	exp := newManualExporter("otlp")
	tel, err := Start(context.Background(), env(), WithLogWriter(nil), WithMetricsExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetMeterProvider() != tel.MeterProvider() {
		t.Error("Start did not install its MeterProvider as the OTel global")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) {})
	middleware.HTTP()(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/1", nil))
	p := metrictest.Find(t, metrictest.CollectFrom(t, exp.reader), "http.server.request.duration", map[string]string{"http.route": "/orders/{id}"})
	if p.Count != 1 || len(p.Exemplars) != 1 {
		t.Errorf("got count %d, %d exemplars; want the request, with its trace", p.Count, len(p.Exemplars))
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if otel.GetMeterProvider() != prev {
		t.Error("Shutdown did not restore the global MeterProvider")
	}
}

// TestMetricsEqualStats: through Start, every exporter publishes its
// Stats on the MeterProvider, figure for figure.
func TestMetricsEqualStats(t *testing.T) {
	// The batches leave at once. The OTLP span processor reads its delay
	// from Start's environment; the SDK's processors (the Elasticsearch
	// exporter's spans, the OTLP logs) read theirs from the process's.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20")
	t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "20")
	es := estest.New(t)
	collector := otlptest.NewHTTP(t)
	sentrySrv := sentrytest.NewServer(t)
	exp := newManualExporter("otlp")
	tel, _ := startT(t, env("OTEL_BSP_SCHEDULE_DELAY", "20"), WithMetricsExporter(exp), WithFileDir(t.TempDir()),
		WithElasticsearch(elasticsearch.WithAddresses(es.URL())),
		WithOTLP(otlp.WithEndpointURL(collector.Endpoint())),
		WithSentry(sentry.WithDSN(sentrySrv.DSN())))
	h := middleware.HTTP(tel.MiddlewareOptions()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tel.Logger().InfoContext(r.Context(), "step")
		w.WriteHeader(http.StatusInternalServerError) // reported to Sentry
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/1", nil))
	testutil.WaitFor(t, 30*time.Second, "every exporter to settle", func() bool {
		s := tel.Stats()
		return s.Elasticsearch.Delivered == s.Elasticsearch.Produced && s.Elasticsearch.InFlight == 0 &&
			s.OTLPLogs.Exported == s.OTLPLogs.Produced && s.OTLPSpans.Exported == s.OTLPSpans.Produced &&
			s.File.Written == s.File.Produced && s.Sentry.Sent == 1 && s.Sentry.InFlight == 0
	})
	if s := tel.Stats(); s.Elasticsearch.Produced < 3 || s.OTLPSpans.Produced != 1 {
		t.Fatalf("got %+v, want the request's span and records", s)
	}
	s := tel.Stats()
	points := metrictest.CollectFrom(t, exp.reader)
	otlpFigures := func(o otlp.Stats) map[string]int64 {
		return map[string]int64{"produced": o.Produced, "delivered": o.Exported, "dropped.queue_full": o.Dropped.QueueFull,
			"dropped.export_failed": o.Dropped.ExportFailed, "dropped.shutdown": o.Dropped.Shutdown, "in_flight": o.InFlight}
	}
	e := s.Elasticsearch
	for name, want := range map[string]map[string]int64{
		"elasticsearch": {"produced": e.Produced, "delivered": e.Delivered, "duplicates": e.Duplicates, "retried": e.Retried,
			"repaired": e.Repaired, "dead_lettered": e.DeadLettered, "spooled": e.Spooled, "replayed": e.Replayed,
			"journaled": e.Journaled, "recovered": e.Recovered, "spool_corrupt": e.SpoolCorrupt,
			"requests": e.Requests, "wire": e.WireBytes, "dropped.queue_full": e.Dropped.QueueFull,
			"dropped.spool_full": e.Dropped.SpoolFull, "dropped.retry_exhausted": e.Dropped.RetryExhausted,
			"dropped.shutdown": e.Dropped.Shutdown, "in_flight": e.InFlight, "in_spool": e.InSpool,
			"queue.size": e.QueuedBytes, "spool.size": e.SpooledBytes},
		"otlp_spans": otlpFigures(s.OTLPSpans),
		"otlp_logs":  otlpFigures(s.OTLPLogs),
		"sentry": {"produced": int64(s.Sentry.Queued), "delivered": int64(s.Sentry.Sent), "aggregated": int64(s.Sentry.Aggregated),
			"sampled_out": int64(s.Sentry.SampledOut), "in_flight": s.Sentry.InFlight,
			"dropped.queue_full": int64(s.Sentry.DroppedQueueFull), "dropped.backoff": int64(s.Sentry.DroppedBackoff),
			"dropped.rate_limited": int64(s.Sentry.DroppedRateLimited), "dropped.network": int64(s.Sentry.DroppedNetwork),
			"dropped.rejected": int64(s.Sentry.DroppedRejected), "dropped.internal": int64(s.Sentry.DroppedInternal),
			"dropped.shutdown": int64(s.Sentry.DroppedShutdown)},
		"file": {"produced": s.File.Produced, "delivered": s.File.Written, "dropped.queue_full": s.File.Dropped.QueueFull,
			"dropped.write_failed": s.File.Dropped.WriteFailed, "dropped.shutdown": s.File.Dropped.Shutdown,
			"in_flight": s.File.InFlight(), "queue.size": s.File.QueuedBytes},
	} {
		t.Run(name, func(t *testing.T) {
			metrictest.EqualFigures(t, metrictest.ExporterFigures(points, name), want)
		})
	}
	for _, p := range points {
		if strings.HasPrefix(p.Name, "glassbox.exporter.") && p.Unit == "" {
			t.Errorf("%s has no unit", p.Name)
		}
	}
}
