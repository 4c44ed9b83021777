package glassbox

import "github.com/glassbox-obs/glassbox/middleware"

// MiddlewareOptions returns the options that connect the HTTP middleware,
// the HTTP client Transport and the gRPC interceptors (package
// middleware/grpcmw) to t: its TracerProvider, propagator, logger,
// request observers (Sentry) and redaction list. Add more options after
// them to override or extend:
//
//	h := middleware.HTTP(append(tel.MiddlewareOptions(), middleware.WithPublicEndpoint())...)(mux)
func (t *Telemetry) MiddlewareOptions() []middleware.Option {
	return []middleware.Option{
		middleware.WithTracerProvider(t.tp),
		middleware.WithPropagator(t.propagator),
		middleware.WithLogger(t.logger),
		middleware.WithObservers(t.observers...),
		middleware.WithRedactor(t.redactor),
	}
}
