package otlp

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
)

// TestBadBatchVariables: values of OTEL_BSP_* the SDK would take as they
// are (a negative batch size panics its batch span processor, a negative
// delay makes it spin) are reported, one warning each, and replaced by the
// defaults: spans and log records still go out.
func TestBadBatchVariables(t *testing.T) {
	bad := map[string]string{
		"OTEL_BSP_MAX_QUEUE_SIZE":        "-1",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-5",
		"OTEL_BSP_SCHEDULE_DELAY":        "-1",
		"OTEL_BSP_EXPORT_TIMEOUT":        "soon",
		"OTEL_BLRP_MAX_QUEUE_SIZE":       "0",
	}
	for k, v := range bad {
		t.Setenv(k, v)
	}
	var (
		mu       sync.Mutex
		warnings []string
	)
	eh := otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, err.Error())
	})
	for _, p := range protocols {
		srv := newServer(t, p)
		pl := newPipeline(t, p, srv.Endpoint(), WithErrorHandler(eh))
		_, sp := pl.tp.Tracer("t").Start(context.Background(), "op")
		sp.End()
		pl.logger.Info("hi")
		pl.flush(t)
		srv.WaitSpans(t, 1)
		srv.WaitLogs(t, 1)
	}
	mu.Lock()
	defer mu.Unlock()
	for name := range bad {
		n := 0
		for _, w := range warnings {
			if strings.Contains(w, name) {
				n++
			}
		}
		if n != len(protocols) {
			t.Errorf("warnings naming %s: got %d, want one per pipeline (%d) in %q", name, n, len(protocols), warnings)
		}
	}
}

// TestProtocolVariableNamedInErrors: a protocol the Go exporters cannot
// speak makes the constructors fail, naming the variable that asked for it.
func TestProtocolVariableNamedInErrors(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.name, tt.value)
			_, err := NewSpanExporter(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("NewSpanExporter: got %v, want an error naming %s", err, tt.name)
			}
		})
	}
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "thrift")
	if _, err := NewLogExporter(context.Background()); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL") {
		t.Errorf("NewLogExporter: got %v, want an error naming OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", err)
	}
}
