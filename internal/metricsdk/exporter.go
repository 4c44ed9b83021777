package metricsdk

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
)

// Settings is what Start hands the metrics exporters.
type Settings struct {
	// Resource is the service's resource (service.name, ...).
	Resource *sdkresource.Resource
	// ErrorHandler receives background failures (failed exports).
	ErrorHandler otel.ErrorHandler
	// Getenv reads the environment (os.Getenv, or a test's).
	Getenv func(string) string
	// OTLP are the options of glassbox.WithOTLP, under the OTLP metrics
	// exporter's own.
	OTLP []otlp.Option
}

// Provider is the MeterProvider Start installs and shuts down.
type Provider interface {
	metric.MeterProvider
	ForceFlush(context.Context) error
	Shutdown(context.Context) error
}

// Exporter is a metrics exporter Start can configure (glassbox exports it
// as MetricsExporter). Its methods are called by Start, once.
type Exporter interface {
	// MetricsExporterName returns the exporter's name in
	// OTEL_METRICS_EXPORTER: "otlp" or "prometheus".
	MetricsExporterName() string
	// NewMetricReader returns the reader the exporter adds to the
	// MeterProvider.
	NewMetricReader(ctx context.Context, s *Settings) (sdkmetric.Reader, error)
	// NewMeterProvider builds the MeterProvider over the readers of every
	// exporter Start chose; each exporter answers with NewMeterProvider
	// of this package.
	NewMeterProvider(s *Settings, readers []sdkmetric.Reader) Provider
}
