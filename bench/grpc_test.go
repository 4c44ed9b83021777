package bench

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// benchHealth serves the health service over bufconn with the given server
// options and returns a client for it (no client-side instrumentation).
func benchHealth(b *testing.B, opts ...grpc.ServerOption) healthpb.HealthClient {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close(); srv.Stop(); <-done })
	return healthpb.NewHealthClient(conn)
}

func BenchmarkGRPCUnary(b *testing.B) {
	run := func(b *testing.B, client healthpb.HealthClient) {
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
	}
	b.Run("bare", func(b *testing.B) { run(b, benchHealth(b)) })
	b.Run("glassbox", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(log.NewHandler(log.WithWriter(benchOut)))
		run(b, benchHealth(b, grpcmw.ServerOptions(
			middleware.WithTracerProvider(tp),
			middleware.WithLogger(logger),
			middleware.WithSkipGRPCMethods(), // the health service is skipped by default
		)...))
	})
	b.Run("peers", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(slog.NewJSONHandler(benchOut, nil))
		logf := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
			logger.Log(ctx, slog.Level(lvl), msg, fields...)
		})
		run(b, benchHealth(b,
			grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp))),
			grpc.ChainUnaryInterceptor(
				logging.UnaryServerInterceptor(logf, logging.WithLogOnEvents(logging.FinishCall)), // one record per call, like glassbox
				recovery.UnaryServerInterceptor(),
			),
		))
	})
}
