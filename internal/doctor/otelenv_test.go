package doctor_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox"
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

// The config check fails exactly when glassbox.Start refuses the
// environment, and warns about a variable exactly when Start reports it
// ignored through its error handler: one table through both. Start's own
// variables go through glassbox.CheckEnvironment; the OTLP exporter's,
// which it reads from the process environment, through rules doctor
// mirrors.
func TestConfigParityWithStart(t *testing.T) {
	const ep = "http://127.0.0.1:1" // OTLP on, nothing sent at Start
	for _, vars := range []map[string]string{
		{"OTEL_RESOURCE_ATTRIBUTES": "service.version=1.2,deployment.environment.name=prod"},
		{"OTEL_RESOURCE_ATTRIBUTES": "a=b,,c=d%20e"},
		{"OTEL_RESOURCE_ATTRIBUTES": "service.version"},
		{"OTEL_RESOURCE_ATTRIBUTES": "a=%zz"},
		{"GLASSBOX_LOG_FORMAT": "TEXT"},
		{"GLASSBOX_LOG_FORMAT": "yaml"},
		{"GLASSBOX_LOG_LEVEL": "info+2"},
		{"GLASSBOX_LOG_LEVEL": "verbose"},
		{"OTEL_PROPAGATORS": "tracecontext,baggage"},
		{"OTEL_PROPAGATORS": "b3, jaeger"},
		{"OTEL_PROPAGATORS": "zipkin"},
		{"OTEL_LOGS_EXPORTER": "console"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, // OTLP off: ignored
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TIMEOUT": "2500"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2s"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_TIMEOUT": "x", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "10"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_MAX_QUEUE_SIZE": "-5"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_SCHEDULE_DELAY": "soon"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BLRP_MAX_QUEUE_SIZE": "0"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_BSP_EXPORT_TIMEOUT": "100"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "-1"},
	} {
		var keys []string
		for k, v := range vars {
			keys = append(keys, k+"="+v)
		}
		t.Run(strings.Join(keys, ","), func(t *testing.T) {
			for k, v := range vars {
				t.Setenv(k, v)
			}
			h := &errs{}
			tel, err := glassbox.Start(context.Background(), glassbox.WithoutSetDefault(), glassbox.WithLogWriter(io.Discard), glassbox.WithErrorHandler(h))
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			got := configStatus(t, vars)
			if (got.Status == doctor.Fail) != (err != nil) {
				t.Fatalf("Start: %v; doctor: %s %v", err, got.Status, got.Details)
			}
			if err != nil {
				return
			}
			if (got.Status == doctor.Warn) != (h.n() > 0) {
				t.Fatalf("Start reported %v; doctor: %s %v", h.list, got.Status, got.Details)
			}
		})
	}
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

// SENTRY_SAMPLE_RATE: doctor fails exactly when sentry.New does.
func TestSampleRateParityWithSentry(t *testing.T) {
	const dsn = "https://0123456789abcdef@sentry.example.com/42"
	for _, v := range []string{"1", "0.5", "1e-3", "0", "-1", "1.01", "NaN", "half", "Inf"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("SENTRY_SAMPLE_RATE", v)
			rep, err := sentry.New(sentry.WithDSN(dsn))
			if err == nil {
				_ = rep.Shutdown(context.Background())
			}
			got := configStatus(t, map[string]string{"SENTRY_SAMPLE_RATE": v, "SENTRY_DSN": dsn})
			if (got.Status == doctor.Fail) != (err != nil) {
				t.Fatalf("sentry.New: %v; doctor: %s %v", err, got.Status, got.Details)
			}
		})
	}
}

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
