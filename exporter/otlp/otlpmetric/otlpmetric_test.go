package otlpmetric_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric"
	"github.com/glassbox-obs/glassbox/internal/metricsdk"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/middleware"
)

type errs struct {
	mu  sync.Mutex
	all []string
}

func (e *errs) Handle(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, err.Error())
}

func (e *errs) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.all, "\n")
}

// serveOne starts glassbox with opts, serves one request through the
// middleware, and returns the Telemetry.
func serveOne(t *testing.T, opts ...glassbox.Option) *glassbox.Telemetry {
	t.Helper()
	tel, err := glassbox.Start(context.Background(), append([]glassbox.Option{
		glassbox.WithServiceName("checkout"), glassbox.WithLogWriter(nil), glassbox.WithoutSetDefault(),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := middleware.HTTP(tel.MiddlewareOptions()...)(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/7", nil))
	return tel
}

// requestDuration returns the last http.server.request.duration the
// collector received, with its resource's service.name.
func requestDuration(t *testing.T, srv *otlptest.Server) (*metricspb.Metric, string) {
	t.Helper()
	for _, m := range slicesBackward(srv.Metrics()) {
		if m.Metric.GetName() == "http.server.request.duration" {
			for _, a := range m.Resource.GetAttributes() {
				if a.GetKey() == "service.name" {
					return m.Metric, a.GetValue().GetStringValue()
				}
			}
			return m.Metric, ""
		}
	}
	t.Fatalf("no http.server.request.duration among %d metrics", len(srv.Metrics()))
	return nil, ""
}

func slicesBackward(ms []otlptest.Metric) []otlptest.Metric {
	out := make([]otlptest.Metric, len(ms))
	for i, m := range ms {
		out[len(ms)-1-i] = m
	}
	return out
}

func TestExportOverBothProtocols(t *testing.T) {
	for _, p := range []otlp.Protocol{otlp.ProtocolGRPC, otlp.ProtocolHTTPProtobuf} {
		t.Run(string(p), func(t *testing.T) {
			srv := otlptest.NewHTTP(t)
			if p == otlp.ProtocolGRPC {
				srv = otlptest.NewGRPC(t)
			}
			eh := &errs{}
			tel := serveOne(t, glassbox.WithErrorHandler(eh),
				glassbox.WithMetricsExporter(otlpmetric.New(otlp.WithProtocol(p), otlp.WithEndpointURL(srv.Endpoint()))))
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			m, service := requestDuration(t, srv)
			if m.GetUnit() != "s" || service != "checkout" {
				t.Errorf("got unit %q service %q, want s and checkout", m.GetUnit(), service)
			}
			dps := m.GetHistogram().GetDataPoints()
			if len(dps) != 1 || dps[0].GetCount() != 1 {
				t.Fatalf("got %d points, want 1 with count 1: %v", len(dps), dps)
			}
			var route string
			for _, a := range dps[0].GetAttributes() {
				if a.GetKey() == "http.route" {
					route = a.GetValue().GetStringValue()
				}
			}
			if route != "/orders/{id}" || len(dps[0].GetExemplars()) == 0 {
				t.Errorf("got route %q, %d exemplars; want /orders/{id} with an exemplar", route, len(dps[0].GetExemplars()))
			}
			if eh.String() != "" {
				t.Errorf("errors reported: %s", eh)
			}
		})
	}
}

// TestWithOTLPOptionsAndInterval: WithOTLP's endpoint reaches the metrics
// exporter, and OTEL_METRIC_EXPORT_INTERVAL makes it export periodically,
// before Shutdown.
func TestWithOTLPOptionsAndInterval(t *testing.T) {
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "50")
	srv := otlptest.NewHTTP(t)
	serveOne(t, glassbox.WithOTLP(otlp.WithEndpointURL(srv.Endpoint())), glassbox.WithMetricsExporter(otlpmetric.New()))
	if !srv.WaitFor(otlptest.WaitTimeout, func() bool { return len(srv.Requests(otlptest.Metrics)) >= 2 }) {
		t.Fatalf("got %d metric exports, want periodic ones", len(srv.Requests(otlptest.Metrics)))
	}
	requestDuration(t, srv)
}

// TestBadIntervalIsReported: a value that is not a positive number of
// milliseconds is reported and the default kept.
func TestBadIntervalIsReported(t *testing.T) {
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "1m")
	srv := otlptest.NewHTTP(t)
	eh := &errs{}
	tel := serveOne(t, glassbox.WithErrorHandler(eh), glassbox.WithMetricsExporter(otlpmetric.New(otlp.WithEndpointURL(srv.Endpoint()))))
	if !strings.Contains(eh.String(), `OTEL_METRIC_EXPORT_INTERVAL: "1m" is not a positive number of milliseconds`) {
		t.Errorf("got reports %q, want the variable named", eh)
	}
	_ = tel.Shutdown(context.Background())
	requestDuration(t, srv)
}

// TestCollectorDownIsReportedNotReturned: a failed export goes to the
// error handler; Shutdown still returns on time.
func TestCollectorDownIsReported(t *testing.T) {
	srv := otlptest.NewHTTP(t)
	srv.FailAll(otlptest.Metrics, otlptest.Fault{HTTPStatus: 400})
	eh := &errs{}
	tel := serveOne(t, glassbox.WithErrorHandler(eh), glassbox.WithMetricsExporter(otlpmetric.New(otlp.WithEndpointURL(srv.Endpoint()))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if !strings.Contains(eh.String(), "otlpmetric: export") {
		t.Errorf("got reports %q, want the failed export", eh)
	}
}

// TestShutdownExportsTheExportersFinalFigures: the export Shutdown makes
// carries the exporters' figures as they stand after their own shutdown.
func TestShutdownExportsTheExportersFinalFigures(t *testing.T) {
	srv := otlptest.NewHTTP(t)
	tel, err := glassbox.Start(context.Background(), glassbox.WithLogWriter(nil), glassbox.WithoutSetDefault(),
		glassbox.WithFileDir(t.TempDir()), glassbox.WithMetricsExporter(otlpmetric.New(otlp.WithEndpointURL(srv.Endpoint()))))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tel.Logger().Info("written at shutdown")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	written := tel.Stats().File.Written
	var got int64 = -1
	for _, m := range srv.Metrics() {
		if m.Metric.GetName() != "glassbox.exporter.delivered" {
			continue
		}
		for _, dp := range m.Metric.GetSum().GetDataPoints() {
			for _, a := range dp.GetAttributes() {
				if a.GetKey() == "glassbox.exporter" && a.GetValue().GetStringValue() == "file" {
					got = dp.GetAsInt()
				}
			}
		}
	}
	if written != 3 || got != written {
		t.Errorf("got glassbox.exporter.delivered{file} %d in the last export, want Stats' %d (3)", got, written)
	}
}

// TestPerSignalVariables: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL and
// _ENDPOINT win over the shared variables, which point elsewhere.
func TestPerSignalVariables(t *testing.T) {
	srv := otlptest.NewGRPC(t)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", srv.Endpoint())
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_LOGS_EXPORTER", "none")
	tel := serveOne(t, glassbox.WithMetricsExporter(otlpmetric.New()))
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	requestDuration(t, srv)
	if r := srv.Requests(otlptest.Metrics); len(r) == 0 || !strings.HasSuffix(r[0].Path, "MetricsService/Export") {
		t.Errorf("got requests %v, want gRPC exports", r)
	}
}

// TestBadProtocolFailsStart: a protocol the exporters do not speak fails
// Start, naming the variable.
func TestBadProtocolFailsStart(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json")
	_, err := glassbox.Start(context.Background(), glassbox.WithLogWriter(nil), glassbox.WithoutSetDefault(),
		glassbox.WithMetricsExporter(otlpmetric.New()))
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") {
		t.Fatalf("got %v, want an error naming OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", err)
	}
}

// The reader Start builds reads the exporter's variables from Start's
// environment (metricsdk.Settings.Getenv), not the process's: here a
// protocol the exporters cannot speak, given only through it, is refused
// naming the variable.
func TestReaderReadsStartsEnvironment(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}
	s := &metricsdk.Settings{Getenv: func(k string) string { return env[k] }}
	r, err := otlpmetric.New(otlp.WithEndpointURL("http://127.0.0.1:1")).NewMetricReader(context.Background(), s)
	if err == nil {
		_ = r.Shutdown(context.Background())
		t.Fatal("NewMetricReader accepted a protocol of Start's environment the exporters cannot speak")
	}
	if !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") {
		t.Errorf("got %v, want the variable named", err)
	}
}
