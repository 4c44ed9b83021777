package glassbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/glassbox-obs/glassbox/internal/metricsdk"
)

// MetricsExporter is a metrics exporter for WithMetricsExporter:
// otlpmetric.New() of package
// github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric (name "otlp")
// or prometheus.New() of package
// github.com/glassbox-obs/glassbox/exporter/prometheus (name
// "prometheus"). The OTel metrics SDK lives behind them: a program that
// passes none does not link it (about 2 MB of binary).
type MetricsExporter = metricsdk.Exporter

// metricsConfig decides the metrics exporters of Start: the ones of
// WithMetricsExporter, as OTEL_METRICS_EXPORTER selects among them.
type metricsConfig struct {
	env      []string // OTEL_METRICS_EXPORTER, lowercased; nil when unset
	warnings []error  // ignored names, reported at setup

	// Code options.
	exporters []MetricsExporter
}

func (c *metricsConfig) loadEnv(getenv func(string) string) {
	c.env = nil
	for _, v := range strings.Split(getenv("OTEL_METRICS_EXPORTER"), ",") {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "":
		case "otlp", "prometheus", "none":
			c.env = append(c.env, v)
		default:
			c.warnings = append(c.warnings, fmt.Errorf("glassbox: OTEL_METRICS_EXPORTER: exporter %q is not supported, ignored (want otlp, prometheus or none)", v))
		}
	}
}

// WithMetricsExporter turns metrics on: the middleware's request metrics
// and the exporters' own (glassbox.exporter.*), through a MeterProvider
// Start builds with the service's resource and installs as the OTel
// global and the middleware's default. Pass otlpmetric.New() to export
// over OTLP, prometheus.New() to serve Telemetry.MetricsHandler; several
// calls add exporters.
//
// OTEL_METRICS_EXPORTER (a list of otlp, prometheus, none), when set,
// chooses among the exporters given: "none" turns metrics off, and a name
// whose exporter was not given makes Start fail with an error that says
// which package to import. Without it every exporter given is on.
// OTEL_SDK_DISABLED=true turns metrics off. Default: no metrics, and the
// metrics SDK is not linked; OTEL_METRICS_EXPORTER alone cannot turn them
// on, since glassbox keeps its promise that nothing configured in code
// means nothing on the network.
func WithMetricsExporter(e MetricsExporter) Option {
	return optionFunc(func(c *config) {
		if e != nil {
			c.metrics.exporters = append(c.metrics.exporters, e)
		}
	})
}

// metricsPackage names, per exporter, what to import and pass.
func metricsPackage(name string) string {
	switch name {
	case "otlp":
		return `import "github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric" and pass glassbox.WithMetricsExporter(otlpmetric.New())`
	case "prometheus":
		return `import "github.com/glassbox-obs/glassbox/exporter/prometheus", pass glassbox.WithMetricsExporter(prometheus.New()) and serve tel.MetricsHandler()`
	}
	return "pass its exporter to glassbox.WithMetricsExporter"
}

// choose returns the exporters Start configures.
func (c *metricsConfig) choose(disabled bool) ([]MetricsExporter, error) {
	if disabled {
		return nil, nil
	}
	if c.env == nil {
		return dedupe(c.exporters), nil
	}
	var out []MetricsExporter
	for _, name := range c.env {
		if name == "none" {
			continue
		}
		var found MetricsExporter
		for _, e := range c.exporters {
			if e.MetricsExporterName() == name {
				found = e // the last one given wins
			}
		}
		if found == nil {
			return nil, fmt.Errorf("glassbox: OTEL_METRICS_EXPORTER=%s: no %s metrics exporter was given to Start: %s",
				strings.Join(c.env, ","), name, metricsPackage(name))
		}
		out = append(out, found)
	}
	return dedupe(out), nil
}

// dedupe keeps the last exporter of each name.
func dedupe(exps []MetricsExporter) []MetricsExporter {
	var out []MetricsExporter
	for i, e := range exps {
		last := true
		for _, later := range exps[i+1:] {
			if later.MetricsExporterName() == e.MetricsExporterName() {
				last = false
			}
		}
		if last {
			out = append(out, e)
		}
	}
	return out
}

// setupMetrics builds the MeterProvider over the chosen exporters'
// readers. It runs before the exporters' setups, which publish their
// Stats on it; its shutdown runs after theirs, so the last export has
// their final figures.
func setupMetrics(ctx context.Context, b *builder) error {
	c := &b.cfg.metrics
	for _, w := range c.warnings {
		b.errorHandler.Handle(w)
	}
	chosen, err := c.choose(b.cfg.tracing.disabled)
	if err != nil || len(chosen) == 0 {
		return err
	}
	s := &metricsdk.Settings{Resource: b.resource, ErrorHandler: b.errorHandler, Getenv: b.cfg.getenv, OTLP: b.cfg.otlp.opts}
	readers := make([]sdkmetric.Reader, 0, len(chosen))
	for _, e := range chosen {
		r, err := e.NewMetricReader(ctx, s)
		if err != nil {
			for _, r := range readers {
				_ = r.Shutdown(context.Background())
			}
			return fmt.Errorf("glassbox: %s metrics exporter: %w", e.MetricsExporterName(), err)
		}
		readers = append(readers, r)
		if h, ok := e.(http.Handler); ok && b.metricsHandler == nil {
			b.metricsHandler = h
		}
	}
	b.meterProvider = chosen[0].NewMeterProvider(s, readers)
	return nil
}

// MeterProvider returns the MeterProvider Start built for the metrics
// exporters (see WithMetricsExporter), or a no-op one when there are
// none. It never returns nil.
func (t *Telemetry) MeterProvider() metric.MeterProvider {
	if t.mp == nil {
		return noop.NewMeterProvider()
	}
	return t.mp
}

// MetricsHandler returns the handler of the Prometheus exporter (see
// WithMetricsExporter and package exporter/prometheus): the metrics in
// the Prometheus text format, or OpenMetrics with exemplars when the
// scraper asks for it. Mount it where Prometheus scrapes:
//
//	http.Handle("GET /metrics", tel.MetricsHandler())
//
// Without the Prometheus exporter it answers 404 Not Found with a line
// saying how to turn it on. It never returns nil.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.metricsHandler != nil {
		return t.metricsHandler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "glassbox: no Prometheus metrics exporter: "+metricsPackage("prometheus"), http.StatusNotFound)
	})
}
