package bench

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/google/uuid"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// benchHealth serves the health service over bufconn with the given server
// options and returns a client for it (no client-side instrumentation).
func benchHealth(tb testing.TB, opts ...grpc.ServerOption) healthpb.HealthClient {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(); srv.Stop(); <-done })
	return healthpb.NewHealthClient(conn)
}

// grpcStack returns the server options of the stack called name, writing
// its access records to w: "bare" (none), "glassbox", or "peers"
// (otelgrpc's stats handler, a request-ID interceptor, go-grpc-middleware's
// logging and recovery interceptors). Both instrumented stacks trace
// through the same kind of TracerProvider (newBenchTP).
func grpcStack(tb testing.TB, name string, w io.Writer) []grpc.ServerOption {
	switch name {
	case "glassbox":
		return grpcmw.ServerOptions(
			middleware.WithTracerProvider(newBenchTP(tb)),
			middleware.WithLogger(slog.New(log.NewHandler(log.WithWriter(w)))),
			middleware.WithSkipGRPCMethods(), // the health service is skipped by default
		)
	case "peers":
		return peerStack(newBenchTP(tb), w)
	}
	return nil
}

func peerStack(tp oteltrace.TracerProvider, w io.Writer) []grpc.ServerOption {
	// The access record carries the trace and span IDs, as glassbox's
	// does, the idiomatic way (see ctxIDHandler).
	logger := slog.New(ctxIDHandler{slog.NewJSONHandler(w, nil)})
	logf := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		logger.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	return []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp))),
		grpc.ChainUnaryInterceptor(
			requestID,
			logging.UnaryServerInterceptor(logf, logging.WithLogOnEvents(logging.FinishCall)), // one record per call, like glassbox
			recovery.UnaryServerInterceptor(),
		),
	}
}

func BenchmarkGRPCUnary(b *testing.B) {
	for _, name := range []string{"bare", "glassbox", "peers"} {
		b.Run(name, func(b *testing.B) {
			client := benchHealth(b, grpcStack(b, name, benchOut)...)
			ctx := context.Background()
			req := &healthpb.HealthCheckRequest{}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				resp, err := client.Check(ctx, req)
				if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
					b.Fatalf("Check: %v %v", resp, err)
				}
			}
		})
	}
}

// requestID is the request-ID interceptor a team writes by hand next to
// otelgrpc and the logging interceptor, to do what glassbox's correlation
// ID does: the caller's x-request-id when it sent a usable one, else a
// new UUID sent back in the header metadata (the server chose it; the
// benchmark's client sends none, so every call gets one, as from
// glassbox), and the ID in the logging interceptor's fields.
func requestID(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var id string
	if vals := metadata.ValueFromIncomingContext(ctx, "x-request-id"); len(vals) > 0 && len(vals[0]) > 0 && len(vals[0]) <= 128 {
		id = vals[0]
	} else {
		id = uuid.NewString()
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", id))
	}
	return handler(logging.InjectFields(ctx, logging.Fields{"request.id", id}), req)
}
