package glassbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/parallel"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Telemetry is what Start built: the logger, the tracer provider and the
// exporters behind them. Its methods are safe for concurrent use.
type Telemetry struct {
	handler    *log.Handler
	logger     *slog.Logger
	tp         *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
	redactor   *log.Redactor
	observers  []middleware.Observer
	mwOptions  []middleware.Option // the components' own (flight recorder, break-glass)
	service    log.Service
	// mp is nil without metrics exporters; metricsHandler is the
	// Prometheus exporter's (see start_metrics.go).
	mp             metric.MeterProvider
	metricsHandler http.Handler

	// shutdown shuts the components down (builder.runShutdown), after
	// the TracerProvider and the handler.
	shutdown func(context.Context) error
	stats    []func(*Stats)
	once     sync.Once
	err      error
	restore  func()
}

// Start builds the logger, the TracerProvider, the MeterProvider (with
// WithMetricsExporter) and the exporters from the environment and opts
// (code options win), and unless WithoutSetDefault is given installs them
// as the slog default and the OTel globals. On error
// nothing is left running. Call Shutdown before the program exits to flush.
func Start(ctx context.Context, opts ...Option) (*Telemetry, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	b := newBuilder(cfg)
	if b.resource, err = b.newResource(ctx); err != nil {
		return nil, err
	}
	// Components, one file each (their shutdowns run side by side, see
	// Telemetry.Shutdown).
	for _, setup := range []func(context.Context, *builder) error{
		setupMetrics,
		setupTracing,
		setupFile,
		setupElasticsearch,
		setupOTLP,
		setupSentry,
		setupDebug,
		setupFlight,
	} {
		if err := setup(ctx, b); err != nil {
			_ = b.runShutdown(context.Background())
			return nil, err
		}
	}
	return b.finish(), nil
}

// finish builds the handler and the TracerProvider over what the
// components contributed, and installs the globals unless told not to.
func (b *builder) finish() *Telemetry {
	h := b.newHandler()
	tp := b.newTracerProvider()
	t := &Telemetry{
		handler:    h,
		logger:     slog.New(h),
		tp:         tp,
		propagator: b.propagator,
		redactor:   b.redactor,
		observers:  b.observers,
		mwOptions:  b.mwOptions,
		service:    b.service,
		restore:    func() {},
		shutdown:   b.runShutdown,
		stats:      b.stats,
	}
	if b.meterProvider != nil {
		t.mp, t.metricsHandler = b.meterProvider, b.metricsHandler
	}
	if !b.cfg.noSetDefault {
		prevLogger := slog.Default()
		prevTP := otel.GetTracerProvider()
		prevProp := otel.GetTextMapPropagator()
		prevMP := otel.GetMeterProvider()
		slog.SetDefault(t.logger)
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(b.propagator)
		if t.mp != nil {
			otel.SetMeterProvider(t.mp)
		}
		t.restore = func() {
			slog.SetDefault(prevLogger)
			otel.SetTracerProvider(prevTP)
			otel.SetTextMapPropagator(prevProp)
			if t.mp != nil {
				otel.SetMeterProvider(prevMP)
			}
		}
		t.restore = t.setMiddlewareDefault(t.restore)
	}
	return t
}

// Logger returns the logger Start built. It never returns nil.
func (t *Telemetry) Logger() *slog.Logger { return t.logger }

// Handler returns the ECS log handler behind Logger.
func (t *Telemetry) Handler() *log.Handler { return t.handler }

// TracerProvider returns the TracerProvider Start built.
func (t *Telemetry) TracerProvider() oteltrace.TracerProvider { return t.tp }

// Propagator returns the propagator Start built: those of WithPropagators
// or OTEL_PROPAGATORS (by default W3C tracecontext and baggage), then the
// correlation ID headers.
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.propagator }

// Redactor returns the redaction list in force.
func (t *Telemetry) Redactor() *log.Redactor { return t.redactor }

// Observers returns the request observers of the configured integrations
// (Sentry), for the middleware.
func (t *Telemetry) Observers() []middleware.Observer {
	return append([]middleware.Observer(nil), t.observers...)
}

// Service returns the service identity stamped on every document.
func (t *Telemetry) Service() log.Service { return t.service }

// Shutdown flushes spans and logs to every exporter and releases them,
// then exports the last metrics (with the exporters' final figures),
// returning by ctx's deadline. It restores the slog and OTel globals that
// Start replaced. Calls after the first return the first call's result.
//
// The TracerProvider (every span processor at once) and the log handler
// (every sink at once) shut down concurrently, so one hung backend cannot
// starve the others; then the exporters release what they own, side by
// side, and the MeterProvider exports last. Each step has what the steps
// before it left of the deadline: when a backend hangs until the
// deadline, the later steps are cut short (the Elasticsearch exporter
// keeps a 500 ms grace to close its spool; the last metrics export may
// be lost).
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		if ctx == nil {
			ctx = context.Background()
		}
		t.restore()
		// The producers first (spans and records they hold go to the
		// exporters), then the exporters, then the MeterProvider. Inside
		// a step the calls run side by side, each with what is left of
		// the deadline, so that a hung backend cannot use up the time of
		// the others in its step.
		first := []func(context.Context) error{t.tp.Shutdown, t.handler.Shutdown}
		t.err = errors.Join(parallel.Do(len(first), func(i int) error { return first[i](ctx) }), t.shutdown(ctx))
	})
	return t.err
}

// Stats returns the delivery counters of every configured exporter; a
// field is nil when its exporter is not configured. Safe to call at any
// time, also after Shutdown.
func (t *Telemetry) Stats() Stats {
	var s Stats
	for _, f := range t.stats {
		f(&s)
	}
	return s
}
