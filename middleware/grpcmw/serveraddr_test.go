package grpcmw_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// The RPC semantic conventions: the client span has server.address and
// server.port of the connection's target; the server span has those of
// the connection's local address. Over real grpc-go connections on
// loopback and a unix socket.
func TestServerAddress(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	p := strconv.Itoa(port)
	sock := filepath.Join(t.TempDir(), "api.sock")
	ulis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	echo := echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil }}
	serve(t, lis, echo, grpcmw.ServerOptions(srv.opts()...)...)
	serve(t, ulis, echo, grpcmw.ServerOptions(srv.opts()...)...)
	toTCP := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", lis.Addr().String())
	})

	tests := []struct {
		name       string
		target     string
		dial       []grpc.DialOption
		clientHost string
		clientPort int
		serverHost string
		serverPort int // 0: none
	}{
		{name: "ip and port", target: "127.0.0.1:" + p, clientHost: "127.0.0.1", clientPort: port, serverHost: "127.0.0.1", serverPort: port},
		{name: "dns name", target: "dns:///localhost:" + p, clientHost: "localhost", clientPort: port, serverHost: "127.0.0.1", serverPort: port},
		{name: "dns name without port", target: "dns:///localhost", dial: []grpc.DialOption{toTCP},
			clientHost: "localhost", clientPort: 443, serverHost: "127.0.0.1", serverPort: port},
		{name: "passthrough", target: "passthrough:///orders.svc:" + p, dial: []grpc.DialOption{toTCP},
			clientHost: "orders.svc", clientPort: port, serverHost: "127.0.0.1", serverPort: port},
		{name: "unix socket", target: "unix://" + sock, clientHost: sock, serverHost: sock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp.Reset()
			cli := newTelemetry(t, exp, "cli")
			dopts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tc.dial...)
			conn, err := grpc.NewClient(tc.target, append(dopts, grpcmw.DialOptions(cli.opts()...)...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := callUnary(context.Background(), conn, "x"); err != nil {
				t.Fatal(err)
			}
			var seen int
			for _, s := range exp.GetSpans() {
				host, port := attr(s, "server.address"), attr(s, "server.port")
				switch s.SpanKind {
				case oteltrace.SpanKindClient:
					seen++
					if host != tc.clientHost || port != portString(tc.clientPort) {
						t.Errorf("client span: server.address %q server.port %q, want %q %q", host, port, tc.clientHost, portString(tc.clientPort))
					}
				case oteltrace.SpanKindServer:
					seen++
					if host != tc.serverHost || port != portString(tc.serverPort) {
						t.Errorf("server span: server.address %q server.port %q, want %q %q", host, port, tc.serverHost, portString(tc.serverPort))
					}
				}
			}
			if seen != 2 {
				t.Errorf("got %d client and server spans, want 2", seen)
			}
		})
	}
}

func portString(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}
