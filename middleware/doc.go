// Package middleware instruments net/http servers and clients so that one
// correlation ID and one trace follow each request across services.
//
// The server middleware chooses and echoes the correlation ID, starts a
// server span with the OpenTelemetry HTTP semantic conventions, recovers
// panics and writes one ECS access-log record per request through
// log/slog; Transport does the client side (client span, traceparent,
// tracestate, baggage and X-Correlation-ID on the outgoing request). Every
// request-controlled value that reaches a log field or span attribute is
// sanitised (no control characters, no invalid UTF-8, capped length).
// The gRPC interceptors live in package grpcmw, so HTTP-only programs do
// not compile grpc-go.
//
// Most programs need one call, usually with the options of a
// glassbox.Telemetry:
//
//	http.ListenAndServe(addr, middleware.HTTP(tel.MiddlewareOptions()...)(mux))
package middleware
