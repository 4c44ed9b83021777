// Package grpcmw instruments gRPC servers and clients the way package
// middleware instruments HTTP: one correlation ID and one trace per call,
// across services, with an access-log record and panic recovery.
//
// The four constructors follow go-grpc-middleware v2 and are built on its
// logging interceptor (fed by the configured slog logger) and recovery
// interceptor; they take the same middleware.Option values as the HTTP
// middleware. It is a separate package so that HTTP-only programs never
// compile grpc-go.
//
// Most programs need one call on each side:
//
//	srv := grpc.NewServer(grpcmw.ServerOptions(tel.MiddlewareOptions()...)...)
//	conn, err := grpc.NewClient(addr, append(grpcmw.DialOptions(tel.MiddlewareOptions()...), creds)...)
package grpcmw
