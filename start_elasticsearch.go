package glassbox

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
)

// esConfig holds the Elasticsearch settings of Start: what the environment
// asks for, then the code options (which are applied after, so they win).
type esConfig struct {
	addresses []string // ELASTICSEARCH_URL, comma-separated
	cloudID   string   // ELASTICSEARCH_CLOUD_ID
	apiKey    string   // ELASTICSEARCH_API_KEY
	username  string   // ELASTICSEARCH_USERNAME
	password  string   // ELASTICSEARCH_PASSWORD
	caCert    string   // ELASTICSEARCH_CA_CERT: a PEM file
	spoolDir  string   // GLASSBOX_SPOOL_DIR
	templates bool     // GLASSBOX_ELASTICSEARCH_TEMPLATES=true
	retention time.Duration

	// Code options.
	enabled bool // WithElasticsearch given
	opts    []elasticsearch.Option
}

func (c *esConfig) loadEnv(getenv func(string) string) error {
	c.addresses = nil
	if v := strings.TrimSpace(getenv("ELASTICSEARCH_URL")); v != "" {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			u, err := url.Parse(a)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("glassbox: ELASTICSEARCH_URL: %q is not an http(s) URL", redactURL(a))
			}
			c.addresses = append(c.addresses, a)
		}
	}
	c.cloudID = strings.TrimSpace(getenv("ELASTICSEARCH_CLOUD_ID"))
	c.apiKey = strings.TrimSpace(getenv("ELASTICSEARCH_API_KEY"))
	c.username = getenv("ELASTICSEARCH_USERNAME")
	c.password = getenv("ELASTICSEARCH_PASSWORD")
	c.caCert = strings.TrimSpace(getenv("ELASTICSEARCH_CA_CERT"))
	c.spoolDir = strings.TrimSpace(getenv("GLASSBOX_SPOOL_DIR"))
	if v := strings.TrimSpace(getenv("GLASSBOX_ELASTICSEARCH_TEMPLATES")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("glassbox: GLASSBOX_ELASTICSEARCH_TEMPLATES: %q is not a boolean", v)
		}
		c.templates = b
	}
	if v := strings.TrimSpace(getenv("GLASSBOX_ELASTICSEARCH_RETENTION")); v != "" {
		d, err := parseRetention(v)
		if err != nil {
			return fmt.Errorf("glassbox: GLASSBOX_ELASTICSEARCH_RETENTION: %w", err)
		}
		c.retention = d
	}
	return nil
}

// parseRetention accepts a Go duration ("720h") or a number of days ("30d").
func parseRetention(v string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a positive number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 30d or 720h)", v)
	}
	return d, nil
}

// redactURL hides the password of a URL with user info.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// WithElasticsearch ships logs and spans to Elasticsearch data streams
// (logs-<dataset>-<namespace>, traces-<dataset>-<namespace>), configured by
// opts on top of the environment (opts win): ELASTICSEARCH_URL
// (comma-separated node URLs), ELASTICSEARCH_CLOUD_ID, ELASTICSEARCH_API_KEY,
// ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD, ELASTICSEARCH_CA_CERT (a
// PEM file), GLASSBOX_SPOOL_DIR (the on-disk spool),
// GLASSBOX_ELASTICSEARCH_TEMPLATES=true (install the index templates and
// ILM policy at Start, in the background) and
// GLASSBOX_ELASTICSEARCH_RETENTION (e.g. 30d). Without this option,
// Elasticsearch export is on when ELASTICSEARCH_URL or
// ELASTICSEARCH_CLOUD_ID is set; with neither, no connection is opened.
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

func setupElasticsearch(ctx context.Context, b *builder) error {
	c := &b.cfg.es
	if !c.enabled && len(c.addresses) == 0 && c.cloudID == "" {
		return nil
	}
	opts := []elasticsearch.Option{
		elasticsearch.WithService(b.service),
		elasticsearch.WithErrorHandler(b.errorHandler),
		elasticsearch.WithRedactor(b.redactor),
	}
	if len(c.addresses) > 0 {
		opts = append(opts, elasticsearch.WithAddresses(c.addresses...))
	}
	if c.cloudID != "" {
		opts = append(opts, elasticsearch.WithCloudID(c.cloudID))
	}
	if c.apiKey != "" {
		opts = append(opts, elasticsearch.WithAPIKey(c.apiKey))
	}
	if c.username != "" {
		opts = append(opts, elasticsearch.WithBasicAuth(c.username, c.password))
	}
	if c.caCert != "" {
		pem, err := os.ReadFile(c.caCert)
		if err != nil {
			return fmt.Errorf("glassbox: ELASTICSEARCH_CA_CERT: %w", err)
		}
		opts = append(opts, elasticsearch.WithCACert(pem))
	}
	if c.spoolDir != "" {
		opts = append(opts, elasticsearch.WithSpoolDir(c.spoolDir))
	}
	if c.templates {
		opts = append(opts, elasticsearch.WithTemplates())
	}
	if c.retention > 0 {
		opts = append(opts, elasticsearch.WithRetention(c.retention))
	}
	opts = append(opts, c.opts...)
	exp, err := elasticsearch.New(opts...)
	if err != nil {
		return fmt.Errorf("glassbox: %w", err)
	}
	b.onShutdown(exp.Shutdown)
	bsp := sdktrace.NewBatchSpanProcessor(exp.SpanExporter())
	// The TracerProvider shuts bsp down first; this covers a failed Start.
	b.onShutdown(bsp.Shutdown)
	b.sinks = append(b.sinks, exp.LogSink())
	b.spanProcessors = append(b.spanProcessors, bsp)
	b.onStats(func(st *Stats) { st.Elasticsearch, st.Enabled.Elasticsearch = exp.Stats(), true })
	return nil
}
