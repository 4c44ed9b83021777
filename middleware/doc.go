// Package middleware instruments net/http servers and clients so that one
// correlation ID and one trace follow each request across services.
//
// The server middleware chooses the correlation ID and sets it on every
// response, starts a server span with the OpenTelemetry HTTP semantic
// conventions, recovers panics and writes one ECS access-log record per
// request through log/slog; Transport does the client side (client span,
// traceparent, tracestate, baggage and X-Correlation-ID on the outgoing
// request). Both record the request metrics of the OpenTelemetry semantic
// conventions (http.server.request.duration, http.server.active_requests,
// http.client.request.duration; see WithMeterProvider), by route, never by
// path, with the request's trace as the exemplar. Every request-controlled value that reaches a log field or
// span attribute is sanitised (no control characters, no invalid UTF-8,
// capped length). The gRPC interceptors live in package grpcmw, so
// HTTP-only programs do not compile grpc-go; both share their machinery
// (options, trust decision, observers, the end of a request) in
// middleware/internal/instrument.
//
// Three request-scoped features are off unless configured: the flight
// recorder (WithFlightRecorder: a failed request's below-level records
// are written, a successful one's dropped unencoded), break-glass
// debugging (WithBreakGlass and package breakglass: a signed header turns
// on DEBUG logging and tracing for one request and its downstream calls)
// and outcome-aware sampling of access records (WithAccessSampling).
//
// After glassbox.Start, middleware built without options is connected to
// the Telemetry (see SetDefault), so most programs need one call:
//
//	http.ListenAndServe(addr, middleware.HTTP()(mux))
package middleware
