// Package grpcmw instruments gRPC servers and clients the way package
// middleware instruments HTTP: one correlation ID and one trace per call,
// across services, with one access-log record per call, panic recovery,
// and the call metrics of the OpenTelemetry semantic conventions
// (rpc.server.call.duration, rpc.client.call.duration; see
// middleware.WithMeterProvider).
//
// The four constructors follow go-grpc-middleware v2 and are built on it:
// its reporter core (package interceptors) drives glassbox's per-call
// reporter, and its recovery interceptor turns panics into codes.Internal.
// They take the same middleware.Option values as the HTTP middleware. Logger
// feeds go-grpc-middleware's own logging interceptor through the same slog
// handler for programs that want it too. This is a separate package so that
// HTTP-only programs never compile grpc-go.
//
// After glassbox.Start, constructors given no options use the Telemetry's
// (see middleware.SetDefault), so most programs need one call on each side:
//
//	srv := grpc.NewServer(grpcmw.ServerOptions()...)
//	conn, err := grpc.NewClient(addr, append(grpcmw.DialOptions(), creds)...)
package grpcmw
