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

// The variables whose rule doctor carries itself (the root package's
// parsers are unexported) fail in doctor exactly when glassbox.Start
// refuses them: one table through both.
func TestConfigParityWithStart(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"OTEL_RESOURCE_ATTRIBUTES", "service.version=1.2,deployment.environment.name=prod"},
		{"OTEL_RESOURCE_ATTRIBUTES", "a=b,,c=d%20e"},
		{"OTEL_RESOURCE_ATTRIBUTES", "service.version"},
		{"OTEL_RESOURCE_ATTRIBUTES", "=x"},
		{"OTEL_RESOURCE_ATTRIBUTES", "a=%zz"},
		{"GLASSBOX_LOG_FORMAT", "json"},
		{"GLASSBOX_LOG_FORMAT", "TEXT"},
		{"GLASSBOX_LOG_FORMAT", "yaml"},
		{"GLASSBOX_LOG_LEVEL", "info+2"},
		{"GLASSBOX_LOG_LEVEL", "-4"},
		{"GLASSBOX_LOG_LEVEL", "verbose"},
		{"OTEL_PROPAGATORS", "tracecontext,baggage"},
		{"OTEL_PROPAGATORS", "b3, jaeger"},
		{"OTEL_PROPAGATORS", "none"},
		{"OTEL_PROPAGATORS", "zipkin"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.key, tc.value)
			tel, err := glassbox.Start(context.Background(), glassbox.WithoutSetDefault(), glassbox.WithLogWriter(io.Discard))
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			got := configStatus(t, map[string]string{tc.key: tc.value})
			if (got.Status == doctor.Fail) != (err != nil) {
				t.Fatalf("Start: %v; doctor: %s %v", err, got.Status, got.Details)
			}
			if err != nil && !strings.Contains(strings.Join(got.Details, "\n"), tc.key+":") {
				t.Errorf("doctor's details %v do not name %s", got.Details, tc.key)
			}
		})
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
