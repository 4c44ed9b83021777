package grpcmw_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// nopStream is the ServerTransportStream of a call: it takes the header
// metadata and drops it.
type nopStream struct{}

func (nopStream) Method() string               { return "/bench.Svc/Call" }
func (nopStream) SetHeader(metadata.MD) error  { return nil }
func (nopStream) SendHeader(metadata.MD) error { return nil }
func (nopStream) SetTrailer(metadata.MD) error { return nil }

type (
	serverKey      struct{}
	requestInfoKey struct{}
	rpcInfoKey     struct{}
	rpcInfoKey2    struct{}
)

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkUnaryServer measures the server interceptor alone, called
// directly on a TCP peer's call with a traceparent and no correlation ID
// (so the server chooses one and sends it back): what glassbox adds to a
// call's CPU time, without the transport. The comparison with other
// libraries over a real transport is the bench module's
// BenchmarkGRPCUnary.
func BenchmarkUnaryServer(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logger := slog.New(log.NewHandler(log.WithWriter(nopWriter{})))
	intercept := grpcmw.UnaryServerInterceptor(middleware.WithTracerProvider(tp), middleware.WithLogger(logger))
	ctx := peer.NewContext(context.Background(), &peer.Peer{
		Addr:      &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 41234},
		LocalAddr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 4), Port: 8443},
	})
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"content-type", "application/grpc", "user-agent", "grpc-go/1.85.0"))
	// grpc-go adds these above the metadata before the interceptors run
	// (server, request info, two for the RPC info, the transport stream).
	for _, k := range []any{serverKey{}, requestInfoKey{}, rpcInfoKey{}, rpcInfoKey2{}} {
		ctx = context.WithValue(ctx, k, k)
	}
	ctx = grpc.NewContextWithServerTransportStream(ctx, nopStream{})
	info := &grpc.UnaryServerInfo{FullMethod: "/bench.Svc/Call"}
	handler := func(context.Context, any) (any, error) { return "ok", nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := intercept(ctx, nil, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}
