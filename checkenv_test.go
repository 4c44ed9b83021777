package glassbox

import (
	"context"
	"io"
	"strings"
	"testing"
)

// CheckEnvironment refuses exactly what Start refuses, naming the
// variable, and lists what Start ignores.
func TestCheckEnvironmentAgreesWithStart(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"OTEL_RESOURCE_ATTRIBUTES", "service.version=1.2,deployment.environment.name=prod"},
		{"OTEL_RESOURCE_ATTRIBUTES", "service.version"},
		{"OTEL_RESOURCE_ATTRIBUTES", "a=%zz"},
		{"GLASSBOX_LOG_FORMAT", "TEXT"},
		{"GLASSBOX_LOG_FORMAT", "yaml"},
		{"GLASSBOX_LOG_LEVEL", "info+2"},
		{"GLASSBOX_LOG_LEVEL", "verbose"},
		{"OTEL_PROPAGATORS", "tracecontext, b3multi"},
		{"OTEL_PROPAGATORS", "none,zipkin"},
		{"OTEL_PROPAGATORS", "zipkin"},
		{"OTEL_TRACES_EXPORTER", "zipkin"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			getenv := func(k string) string {
				if k == tc.key {
					return tc.value
				}
				return ""
			}
			tel, err := Start(context.Background(), getenvOption(getenv), WithoutSetDefault(), WithLogWriter(io.Discard))
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			invalid, _ := CheckEnvironment(getenv)
			if (len(invalid) > 0) != (err != nil) {
				t.Fatalf("Start: %v; CheckEnvironment: %v", err, invalid)
			}
			if err != nil && (len(invalid) != 1 || invalid[0].Error() != err.Error() || !strings.Contains(err.Error(), tc.key)) {
				t.Errorf("Start: %v; CheckEnvironment: %v; want the same error, naming %s", err, invalid, tc.key)
			}
		})
	}
	_, ignored := CheckEnvironment(func(k string) string { return map[string]string{"OTEL_LOGS_EXPORTER": "console"}[k] })
	if len(ignored) != 1 || !strings.Contains(ignored[0].Error(), `OTEL_LOGS_EXPORTER: exporter "console" is not supported`) {
		t.Errorf("got ignored %v", ignored)
	}
}
