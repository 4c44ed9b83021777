package prometheus_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/prometheus"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// service is an instrumented HTTP and gRPC service whose metrics a
// Prometheus exporter serves.
type service struct {
	tel     *glassbox.Telemetry
	app     *httptest.Server // the HTTP API
	metrics *httptest.Server // tel.MetricsHandler()
	conn    *grpc.ClientConn // a client of the gRPC API
}

// newService starts glassbox with the Prometheus exporter, the HTTP API
// (GET /orders/{id}, GET /fail answering 503) and the gRPC API
// (shop.Orders/Get, failing with the code its argument names).
func newService(t *testing.T) *service {
	t.Helper()
	tel, err := glassbox.Start(context.Background(), glassbox.WithServiceName("checkout"), glassbox.WithLogWriter(nil),
		glassbox.WithoutSetDefault(), glassbox.WithMetricsExporter(prometheus.New()))
	if err != nil {
		t.Fatal(err)
	}
	s := &service{tel: tel}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "order", r.PathValue("id")) })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	s.app = httptest.NewServer(middleware.HTTP(tel.MiddlewareOptions()...)(mux))
	s.metrics = httptest.NewServer(tel.MetricsHandler())

	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpcmw.ServerOptions(tel.MiddlewareOptions()...)...)
	srv.RegisterService(&ordersDesc, struct{}{})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	s.conn, err = grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.conn.Close()
		srv.Stop()
		<-done
		s.app.Close()
		s.metrics.Close()
		_ = tel.Shutdown(context.Background())
	})
	return s
}

// get sends a GET to the HTTP API with the headers given as name, value
// pairs, and returns the response's status.
func (s *service) get(t *testing.T, path string, headers ...string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.app.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// call calls shop.Orders/Get with the status code the server must answer.
func (s *service) call(code codes.Code) error {
	return s.conn.Invoke(context.Background(), "/shop.Orders/Get", wrapperspb.UInt32(uint32(code)), new(wrapperspb.UInt32Value))
}

var ordersDesc = grpc.ServiceDesc{
	ServiceName: "shop.Orders",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Get",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.UInt32Value)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				if c := codes.Code(req.(*wrapperspb.UInt32Value).GetValue()); c != codes.OK {
					return nil, status.Error(c, "failed on purpose")
				}
				return req, nil
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/shop.Orders/Get"}, h)
		},
	}},
}
