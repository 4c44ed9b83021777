package glassbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
)

// esConfig holds the Elasticsearch settings of Start. The exporter reads
// its own environment (through Start's getenv); Start only decides
// whether it is on.
type esConfig struct {
	fromEnv bool // ELASTICSEARCH_URL or ELASTICSEARCH_CLOUD_ID is set
	enabled bool // WithElasticsearch given
	opts    []elasticsearch.Option
}

func (c *esConfig) loadEnv(getenv func(string) string) error {
	c.fromEnv = strings.TrimSpace(getenv("ELASTICSEARCH_URL")) != "" ||
		strings.TrimSpace(getenv("ELASTICSEARCH_CLOUD_ID")) != ""
	return nil
}

// WithElasticsearch ships logs and spans to Elasticsearch data streams
// (logs-<dataset>-<namespace>, traces-<dataset>-<namespace>), configured by
// opts on top of the environment the exporter reads (opts win; see
// elasticsearch.New): ELASTICSEARCH_URL, ELASTICSEARCH_CLOUD_ID,
// ELASTICSEARCH_API_KEY, ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD,
// ELASTICSEARCH_CA_CERT, GLASSBOX_SPOOL_DIR, GLASSBOX_SPOOL_MODE,
// GLASSBOX_SPOOL_FSYNC, GLASSBOX_ELASTICSEARCH_TEMPLATES and
// GLASSBOX_ELASTICSEARCH_RETENTION. Without this option, Elasticsearch
// export is on when ELASTICSEARCH_URL or ELASTICSEARCH_CLOUD_ID is set;
// with neither, no connection is opened.
//
// Span documents get the same redaction as logs (WithRedactKeys,
// GLASSBOX_REDACT_KEYS). The exporter's counters (delivered, dropped by
// reason, spooled, ...) are in Telemetry.Stats().Elasticsearch.
func WithElasticsearch(opts ...elasticsearch.Option) Option {
	return optionFunc(func(c *config) {
		c.es.enabled = true
		c.es.opts = append(c.es.opts, opts...)
	})
}

func setupElasticsearch(_ context.Context, b *builder) error {
	c := &b.cfg.es
	if !c.enabled && !c.fromEnv {
		return nil
	}
	opts := append([]elasticsearch.Option{
		elasticsearch.WithGetenv(b.cfg.getenv),
		elasticsearch.WithService(b.service),
		elasticsearch.WithErrorHandler(b.errorHandler),
		elasticsearch.WithRedactor(b.redactor),
		elasticsearch.WithMeterProvider(b.meter()),
	}, c.opts...)
	exp, err := elasticsearch.New(opts...)
	if err != nil {
		return fmt.Errorf("glassbox: %w", err)
	}
	bsp := sdktrace.NewBatchSpanProcessor(exp.SpanExporter())
	// The TracerProvider shuts bsp down first; this covers a failed Start:
	// bsp hands its spans to exp before exp shuts down.
	b.onShutdown(func(ctx context.Context) error { return errors.Join(bsp.Shutdown(ctx), exp.Shutdown(ctx)) })
	b.sinks = append(b.sinks, exp.LogSink())
	b.spanProcessors = append(b.spanProcessors, bsp)
	b.onStats(func(st *Stats) { st.Elasticsearch, st.Enabled.Elasticsearch = exp.Stats(), true })
	return nil
}
