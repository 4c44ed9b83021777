package prometheus

import (
	"context"
	"fmt"
	"net/http"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/glassbox-obs/glassbox/internal/metricsdk"
)

// Exporter is the Prometheus exporter: a metric reader for the
// MeterProvider and the http.Handler Prometheus scrapes. Pass it to
// glassbox.WithMetricsExporter (its name in OTEL_METRICS_EXPORTER is
// "prometheus") and serve Telemetry.MetricsHandler, which is this
// handler; or add Reader to a MeterProvider of your own. It is safe for
// concurrent use.
type Exporter struct {
	registry *promclient.Registry
	reader   sdkmetric.Reader
	handler  http.Handler
	err      error
}

var (
	_ metricsdk.Exporter = (*Exporter)(nil)
	_ http.Handler       = (*Exporter)(nil)
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	labels []string
}

// WithResourceLabels sets the resource attributes every series carries
// as labels (dots become underscores: service_name). The others are on
// the target_info series. Default: service.name, the label the rules and
// the dashboard of glassbox setup prometheus and setup grafana group by.
func WithResourceLabels(keys ...string) Option {
	return optionFunc(func(c *config) { c.labels = append([]string(nil), keys...) })
}

// New returns the exporter, with its own registry. Metric names follow
// the OpenTelemetry conventions for Prometheus: dots become underscores,
// the unit is a suffix (_seconds, _bytes), counters end in _total; the
// series carry no otel_scope_* labels (the names do not collide). An
// error building it is returned by glassbox.Start.
func New(opts ...Option) *Exporter {
	c := config{labels: []string{"service.name"}}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	keys := make([]attribute.Key, len(c.labels))
	for i, k := range c.labels {
		keys[i] = attribute.Key(k)
	}
	e := &Exporter{registry: promclient.NewRegistry()}
	exp, err := otelprom.New(otelprom.WithRegisterer(e.registry), otelprom.WithoutScopeInfo(),
		otelprom.WithResourceAsConstantLabels(attribute.NewAllowKeysFilter(keys...)))
	if err != nil {
		e.err = fmt.Errorf("prometheus: %w", err)
		return e
	}
	e.reader = exp
	e.handler = promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
	})
	return e
}

// Registry returns the exporter's registry, to serve more collectors (Go
// runtime, process) on the same endpoint.
func (e *Exporter) Registry() *promclient.Registry { return e.registry }

// Reader returns the metric reader to add to a MeterProvider
// (sdkmetric.WithReader); nil if New failed. A reader serves one
// MeterProvider.
func (e *Exporter) Reader() sdkmetric.Reader { return e.reader }

// ServeHTTP writes the metrics: OpenMetrics, with exemplars, when the
// request accepts application/openmetrics-text (Prometheus does), else
// the Prometheus text format.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.handler == nil {
		http.Error(w, e.err.Error(), http.StatusInternalServerError)
		return
	}
	e.handler.ServeHTTP(w, r)
}

// MetricsExporterName returns "prometheus".
func (e *Exporter) MetricsExporterName() string { return "prometheus" }

// NewMetricReader returns Reader, or the error of New; Start calls it.
func (e *Exporter) NewMetricReader(context.Context, *metricsdk.Settings) (sdkmetric.Reader, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.reader, nil
}

// NewMeterProvider builds Start's MeterProvider over readers.
func (e *Exporter) NewMeterProvider(s *metricsdk.Settings, readers []sdkmetric.Reader) metricsdk.Provider {
	return metricsdk.NewMeterProvider(s, readers)
}
