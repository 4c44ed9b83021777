package grpcmw_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/internal/slo"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

const (
	rpcServerDuration = "rpc.server.call.duration"
	rpcClientDuration = "rpc.client.call.duration"
)

var advisedBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// codeEcho answers "code:N" with status code N, anything else with OK.
var codeEcho = echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if n, ok := strings.CutPrefix(in.GetValue(), "code:"); ok {
		c, _ := strconv.Atoi(n)
		return nil, status.Error(codes.Code(c), "failed on purpose")
	}
	return in, nil
}}

func TestGRPCMetrics(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srvTel, cliTel := newTelemetry(t, exp, "server"), newTelemetry(t, exp, "client")
	srvMetrics, cliMetrics := metrictest.New(t), metrictest.New(t)
	conn := bufServer(t, srvTel.opts(middleware.WithMeterProvider(srvMetrics.Provider)),
		cliTel.opts(middleware.WithMeterProvider(cliMetrics.Provider)), codeEcho)
	ctx := context.Background()
	for _, msg := range []string{"a", "b", "code:14", "code:5"} {
		_, _ = callUnary(ctx, conn, msg)
	}
	// The health service is skipped by default: not measured.
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	server := srvMetrics.Collect(t)
	method := map[string]string{"rpc.system.name": "grpc", "rpc.method": "test.Echo/Unary"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range method {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	okPoint := metrictest.Find(t, server, rpcServerDuration, with(map[string]string{"rpc.response.status_code": "OK", "error.type": ""}))
	if okPoint.Count != 2 || okPoint.Unit != "s" || !slices.Equal(okPoint.Bounds, advisedBuckets) {
		t.Errorf("OK calls: got count %d unit %q bounds %v, want 2, s and the advised buckets", okPoint.Count, okPoint.Unit, okPoint.Bounds)
	}
	metrictest.Find(t, server, rpcServerDuration, with(map[string]string{"rpc.response.status_code": "UNAVAILABLE", "error.type": "Unavailable"}))
	// NotFound is the caller's doing: no error.type on the server.
	metrictest.Find(t, server, rpcServerDuration, with(map[string]string{"rpc.response.status_code": "NOT_FOUND", "error.type": ""}))
	var calls uint64
	for _, p := range metrictest.Named(server, rpcServerDuration) {
		calls += p.Count
	}
	if calls != 4 {
		t.Errorf("got %d server calls measured, want 4 (the health check is skipped):\n%s", calls, metrictest.Dump(server))
	}

	client := cliMetrics.Collect(t)
	cli := with(map[string]string{"server.address": "bufnet", "server.port": ""})
	cok := metrictest.Find(t, client, rpcClientDuration, with(map[string]string{"rpc.response.status_code": "OK", "error.type": "", "server.address": "bufnet"}))
	if cok.Count != 2 || cok.Unit != "s" || !slices.Equal(cok.Bounds, advisedBuckets) {
		t.Errorf("client OK calls: got count %d unit %q bounds %v", cok.Count, cok.Unit, cok.Bounds)
	}
	cli["rpc.response.status_code"], cli["error.type"] = "NOT_FOUND", "NotFound"
	metrictest.Find(t, client, rpcClientDuration, cli)
	if len(metrictest.Named(client, rpcClientDuration)) != 4 { // OK, UNAVAILABLE, NOT_FOUND, and the health check
		t.Errorf("client series:\n%s", metrictest.Dump(client))
	}

	// The exemplar is the server span of a sampled call.
	var traceIDs []string
	for _, s := range exp.GetSpans() {
		traceIDs = append(traceIDs, s.SpanContext.TraceID().String())
	}
	if len(okPoint.Exemplars) == 0 || !slices.Contains(traceIDs, okPoint.Exemplars[0].TraceID) {
		t.Errorf("got exemplars %+v, want one with a call's trace ID", okPoint.Exemplars)
	}
}

// TestGRPCMetricsFailedCodesMatchTheSLOContract: the status names the
// server records for the codes an availability SLO counts as failures
// are the ones the generated rules and dashboard select.
func TestGRPCMetricsFailedCodesMatchTheSLOContract(t *testing.T) {
	mr := metrictest.New(t)
	conn := bufServer(t, []middleware.Option{middleware.WithMeterProvider(mr.Provider), middleware.WithLogger(discard())}, nil, codeEcho)
	for _, c := range slo.FailedGRPCCodes() {
		_, _ = callUnary(context.Background(), conn, "code:"+strconv.Itoa(c))
	}
	var got []string
	for _, p := range metrictest.Named(mr.Collect(t), rpcServerDuration) {
		got = append(got, p.Attrs["rpc.response.status_code"])
		if p.Attrs["error.type"] == "" {
			t.Errorf("%s: got no error.type, want one: the SLO counts it as a failure", p.Attrs["rpc.response.status_code"])
		}
	}
	want := slo.FailedGRPCStatuses()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got statuses %v, want %v", got, want)
	}
}

// TestGRPCMetricsUnknownMethodsAreBounded: a server with an unknown
// service handler (a proxy) sees any method name a client sends; past
// 1000 distinct names they are recorded as _OTHER.
func TestGRPCMetricsUnknownMethodsAreBounded(t *testing.T) {
	mr := metrictest.New(t)
	proxy := grpc.UnknownServiceHandler(func(srv any, stream grpc.ServerStream) error { return status.Error(codes.Unimplemented, "no") })
	conn := bufServerWith(t, []middleware.Option{middleware.WithMeterProvider(mr.Provider), middleware.WithLogger(discard())}, codeEcho, proxy)
	for i := range 1100 {
		_ = conn.Invoke(context.Background(), "/scan.S"+strconv.Itoa(i)+"/M", wrapperspb.String(""), new(wrapperspb.StringValue))
	}
	points := metrictest.Named(mr.Collect(t), rpcServerDuration)
	other := metrictest.Find(t, points, rpcServerDuration, map[string]string{"rpc.method": "_OTHER"})
	if other.Count != 100 || len(points) != 1001 {
		t.Errorf("got %d series and %d calls as _OTHER, want 1001 and 100", len(points), other.Count)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// bufServerWith serves impl over bufconn with the glassbox server
// interceptors and the extra server options, and returns a plain client
// connection.
func bufServerWith(t *testing.T, server []middleware.Option, impl echoFuncs, extra ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	serve(t, lis, impl, append(grpcmw.ServerOptions(server...), extra...)...)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
