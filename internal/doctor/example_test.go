package doctor_test

import (
	"context"
	"os"

	"github.com/glassbox-obs/glassbox/internal/doctor"
)

// With nothing configured, glassbox ships nothing: every backend check is
// skipped and the report is healthy.
func ExampleRun() {
	env := map[string]string{"GLASSBOX_LOG_LEVEL": "debug"}
	rep := doctor.Run(context.Background(), doctor.Options{Getenv: func(k string) string { return env[k] }})
	rep.WriteText(os.Stdout)
	if !rep.Healthy() {
		os.Exit(1)
	}
	// Output:
	// PASS  config                     1 variable set, it parses
	//                                  GLASSBOX_LOG_LEVEL
	// SKIP  elasticsearch.reachable    ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.auth         ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.version      ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.templates    ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.data         ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.clock        ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  elasticsearch.dead_letter  ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set
	// SKIP  otlp.traces                OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT are not set
	// SKIP  otlp.logs                  OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_LOGS_ENDPOINT are not set
	// SKIP  otlp.metrics               OTEL_METRICS_EXPORTER does not name otlp (metrics over OTLP are opt-in: glassbox.WithMetricsExporter(otlpmetric.New()))
	// SKIP  sentry                     SENTRY_DSN is not set
	// SKIP  spool                      GLASSBOX_SPOOL_DIR is not set (an outage longer than the queue loses the newest records)
	//
	// 1 passed, 12 skipped
}
