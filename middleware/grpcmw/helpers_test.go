package grpcmw_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer = testutil.Buffer

func records(t *testing.T, buf *syncBuffer) []map[string]any {
	t.Helper()
	return testutil.JSONLines(t, buf.String())
}

func recordsWith(t *testing.T, buf *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range records(t, buf) {
		if r["message"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// telemetry is one service's logger and tracer provider.
type telemetry struct {
	logs   *syncBuffer
	logger *slog.Logger
	tp     *sdktrace.TracerProvider
}

func newTelemetry(t *testing.T, exp *tracetest.InMemoryExporter, service string) *telemetry {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logs := &syncBuffer{}
	logger := slog.New(log.NewHandler(log.WithWriter(logs), log.WithLevel(slog.LevelDebug), log.WithService(log.Service{Name: service})))
	return &telemetry{logs: logs, logger: logger, tp: tp}
}

func (tel *telemetry) opts(extra ...middleware.Option) []middleware.Option {
	return append([]middleware.Option{middleware.WithTracerProvider(tel.tp), middleware.WithLogger(tel.logger)}, extra...)
}

// echoServer is a hand-written gRPC service (no generated code) over
// wrapperspb.StringValue: Unary and a bidirectional Stream.
type echoServer interface {
	Unary(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	Stream(stream grpc.ServerStream) error
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*echoServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(echoServer).Unary(ctx, req.(*wrapperspb.StringValue))
			}
			if interceptor == nil {
				return h(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/test.Echo/Unary"}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(echoServer).Stream(stream)
		},
	}},
}

type echoFuncs struct {
	unary  func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	stream func(stream grpc.ServerStream) error
}

func (e echoFuncs) Unary(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return e.unary(ctx, in)
}

func (e echoFuncs) Stream(stream grpc.ServerStream) error { return e.stream(stream) }

// serve starts a gRPC server with the echo and health services on lis and
// stops it at cleanup.
func serve(t *testing.T, lis net.Listener, impl echoFuncs, opts ...grpc.ServerOption) {
	t.Helper()
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&echoDesc, impl)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
}

// bufServer serves impl over bufconn with the glassbox server interceptors
// and returns a client connection with the glassbox client interceptors.
func bufServer(t *testing.T, server, clientOpts []middleware.Option, impl echoFuncs) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	serve(t, lis, impl, grpcmw.ServerOptions(server...)...)
	dopts := append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, grpcmw.DialOptions(append([]middleware.Option{middleware.WithLogger(slog.New(slog.DiscardHandler))}, clientOpts...)...)...)
	conn, err := grpc.NewClient("passthrough:///bufnet", dopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func callUnary(ctx context.Context, conn *grpc.ClientConn, msg string, opts ...grpc.CallOption) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, "/test.Echo/Unary", wrapperspb.String(msg), out, opts...)
	return out.GetValue(), err
}

// callerContext is a caller's context: a parent span on tel's
// TracerProvider, correlation ID "outside-id" and baggage k=v. End the
// span when the call is done.
func callerContext(tel *telemetry) (context.Context, oteltrace.Span) {
	ctx, parent := tel.tp.Tracer("t").Start(context.Background(), "parent")
	ctx = trace.WithCorrelationID(ctx, "outside-id")
	m, _ := baggage.NewMember("k", "v")
	b, _ := baggage.New(m)
	return baggage.ContextWithBaggage(ctx, b), parent
}
