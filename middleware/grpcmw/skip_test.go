package grpcmw_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// panickingHealth is a health service whose Check and Watch panic.
type panickingHealth struct {
	healthpb.UnimplementedHealthServer
}

func (panickingHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	panic("health boom")
}

func (panickingHealth) Watch(*healthpb.HealthCheckRequest, grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	panic("health boom")
}

// panicServer serves, with the glassbox server interceptors built with
// opts, a health service and test.Echo whose handlers all panic with
// "health boom". The client connection has no glassbox interceptors.
func panicServer(t *testing.T, opts []middleware.Option) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(grpcmw.ServerOptions(opts...)...)
	srv.RegisterService(&echoDesc, echoFuncs{
		unary: func(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			panic("health boom")
		},
		stream: func(grpc.ServerStream) error { panic("health boom") },
	})
	healthpb.RegisterHealthServer(srv, panickingHealth{})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The calls a test makes: each returns the header metadata and the
// call's error.
func callCheck(ctx context.Context, conn *grpc.ClientConn) (metadata.MD, error) {
	var hdr metadata.MD
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	return hdr, err
}

func callWatch(ctx context.Context, conn *grpc.ClientConn) (metadata.MD, error) {
	st, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return nil, err
	}
	hdr, _ := st.Header()
	_, err = st.Recv()
	return hdr, err
}

func callEcho(ctx context.Context, conn *grpc.ClientConn) (metadata.MD, error) {
	var hdr metadata.MD
	_, err := callUnary(ctx, conn, "x", grpc.Header(&hdr))
	return hdr, err
}

func callEchoStream(ctx context.Context, conn *grpc.ClientConn) (metadata.MD, error) {
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/test.Echo/Stream")
	if err != nil {
		return nil, err
	}
	hdr, _ := st.Header()
	return hdr, st.RecvMsg(new(wrapperspb.StringValue))
}

// Skipping a method drops its span, access record and observers, not the
// recovery: grpc-go does not recover handler panics, so a panic escaping
// the interceptor would crash the server. A panicking skipped call, unary
// or stream, answers codes.Internal without the panic value and with its
// correlation ID in the header metadata when the server chose it, writes the "panic recovered"
// record with the stack and the RPC fields, and is reported to the
// observers, Begin then End.
func TestSkippedMethodPanic(t *testing.T) {
	noEcho := func(m string) middleware.Option {
		return middleware.WithFilter(func(r *middleware.Request) bool { return r.Method != m })
	}
	tests := []struct {
		name            string
		opts            []middleware.Option
		call            func(context.Context, *grpc.ClientConn) (metadata.MD, error)
		sendID          string // x-correlation-id sent, or none
		service, method string
	}{
		{"health Check by default", nil, callCheck, "", "grpc.health.v1.Health", "Check"},
		{"health Watch by default", nil, callWatch, "skip-corr-watch", "grpc.health.v1.Health", "Watch"},
		{"WithSkipGRPCMethods service unary", []middleware.Option{middleware.WithSkipGRPCMethods("test.Echo")}, callEcho, "skip-corr-svc", "test.Echo", "Unary"},
		{"WithSkipGRPCMethods method stream", []middleware.Option{middleware.WithSkipGRPCMethods("/test.Echo/Stream")}, callEchoStream, "", "test.Echo", "Stream"},
		{"WithFilter unary", []middleware.Option{noEcho("/test.Echo/Unary")}, callEcho, "", "test.Echo", "Unary"},
		{"WithFilter stream", []middleware.Option{noEcho("/test.Echo/Stream")}, callEchoStream, "skip-corr-filter", "test.Echo", "Stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			obs := &observer{logs: srv.logs}
			conn := panicServer(t, srv.opts(append(tt.opts, middleware.WithObservers(obs))...))
			ctx := context.Background()
			if tt.sendID != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-correlation-id", tt.sendID)
			}
			hdr, err := tt.call(ctx, conn)
			if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
				t.Fatalf("call: got %v, want Internal \"internal error\"", err)
			}
			// The ID goes back only when the server chose it: the
			// caller's own is not echoed.
			id := tt.sendID
			got := hdr.Get("x-correlation-id")
			if tt.sendID != "" && len(got) != 0 {
				t.Errorf("header metadata x-correlation-id: got %q, want none (the caller sent %s)", got, tt.sendID)
			} else if tt.sendID == "" {
				if len(got) != 1 || len(got[0]) != 32 {
					t.Fatalf("header metadata x-correlation-id: got %q, want a new 32-character ID", got)
				}
				id = got[0]
			}

			if n := len(exp.GetSpans()); n != 0 {
				t.Errorf("got %d spans, want none for a skipped call", n)
			}
			if acc := recordsWith(t, srv.logs, "request completed"); len(acc) != 0 {
				t.Errorf("access records for a skipped call: %v", acc)
			}
			pr := recordOf(t, srv.logs, "panic recovered", id)
			if st, _ := pr["error.stack_trace"].(string); !strings.Contains(st, "skip_test.go") {
				t.Errorf("error.stack_trace does not show the panicking handler: %q", st[:min(len(st), 200)])
			}
			for k, want := range map[string]string{
				"log.level":     "error",
				"error.message": "health boom",
				"error.type":    "string",
				"error.id":      "sentry-event-1",
				"rpc.system":    "grpc",
				"rpc.service":   tt.service,
				"rpc.method":    tt.method,
			} {
				if got := pr[k]; got != want {
					t.Errorf("panic record %s: got %v, want %s", k, got, want)
				}
			}

			obs.mu.Lock()
			defer obs.mu.Unlock()
			if obs.begins != 1 || len(obs.ends) != 1 {
				t.Fatalf("observer: got %d Begin, %d End; want 1, 1", obs.begins, len(obs.ends))
			}
			out, req := obs.ends[0], obs.reqs[0]
			if out.Panic != "health boom" || len(out.Stack) == 0 || out.GRPCCode != uint32(codes.Internal) || status.Code(out.Err) != codes.Internal {
				t.Errorf("outcome: got panic %v, %d stack bytes, code %d, err %v; want health boom, a stack, Internal", out.Panic, len(out.Stack), out.GRPCCode, out.Err)
			}
			if want := "/" + tt.service + "/" + tt.method; req.Protocol != "grpc" || req.Method != want || req.CorrelationID != id {
				t.Errorf("observed request: got %+v, want grpc %s with correlation ID %s", req, want, id)
			}
			if strings.Contains(obs.logsAt[0], "panic recovered") {
				t.Error("the error record was written before Observer.End")
			}
		})
	}
}

// Without a panic a skipped call is passed through untouched: the
// handler's response and error come back as they are, the observers are
// not called and nothing is recorded.
func TestSkippedMethodNoPanic(t *testing.T) {
	notFound := status.Error(codes.NotFound, "no such thing")
	tests := []struct {
		name     string
		resp     any
		err      error
		wantResp any
	}{
		{"response", "pong", nil, "pong"},
		{"error", nil, notFound, nil},
		{"response and error", "partial", notFound, "partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			obs := &observer{logs: srv.logs}
			opts := srv.opts(middleware.WithObservers(obs))
			unary := grpcmw.UnaryServerInterceptor(opts...)
			resp, err := unary(context.Background(), "ping", &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"},
				func(context.Context, any) (any, error) { return tt.resp, tt.err })
			if resp != tt.wantResp || !errors.Is(err, tt.err) {
				t.Errorf("unary: got %v, %v; want %v, %v", resp, err, tt.wantResp, tt.err)
			}
			stream := grpcmw.StreamServerInterceptor(opts...)
			err = stream(nil, &fakeStream{ctx: context.Background()}, &grpc.StreamServerInfo{FullMethod: "/grpc.health.v1.Health/Watch"},
				func(any, grpc.ServerStream) error { return tt.err })
			if !errors.Is(err, tt.err) {
				t.Errorf("stream: got %v, want %v", err, tt.err)
			}
			if obs.begins != 0 || len(obs.ends) != 0 {
				t.Errorf("observer: got %d Begin, %d End; want none", obs.begins, len(obs.ends))
			}
			if recs := records(t, srv.logs); len(recs) != 0 {
				t.Errorf("got %d records, want none: %v", len(recs), recs)
			}
			if n := len(exp.GetSpans()); n != 0 {
				t.Errorf("got %d spans, want none", n)
			}
		})
	}
}

// The recovery of skipped calls costs no allocation when nothing panics:
// health checks stay as cheap as they were without it.
func TestSkippedMethodAllocs(t *testing.T) {
	tel := newTelemetry(t, tracetest.NewInMemoryExporter(), "srv")
	opts := tel.opts(middleware.WithObservers(&observer{logs: tel.logs}))
	unary := grpcmw.UnaryServerInterceptor(opts...)
	stream := grpcmw.StreamServerInterceptor(opts...)
	ctx := context.Background()
	uinfo := &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}
	sinfo := &grpc.StreamServerInfo{FullMethod: "/grpc.health.v1.Health/Watch"}
	ss := &fakeStream{ctx: ctx}
	uh := func(context.Context, any) (any, error) { return nil, nil }
	sh := func(any, grpc.ServerStream) error { return nil }
	tests := []struct {
		name string
		call func()
	}{
		{"unary", func() { _, _ = unary(ctx, nil, uinfo, uh) }},
		{"stream", func() { _ = stream(nil, ss, sinfo, sh) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.call); got != 0 {
				t.Errorf("got %v allocations per skipped call, want 0", got)
			}
		})
	}
}

// fakeStream is a grpc.ServerStream with a context and nothing else, for
// handlers that do not use their stream.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *fakeStream) Context() context.Context { return s.ctx }
