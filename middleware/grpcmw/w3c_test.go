package grpcmw_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/internal/w3ctest"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// The W3C Trace Context validation suite's cases, over gRPC: the
// harness's metadata goes through the server interceptors, the handler's
// call back to the harness through the client interceptors, and the
// callback's metadata is checked as the suite checks HTTP headers. Cases
// about header-name casing, and values grpc-go refuses to send (a tab),
// cannot be expressed in gRPC metadata and are left out (see Case.GRPC).
func TestW3CTraceContextSuiteGRPC(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, exp, "svc")

	// The harness: records the metadata of each callback.
	var mu sync.Mutex
	var got []metadata.MD
	hlis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, hlis, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		got = append(got, md)
		mu.Unlock()
		return in, nil
	}})
	back, err := grpc.NewClient(hlis.Addr().String(),
		append(grpcmw.DialOptions(tel.opts()...), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = back.Close() })

	// The service under test: calls the harness back once per call.
	slis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, slis, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		_, err := callUnary(ctx, back, "callback")
		return in, err
	}}, grpcmw.ServerOptions(tel.opts()...)...)
	svc, err := grpc.NewClient(slis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })

	var ran int
	for _, c := range w3ctest.Cases() {
		if !c.GRPC() {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			md := metadata.MD{}
			for _, h := range c.Headers {
				md[h.Name] = append(md[h.Name], h.Value)
			}
			mu.Lock()
			got = nil
			mu.Unlock()
			if _, err := callUnary(metadata.NewOutgoingContext(context.Background(), md), svc, "x"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("got %d callbacks, want 1", len(got))
			}
			w3ctest.Check(t, &c, got[0].Get("traceparent"), got[0].Get("tracestate"))
		})
	}
	if all := len(w3ctest.Cases()); ran < all*3/4 {
		t.Errorf("only %d of %d cases can run over gRPC", ran, all)
	}
}
