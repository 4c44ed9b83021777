package grpcmw_test

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

// A public endpoint over real TCP on 127.0.0.1: a peer in WithTrustedPeers
// keeps the caller's correlation ID, baggage and parent span; any other
// peer gets a new root trace linked once to the caller's, its trace ID as
// correlation ID, and no baggage.
func TestPublicEndpointTrustedPeerTCP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		trust   bool
	}{
		{"loopback network trusted", []string{"127.0.0.0/8"}, true},
		{"loopback address trusted", []string{"10.0.0.0/8", "127.0.0.1"}, true},
		{"IPv6 loopback only", []string{"::1/128"}, false},
		{"other network", []string{"10.0.0.0/8"}, false},
		{"no trusted peers", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			cli := newTelemetry(t, exp, "cli")
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var got, bag string
			serve(t, lis, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				got, _ = trace.CorrelationID(ctx)
				bag = baggage.FromContext(ctx).String()
				return in, nil
			}}, grpcmw.ServerOptions(srv.opts(middleware.WithPublicEndpoint(), middleware.WithTrustedPeers(tt.trusted...))...)...)
			conn, err := grpc.NewClient(lis.Addr().String(), append(grpcmw.DialOptions(cli.opts()...),
				grpc.WithTransportCredentials(insecure.NewCredentials()))...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })

			ctx, parent := callerContext(cli)
			if _, err := callUnary(ctx, conn, "x"); err != nil {
				t.Fatal(err)
			}
			parent.End()

			var server, client tracetest.SpanStub
			for _, s := range exp.GetSpans() {
				switch s.SpanKind {
				case oteltrace.SpanKindServer:
					server = s
				case oteltrace.SpanKindClient:
					client = s
				}
			}
			if !server.SpanContext.IsValid() || !client.SpanContext.IsValid() {
				t.Fatalf("spans: got %v, want a client and a server span", exp.GetSpans())
			}
			callerTrace := parent.SpanContext().TraceID()
			if tt.trust {
				if got != "outside-id" || bag != "k=v" {
					t.Errorf("handler: got correlation %q baggage %q, want outside-id, k=v", got, bag)
				}
				if server.Parent.SpanID() != client.SpanContext.SpanID() || server.SpanContext.TraceID() != callerTrace || len(server.Links) != 0 {
					t.Errorf("server span: trace %s parent %s links %d; want trace %s, parent the client span %s, no link",
						server.SpanContext.TraceID(), server.Parent.SpanID(), len(server.Links), callerTrace, client.SpanContext.SpanID())
				}
			} else {
				if got != server.SpanContext.TraceID().String() || bag != "" {
					t.Errorf("handler: got correlation %q baggage %q, want the new trace ID %s and none", got, bag, server.SpanContext.TraceID())
				}
				if server.Parent.IsValid() || server.SpanContext.TraceID() == callerTrace {
					t.Errorf("server span: parent %s trace %s; want a new root", server.Parent.SpanID(), server.SpanContext.TraceID())
				}
				if len(server.Links) != 1 || server.Links[0].SpanContext.TraceID() != callerTrace || server.Links[0].SpanContext.SpanID() != client.SpanContext.SpanID() {
					t.Errorf("server span links: got %v, want one to the client span %s", server.Links, client.SpanContext.SpanID())
				}
			}
			acc := recordsWith(t, srv.logs, "request completed")
			if len(acc) != 1 || acc[0]["correlation.id"] != got || acc[0]["client.ip"] != "127.0.0.1" {
				t.Errorf("access record: got %v, want correlation.id %s, client.ip 127.0.0.1", acc, got)
			}
		})
	}
}
