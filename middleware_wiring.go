package glassbox

import "github.com/glassbox-obs/glassbox/middleware"

// MiddlewareOptions returns the options that connect the HTTP middleware,
// the HTTP client Transport and the gRPC interceptors (package
// middleware/grpcmw) to t: its TracerProvider, propagator, logger,
// request observers (Sentry) and redaction list, the flight recorder and
// break-glass debugging when they are on, and the MeterProvider when
// metrics are on. Start makes them the middleware default (see
// middleware.SetDefault) unless told WithoutSetDefault, so middleware
// built after Start without options already uses them; pass them
// explicitly with WithoutSetDefault, or to
// add to them:
//
//	h := middleware.HTTP(append(tel.MiddlewareOptions(), middleware.WithPublicEndpoint())...)(mux)
func (t *Telemetry) MiddlewareOptions() []middleware.Option {
	opts := append([]middleware.Option{
		middleware.WithTracerProvider(t.tp),
		middleware.WithPropagator(t.propagator),
		middleware.WithLogger(t.logger),
		middleware.WithObservers(t.observers...),
		middleware.WithRedactor(t.redactor),
	}, t.mwOptions...)
	if t.mp != nil {
		opts = append(opts, middleware.WithMeterProvider(t.mp))
	}
	return opts
}

// setMiddlewareDefault makes t's MiddlewareOptions the middleware default
// and returns restore extended to put the previous default back. Start
// calls it where it installs its other globals; Shutdown runs the result.
func (t *Telemetry) setMiddlewareDefault(restore func()) func() {
	prev := middleware.Default()
	middleware.SetDefault(t.MiddlewareOptions()...)
	return func() {
		middleware.SetDefault(prev...)
		restore()
	}
}
