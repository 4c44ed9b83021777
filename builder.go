package glassbox

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/errorhandler"
	"github.com/glassbox-obs/glassbox/internal/metricsdk"
	"github.com/glassbox-obs/glassbox/internal/parallel"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// builder collects what the components (tracing.go, start_*.go)
// contribute, for finish to assemble.
type builder struct {
	cfg            *config
	service        log.Service
	resource       *sdkresource.Resource
	errorHandler   otel.ErrorHandler
	redactor       *log.Redactor
	sinks          []log.Sink
	spanProcessors []sdktrace.SpanProcessor
	tpOptions      []sdktrace.TracerProviderOption
	propagator     propagation.TextMapPropagator
	observers      []middleware.Observer
	logOptions     []log.Option        // for the handler, beside its sinks
	mwOptions      []middleware.Option // for MiddlewareOptions, after the common ones
	shutdown       []func(context.Context) error
	stats          []func(*Stats)
	// meterProvider is nil without metrics exporters (start_metrics.go);
	// metricsHandler is the Prometheus exporter's, if any.
	meterProvider  metricsdk.Provider
	metricsHandler http.Handler
}

func newBuilder(cfg *config) *builder {
	b := &builder{
		cfg:            cfg,
		service:        cfg.service,
		errorHandler:   errorhandler.RateLimited(cfg.errorHandler),
		redactor:       log.NewRedactor(cfg.logging.redactKeys...),
		sinks:          append([]log.Sink(nil), cfg.logging.sinks...),
		spanProcessors: append([]sdktrace.SpanProcessor(nil), cfg.tracing.spanProcessors...),
		observers:      append([]middleware.Observer(nil), cfg.observers...),
	}
	b.service.Fill()
	return b
}

// meter returns the MeterProvider of the metrics exporters, nil without
// them: the exporters then publish no metrics.
func (b *builder) meter() metric.MeterProvider {
	if b.meterProvider == nil {
		return nil
	}
	return b.meterProvider
}

// onShutdown registers f to run at Telemetry.Shutdown, beside the others.
func (b *builder) onShutdown(f func(context.Context) error) { b.shutdown = append(b.shutdown, f) }

// onStats registers f to fill its part of Telemetry.Stats.
func (b *builder) onStats(f func(*Stats)) { b.stats = append(b.stats, f) }

// runShutdown shuts the components down side by side, then the
// MeterProvider, so that its last export has their final figures.
func (b *builder) runShutdown(ctx context.Context) error {
	err := parallel.Do(len(b.shutdown), func(i int) error { return b.shutdown[i](ctx) })
	if b.meterProvider != nil {
		err = errors.Join(err, b.meterProvider.Shutdown(ctx))
	}
	return err
}
