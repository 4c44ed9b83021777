package doctor_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/doctor"
)

// configStatus runs doctor with one variable set and returns the config
// check's result.
func configStatus(t *testing.T, vars map[string]string) doctor.Result {
	t.Helper()
	rep := doctor.Run(context.Background(), doctor.Options{Getenv: func(k string) string { return vars[k] }})
	return rep.Checks[0]
}

// TestDoctorReportsWhatStartReports: for a table of environments, each
// wrong in one value, the config check fails with exactly the error
// glassbox.Start returns, or warns with exactly the warning Start reports
// to its error handler, naming the variable at fault. Doctor and Start
// run the same readers (glassbox.CheckEnvironment, elasticsearch.Connect,
// otlp.TraceSettings and otlp.LogSettings, sentry.Check), doctor against
// its getenv and Start against the process environment.
func TestDoctorReportsWhatStartReports(t *testing.T) {
	const (
		ep  = "http://127.0.0.1:1" // OTLP on, nothing sent at Start
		dsn = "http://0123456789abcdef@127.0.0.1:1/42"
	)
	for _, vars := range []map[string]string{
		// Start's own variables.
		{"OTEL_RESOURCE_ATTRIBUTES": "service.version"},
		{"OTEL_RESOURCE_ATTRIBUTES": "a=%zz"},
		{"GLASSBOX_LOG_FORMAT": "yaml"},
		{"GLASSBOX_LOG_LEVEL": "verbose"},
		{"OTEL_PROPAGATORS": "zipkin"},
		{"OTEL_LOGS_EXPORTER": "console"},
		{"OTEL_METRICS_EXPORTER": "statsd"},
		{"GLASSBOX_FLIGHT_RECORDER": "maybe"},
		{"GLASSBOX_DEBUG_KEYS": "no-secret-here"},
		// The OTLP exporter's, for a signal Start exports.
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "thrift"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2s"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TIMEOUT": "x", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "10"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_MAX_QUEUE_SIZE": "-5"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_SCHEDULE_DELAY": "soon"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": ep, "OTEL_BLRP_MAX_QUEUE_SIZE": "0"},
		// The Elasticsearch exporter's.
		{"ELASTICSEARCH_URL": "ftp://es.example.com"},
		{"ELASTICSEARCH_URL": "https://elastic:hunter2@es.example.com:9200 , mailto:x"},
		{"ELASTICSEARCH_URL": ep, "GLASSBOX_SPOOL_MODE": "sometimes"},
		{"ELASTICSEARCH_URL": ep, "GLASSBOX_SPOOL_FSYNC": "often"},
		{"ELASTICSEARCH_URL": ep, "GLASSBOX_ELASTICSEARCH_RETENTION": "a month"},
		{"ELASTICSEARCH_URL": ep, "ELASTICSEARCH_CA_CERT": "/nonexistent/ca.pem"},
		// The Sentry exporter's.
		{"SENTRY_DSN": "https://sentry.example.com/42"},
		{"SENTRY_DSN": "ftp://key@sentry.example.com/42"},
		{"SENTRY_DSN": dsn, "SENTRY_SAMPLE_RATE": "1.5"},
		{"SENTRY_DSN": dsn, "SENTRY_SAMPLE_RATE": "NaN"},
		{"SENTRY_DSN": dsn, "GLASSBOX_KIBANA_URL": "kibana:5601"},
	} {
		t.Run(fmt.Sprint(vars), func(t *testing.T) {
			for k, v := range vars {
				t.Setenv(k, v)
			}
			h := &errs{}
			tel, err := glassbox.Start(context.Background(), glassbox.WithoutSetDefault(), glassbox.WithLogWriter(io.Discard), glassbox.WithErrorHandler(h))
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			got := configStatus(t, vars)
			var want string
			switch {
			case err != nil:
				want = err.Error()
				if got.Status != doctor.Fail {
					t.Fatalf("Start: %v; doctor: %s %q", err, got.Status, got.Details)
				}
			case h.n() > 0:
				want = h.list[0].Error()
				if got.Status != doctor.Warn {
					t.Fatalf("Start reported %v; doctor: %s %q", h.list, got.Status, got.Details)
				}
			default:
				t.Fatalf("Start accepts the environment without a warning; doctor: %s %q", got.Status, got.Details)
			}
			// Start's message is the doctor's line behind a package prefix.
			if len(got.Details) != 1 || !strings.HasSuffix(want, got.Details[0]) || !strings.HasPrefix(got.Details[0], variableIn(vars, got.Details[0])) {
				t.Errorf("doctor: %q\nStart: %q", got.Details, want)
			}
		})
	}
}

// TestDoctorAcceptsWhatStartAccepts: environments Start takes without a
// word pass the config check.
func TestDoctorAcceptsWhatStartAccepts(t *testing.T) {
	const ep = "http://127.0.0.1:1"
	for _, vars := range []map[string]string{
		{"OTEL_RESOURCE_ATTRIBUTES": "service.version=1.2,deployment.environment.name=prod"},
		{"OTEL_RESOURCE_ATTRIBUTES": "a=b,,c=d%20e"},
		{"GLASSBOX_LOG_FORMAT": "TEXT", "GLASSBOX_LOG_LEVEL": "info+2"},
		{"OTEL_PROPAGATORS": "tracecontext,baggage"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, // OTLP off: never read
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_EXPORT_TIMEOUT": "100"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "-1"},
		{"GLASSBOX_SPOOL_MODE": "sometimes"}, // Elasticsearch off: never read
		{"SENTRY_SAMPLE_RATE": "NaN"},        // Sentry off: never read
		{"SENTRY_DSN": "http://0123456789abcdef@127.0.0.1:1/42", "SENTRY_SAMPLE_RATE": "0.25"},
	} {
		t.Run(fmt.Sprint(vars), func(t *testing.T) {
			for k, v := range vars {
				t.Setenv(k, v)
			}
			h := &errs{}
			tel, err := glassbox.Start(context.Background(), glassbox.WithoutSetDefault(), glassbox.WithLogWriter(io.Discard), glassbox.WithErrorHandler(h))
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			_ = tel.Shutdown(context.Background())
			if h.n() > 0 {
				t.Fatalf("Start reported %v", h.list)
			}
			if got := configStatus(t, vars); got.Status != doctor.Pass {
				t.Errorf("doctor: %s %q, want pass", got.Status, got.Details)
			}
		})
	}
}

// variableIn returns the variable of vars a line starts with, or "?".
func variableIn(vars map[string]string, line string) string {
	for k := range vars {
		if strings.HasPrefix(line, k+": ") {
			return k
		}
	}
	return "?"
}

// An endpoint that is not an http(s) URL fails the check, although Start
// does not refuse it: the OTel exporter reports it to the OTel error
// handler and sends elsewhere, so nothing arrives where it was meant to.
func TestEndpointNotAURL(t *testing.T) {
	got := configStatus(t, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4318"})
	if got.Status != doctor.Fail || len(got.Details) != 1 || got.Details[0] != `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "collector:4318" is not an http(s) URL` {
		t.Errorf("got %s %v", got.Status, got.Details)
	}
}

// OTEL_TRACES_SAMPLER[_ARG]: doctor warns exactly when the OTel SDK
// reports the value through the OTel error handler (and falls back).
func TestSamplerParityWithTheSDK(t *testing.T) {
	prev := otel.GetErrorHandler()
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	for _, tc := range []struct{ sampler, arg string }{
		{"always_on", ""}, {"parentbased_always_off", ""}, {"TraceIdRatio", "0.25"},
		{"traceidratio", ""}, {"parentbased_traceidratio", "1"}, {"traceidratio", "1.5"},
		{"traceidratio", "-0.1"}, {"parentbased_traceidratio", "half"}, {"always_on", "junk"},
		{"jaeger_remote", ""}, {"xray", ""}, {"sometimes", ""},
	} {
		t.Run(tc.sampler+"/"+tc.arg, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_SAMPLER", tc.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", tc.arg)
			h := &errs{}
			otel.SetErrorHandler(h)
			_ = sdktrace.NewTracerProvider().Shutdown(context.Background())
			got := configStatus(t, map[string]string{"OTEL_TRACES_SAMPLER": tc.sampler, "OTEL_TRACES_SAMPLER_ARG": tc.arg})
			if (got.Status == doctor.Warn) != (h.n() > 0) {
				t.Fatalf("SDK reported %d errors; doctor: %s %v", h.n(), got.Status, got.Details)
			}
		})
	}
}

type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) Handle(err error) { e.mu.Lock(); e.list = append(e.list, err); e.mu.Unlock() }
func (e *errs) n() int           { e.mu.Lock(); defer e.mu.Unlock(); return len(e.list) }

// SENTRY_DSN is judged by sentry.New itself, and named.
func TestDSNErrorsNameTheVariable(t *testing.T) {
	for _, dsn := range []string{"sentry.example.com/42", "https://sentry.example.com/42", "https://key@/42", "https://key@sentry.example.com/", "ftp://key@sentry.example.com/42"} {
		_, want := sentry.New(sentry.WithDSN(dsn))
		if want == nil {
			t.Fatalf("sentry.New accepts %q", dsn)
		}
		got := configStatus(t, map[string]string{"SENTRY_DSN": dsn})
		_, reason, _ := strings.Cut(want.Error(), "invalid DSN: ")
		if got.Status != doctor.Fail || len(got.Details) != 1 || got.Details[0] != "SENTRY_DSN: invalid DSN: "+reason {
			t.Errorf("%q: got %s %v, want SENTRY_DSN: invalid DSN: %s", dsn, got.Status, got.Details, reason)
		}
		if strings.Contains(strings.Join(got.Details, ""), "WithDSN") {
			t.Errorf("%q: the details name the option, not the variable: %v", dsn, got.Details)
		}
	}
}

// TestOTLPEndpointParityWithTheSDK: the OTLP endpoint and headers, which
// the OTel SDK's exporters read from the process environment and doctor
// reads by mirrored rules (readEndpoint, readHeaders): for one table of
// environments, doctor's export request and the SDK exporter's reach the
// same path with the same headers.
func TestOTLPEndpointParityWithTheSDK(t *testing.T) {
	type seen struct {
		path    string
		headers http.Header
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, seen{r.URL.Path, r.Header.Clone()})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	for _, vars := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/otel/"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/custom/spans"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/base", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/own"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr%20t, x-tenant = blue"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2"},
	} {
		t.Run(fmt.Sprint(vars), func(t *testing.T) {
			for k, v := range vars {
				t.Setenv(k, v)
			}
			vars := maps.Clone(vars)
			vars["OTEL_LOGS_EXPORTER"] = "none"

			mu.Lock()
			reqs = nil
			mu.Unlock()
			ctx := context.Background()
			exp, err := otlp.NewSpanExporter(ctx, otlp.WithGetenv(nil), otlp.WithRetry(otlp.RetryConfig{}))
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otlp.NewSpanProcessor(exp, otlp.WithGetenv(nil))))
			_, span := tp.Tracer("t").Start(ctx, "op")
			span.End()
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if r := configStatus(t, vars); r.Status != doctor.Pass {
				t.Fatalf("doctor's config: %s %q", r.Status, r.Details)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reqs) != 2 {
				t.Fatalf("got %d requests, want the SDK's and doctor's: %+v", len(reqs), reqs)
			}
			sdk, doc := reqs[0], reqs[1]
			if sdk.path != doc.path {
				t.Errorf("path: the SDK posted to %s, doctor to %s", sdk.path, doc.path)
			}
			for k := range sdk.headers {
				if k == "User-Agent" || k == "Content-Length" || k == "Content-Encoding" || k == "Accept-Encoding" {
					continue
				}
				if got, want := doc.headers.Get(k), sdk.headers.Get(k); got != want {
					t.Errorf("header %s: the SDK sent %q, doctor %q", k, want, got)
				}
			}
		})
	}
}
