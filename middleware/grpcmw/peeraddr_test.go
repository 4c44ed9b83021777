package grpcmw_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// The server records its peer as the RPC semantic conventions and the
// HTTP middleware do: network.peer.address is the host alone and
// network.peer.port the port, as an int, on the span; the access record
// has the host in client.ip (the HTTP middleware's key for an IP
// address), and no port, as the HTTP record. Several calls on one connection (the cached
// path) and a stream record the same.
func TestServerPeerAddressTCP(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, lis, echoFuncs{
		unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil },
		stream: func(ss grpc.ServerStream) error {
			for {
				in := new(wrapperspb.StringValue)
				if err := ss.RecvMsg(in); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		},
	}, grpcmw.ServerOptions(srv.opts()...)...)
	var mu sync.Mutex
	var local []net.Addr // the client side of each connection made
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				mu.Lock()
				local = append(local, c.LocalAddr())
				mu.Unlock()
			}
			return c, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	for range 3 {
		if _, err := callUnary(context.Background(), conn, "x"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/test.Echo/Stream")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	mu.Lock()
	if len(local) != 1 {
		t.Fatalf("got %d connections, want 1", len(local))
	}
	wantPort := int64(local[0].(*net.TCPAddr).Port)
	mu.Unlock()

	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("got %d spans, want 4", len(spans))
	}
	for _, s := range spans {
		if s.SpanKind != oteltrace.SpanKindServer {
			continue
		}
		addr, port := attrValue(s, "network.peer.address"), attrValue(s, "network.peer.port")
		if addr.Type() != attribute.STRING || addr.AsString() != "127.0.0.1" {
			t.Errorf("%s: network.peer.address: got %q (%v), want \"127.0.0.1\"", s.Name, addr.Emit(), addr.Type())
		}
		if port.Type() != attribute.INT64 || port.AsInt64() != wantPort {
			t.Errorf("%s: network.peer.port: got %q (%v), want %d (INT64)", s.Name, port.Emit(), port.Type(), wantPort)
		}
	}
	acc := recordsWith(t, srv.logs, "request completed")
	if len(acc) != 4 {
		t.Fatalf("got %d access records, want 4", len(acc))
	}
	for _, r := range acc {
		if r["client.ip"] != "127.0.0.1" {
			t.Errorf("%v: client.ip: got %v, want 127.0.0.1", r["rpc.method"], r["client.ip"])
		}
		if v, ok := r["client.address"]; ok {
			t.Errorf("%v: client.address: got %v, want none next to client.ip", r["rpc.method"], v)
		}
		if v, ok := r["client.port"]; ok {
			t.Errorf("%v: client.port: got %v, want none (as in the HTTP record)", r["rpc.method"], v)
		}
	}
}

// A peer without an IP address (bufconn here, a unix socket in
// production) keeps its string as the address, has no port, and is
// logged as client.address (client.ip is an ip field in ECS).
func TestServerPeerAddressNotIP(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	conn := bufServer(t, srv.opts(), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return in, nil
	}})
	if _, err := callUnary(context.Background(), conn, "x"); err != nil {
		t.Fatal(err)
	}
	for _, s := range exp.GetSpans() {
		if s.SpanKind != oteltrace.SpanKindServer {
			continue
		}
		if got := attr(s, "network.peer.address"); got != "bufconn" {
			t.Errorf("network.peer.address: got %q, want bufconn", got)
		}
		if v := attrValue(s, "network.peer.port"); v.Type() != attribute.INVALID {
			t.Errorf("network.peer.port: got %s, want none", v.Emit())
		}
	}
	acc := recordsWith(t, srv.logs, "request completed")
	if len(acc) != 1 || acc[0]["client.address"] != "bufconn" {
		t.Fatalf("access record: got %v, want client.address bufconn", acc)
	}
	if v, ok := acc[0]["client.ip"]; ok {
		t.Errorf("client.ip: got %v, want none for a non-IP peer", v)
	}
}

func attrValue(s tracetest.SpanStub, key string) attribute.Value {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value
		}
	}
	return attribute.Value{}
}
