package grpcmw

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// server holds the pieces the server interceptors are made of. It is a
// go-grpc-middleware interceptors.ServerReportable: the go-grpc-middleware
// reporter core drives it, and its recovery interceptor runs inside.
type server struct {
	c         *instrument.Config
	peers     peerCache
	report    grpc.UnaryServerInterceptor
	reportS   grpc.StreamServerInterceptor
	recUnary  grpc.UnaryServerInterceptor
	recStream grpc.StreamServerInterceptor
}

var _ interceptors.ServerReportable = (*server)(nil)

func newServer(opts []middleware.Option) *server {
	s := &server{c: instrument.New(opts)}
	ropts := []recovery.Option{recovery.WithRecoveryHandlerContext(recoverPanic)}
	s.recUnary = recovery.UnaryServerInterceptor(ropts...)
	s.recStream = recovery.StreamServerInterceptor(ropts...)
	s.report = interceptors.UnaryServerInterceptor(s)
	s.reportS = interceptors.StreamServerInterceptor(s)
	return s
}

// UnaryServerInterceptor returns the glassbox server interceptor for unary
// calls. Outermost first it chains: go-grpc-middleware's reporter core
// driving glassbox's reporter (correlation ID from metadata
// x-correlation-id / x-request-id, server span with the RPC semantic
// conventions from traceparent/tracestate, baggage, observers, one
// access-log record per call at a level chosen by status code,
// rpc.server.call.duration by rpc.method and rpc.response.status_code),
// then go-grpc-middleware's recovery interceptor (a panic becomes
// codes.Internal, an exception event on the span and an error record with
// the stack). Methods of grpc.health.v1.Health are passed through by
// default (see middleware.WithSkipGRPCMethods and middleware.WithFilter):
// no span, no metrics, no access record, no observers, but panics are still
// recovered, since grpc-go does not recover them and the process would
// crash. A panic in a skipped call becomes codes.Internal, an error record
// "panic recovered" with the stack, and the observers are begun and ended
// for it.
//
// The correlation ID goes back to the caller in the header metadata
// (x-correlation-id, or the first of middleware.WithCorrelationHeaders)
// only when the server chose it: the caller sent none, or only invalid
// ones, or is an untrusted peer of a public endpoint. A caller whose ID
// was adopted already has it, and is spared the header.
//
// The peer is network.peer.address (the host) and network.peer.port on
// the span; the record has the host, without the port, under the HTTP
// middleware's keys: client.ip for an IP address, else client.address
// (a unix socket's path, for example). server.address and server.port are
// those of the connection's local address (the peer's LocalAddr).
func UnaryServerInterceptor(opts ...middleware.Option) grpc.UnaryServerInterceptor {
	return newServer(opts).unary
}

// StreamServerInterceptor is UnaryServerInterceptor for streams. The
// handler's stream returns a context with the correlation ID, the span and
// the observers' values.
func StreamServerInterceptor(opts ...middleware.Option) grpc.StreamServerInterceptor {
	return newServer(opts).stream
}

// ServerOptions returns grpc.ChainUnaryInterceptor and
// grpc.ChainStreamInterceptor options with both server interceptors, for
// grpc.NewServer.
func ServerOptions(opts ...middleware.Option) []grpc.ServerOption {
	s := newServer(opts)
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.unary), grpc.ChainStreamInterceptor(s.stream)}
}

func (s *server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if skipGRPC(s.c, info.FullMethod) {
		defer s.recoverSkipped(ctx, nil, info.FullMethod, time.Now(), &resp, &err)
		return handler(ctx, req)
	}
	cs := getState(s, info.FullMethod)
	cs.uinfo, cs.uhandler = info, handler
	// The state rides in the context from here on: ServerReporter finds it,
	// and so does the recovery handler.
	return s.report(context.WithValue(ctx, stateKey{}, cs), req, info, cs.recoverUnary)
}

func (s *server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	if skipGRPC(s.c, info.FullMethod) {
		defer s.recoverSkipped(nil, ss, info.FullMethod, time.Now(), nil, &err)
		return handler(srv, ss)
	}
	cs := getState(s, info.FullMethod)
	cs.sinfo, cs.shandler = info, handler
	return s.reportS(srv, &serverStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), stateKey{}, cs)}, info, cs.recoverStream)
}

// serverStream replaces a stream's context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *serverStream) Context() context.Context { return w.ctx }

// recoverPanic is the recovery interceptor's handler: it keeps the panic
// and its stack for the observers and the records, and turns the panic
// into codes.Internal without leaking the value to the client.
func recoverPanic(ctx context.Context, p any) error {
	if cs := stateFrom(ctx); cs != nil {
		cs.panicked, cs.panicVal, cs.stack = true, p, debug.Stack()
	}
	return status.Error(codes.Internal, "internal error")
}
