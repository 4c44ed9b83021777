package grpcmw_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleServerOptions() {
	opts := []middleware.Option{
		middleware.WithLogger(slog.New(slog.DiscardHandler)),
		middleware.WithSkipGRPCMethods(), // instrument the health service too, for this example
	}
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(grpcmw.ServerOptions(opts...)...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///example",
		append(grpcmw.DialOptions(opts...),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	// A caller that sends its correlation ID does not get it back; one
	// that sends none gets the ID the server chose in the header metadata.
	ctx := trace.WithCorrelationID(context.Background(), "order-1234")
	var header metadata.MD
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&header))
	fmt.Println(err, header.Get("x-correlation-id"))

	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}, grpc.Header(&header))
	ids := header.Get("x-correlation-id")
	fmt.Println(err, len(ids) == 1 && trace.ValidCorrelationID(ids[0]))
	// Output:
	// <nil> []
	// <nil> true
}
