package grpcmw_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// TestThreeHops runs HTTP (svc-a) -> gRPC (svc-b) -> HTTP (svc-c) on real
// loopback listeners and checks that every record of every service carries
// one correlation ID and one trace ID, that the spans form one chain, and
// that the caller gets the ID back.
func TestThreeHops(t *testing.T) {
	tests := []struct {
		name    string
		inbound string // X-Correlation-ID sent by the outside caller
	}{
		{"correlation ID from the caller", "ticket-4711"},
		{"correlation ID = trace ID", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			a, b, c := newTelemetry(t, exp, "svc-a"), newTelemetry(t, exp, "svc-b"), newTelemetry(t, exp, "svc-c")

			// svc-c: HTTP.
			muxC := http.NewServeMux()
			muxC.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				c.logger.InfoContext(r.Context(), "svc-c handler", "item", r.PathValue("id"))
				_, _ = io.WriteString(w, "item-"+r.PathValue("id"))
			})
			srvC := httptest.NewServer(middleware.HTTP(c.opts()...)(muxC))
			t.Cleanup(srvC.Close)

			// svc-b: gRPC, calls svc-c through the Transport.
			httpB := &http.Client{Transport: middleware.Transport(nil, b.opts()...)}
			t.Cleanup(httpB.CloseIdleConnections)
			lisB, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			serve(t, lisB, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				b.logger.InfoContext(ctx, "svc-b handler")
				req, _ := http.NewRequestWithContext(ctx, "GET", srvC.URL+"/items/"+in.GetValue(), nil)
				resp, err := httpB.Do(req)
				if err != nil {
					return nil, err
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return wrapperspb.String(string(body)), nil
			}}, grpcmw.ServerOptions(b.opts()...)...)

			// svc-a: HTTP, calls svc-b over gRPC.
			conn, err := grpc.NewClient(lisB.Addr().String(), append(grpcmw.DialOptions(a.opts()...),
				grpc.WithTransportCredentials(insecure.NewCredentials()))...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			muxA := http.NewServeMux()
			muxA.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				a.logger.InfoContext(r.Context(), "svc-a handler")
				out, err := callUnary(r.Context(), conn, r.PathValue("id"))
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				_, _ = io.WriteString(w, out)
			})
			srvA := httptest.NewServer(middleware.HTTP(a.opts()...)(muxA))
			t.Cleanup(srvA.Close)

			req, _ := http.NewRequest("GET", srvA.URL+"/orders/7", nil)
			if tt.inbound != "" {
				req.Header.Set("X-Correlation-ID", tt.inbound)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if resp.StatusCode != 200 || string(body) != "item-7" {
				t.Fatalf("response: got %d %q, want 200 item-7", resp.StatusCode, body)
			}

			// One trace.
			spans := exp.GetSpans()
			if len(spans) != 5 {
				t.Fatalf("got %d spans, want 5 (A server, A gRPC client, B server, B HTTP client, C server)", len(spans))
			}
			traceID := spans[0].SpanContext.TraceID()
			for _, s := range spans {
				if s.SpanContext.TraceID() != traceID {
					t.Errorf("span %q in trace %s, want %s", s.Name, s.SpanContext.TraceID(), traceID)
				}
			}
			wantID := tt.inbound
			if wantID == "" {
				wantID = traceID.String()
			}
			if got := resp.Header.Get("X-Correlation-ID"); got != wantID {
				t.Errorf("response X-Correlation-ID: got %q, want %q", got, wantID)
			}

			// Parent-child chain.
			byName := map[string]tracetest.SpanStub{}
			for _, s := range spans {
				byName[fmt.Sprintf("%s/%s", s.SpanKind, s.Name)] = s
			}
			chain := []string{"server/GET /orders/{id}", "client/test.Echo/Unary", "server/test.Echo/Unary", "client/GET", "server/GET /items/{id}"}
			for i, name := range chain {
				s, ok := byName[name]
				if !ok {
					t.Fatalf("no span %q; have %v", name, keys(byName))
				}
				if i == 0 {
					if s.Parent.IsValid() {
						t.Errorf("%s: got parent %s, want a root", name, s.Parent.SpanID())
					}
					continue
				}
				if parent := byName[chain[i-1]]; s.Parent.SpanID() != parent.SpanContext.SpanID() {
					t.Errorf("%s: parent %s, want %s (%s)", name, s.Parent.SpanID(), parent.SpanContext.SpanID(), chain[i-1])
				}
				if v := attr(s, "correlation.id"); v != wantID {
					t.Errorf("%s: correlation.id attribute %q, want %q", name, v, wantID)
				}
			}
			if v := attr(byName["server/test.Echo/Unary"], "rpc.service"); v != "test.Echo" {
				t.Errorf("rpc.service: got %q, want test.Echo", v)
			}

			// Every record of every service: one correlation ID, one trace ID.
			for _, svc := range []struct {
				name string
				tel  *telemetry
				min  int
			}{{"svc-a", a, 3}, {"svc-b", b, 2}, {"svc-c", c, 2}} {
				recs := records(t, svc.tel.logs)
				if len(recs) < svc.min {
					t.Errorf("%s: got %d records, want at least %d:\n%s", svc.name, len(recs), svc.min, svc.tel.logs.String())
				}
				for _, r := range recs {
					if r["correlation.id"] != wantID || r["trace.id"] != traceID.String() {
						t.Errorf("%s record %q: correlation.id %v trace.id %v, want %s %s", svc.name, r["message"], r["correlation.id"], r["trace.id"], wantID, traceID)
					}
				}
				if n := len(recordsWith(t, svc.tel.logs, "request completed")); n != 1 {
					t.Errorf("%s: got %d access-log records, want 1", svc.name, n)
				}
			}
			acc := recordsWith(t, b.logs, "request completed")[0]
			if acc["rpc.system"] != "grpc" || acc["rpc.service"] != "test.Echo" || acc["rpc.method"] != "Unary" || acc["rpc.grpc.status_code"] != float64(0) {
				t.Errorf("gRPC access log: got %v", acc)
			}
		})
	}
}

func keys(m map[string]tracetest.SpanStub) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

var _ = oteltrace.SpanKindServer
