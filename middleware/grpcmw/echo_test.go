package grpcmw_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

// echoCases are the correlation-ID situations of the contract: whether the
// server chose the ID the request runs with.
var echoCases = []struct {
	name   string
	opts   []middleware.Option
	sent   []string // x-correlation-id values sent
	chosen bool     // the server chose the ID (none, invalid, untrusted)
}{
	{name: "none sent", chosen: true},
	{name: "invalid sent", sent: []string{"bad id"}, chosen: true},
	{name: "valid sent", sent: []string{"caller-7"}},
	{name: "invalid then valid", sent: []string{"bad id", "caller-8"}},
	{name: "untrusted peer of a public endpoint", opts: []middleware.Option{middleware.WithPublicEndpoint()},
		sent: []string{"caller-9"}, chosen: true},
	{name: "trusted peer of a public endpoint", opts: []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("127.0.0.0/8")},
		sent: []string{"caller-10"}},
}

// gRPC sends the correlation ID back in the header metadata only when the
// server chose it; a caller whose ID was adopted already has it. HTTP
// sets it on every response. The handler's ID is the one sent back.
func TestCorrelationEcho(t *testing.T) {
	logger := middleware.WithLogger(slog.New(slog.DiscardHandler))
	for _, tc := range echoCases {
		t.Run("grpc/"+tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tel := newTelemetry(t, exp, "srv")
			var seen string
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			serve(t, lis, echoFuncs{
				unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
					seen, _ = trace.CorrelationID(ctx)
					return in, nil
				},
				stream: func(ss grpc.ServerStream) error {
					seen, _ = trace.CorrelationID(ss.Context())
					for {
						if err := ss.RecvMsg(new(wrapperspb.StringValue)); err == io.EOF {
							return nil
						} else if err != nil {
							return err
						}
					}
				},
			}, grpcmw.ServerOptions(tel.opts(append(tc.opts, logger)...)...)...)
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			ctx := context.Background()
			for _, v := range tc.sent {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-correlation-id", v)
			}

			var hdr metadata.MD
			if _, err := callUnary(ctx, conn, "x", grpc.Header(&hdr)); err != nil {
				t.Fatal(err)
			}
			checkEcho(t, "unary", tc.chosen, tc.chosen, tc.sent, seen, hdr.Get("x-correlation-id"))

			st, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, "/test.Echo/Stream")
			if err != nil {
				t.Fatal(err)
			}
			_ = st.CloseSend()
			if err := st.RecvMsg(new(wrapperspb.StringValue)); err != io.EOF {
				t.Fatalf("stream: got %v, want io.EOF", err)
			}
			hdr, _ = st.Header()
			checkEcho(t, "stream", tc.chosen, tc.chosen, tc.sent, seen, hdr.Get("x-correlation-id"))
		})
		t.Run("http/"+tc.name, func(t *testing.T) {
			var seen string
			srv := httptest.NewServer(middleware.HTTP(append(tc.opts, logger)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _ = trace.CorrelationID(r.Context())
			})))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			for _, v := range tc.sent {
				req.Header.Add("X-Correlation-ID", v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// HTTP: on every response, chosen or not.
			checkEcho(t, "response", true, tc.chosen, tc.sent, seen, resp.Header.Values("X-Correlation-ID"))
		})
	}
}

// checkEcho checks the IDs sent back: exactly the handler's ID when echo
// is wanted, none otherwise. The handler's ID is a new one when the server
// chose it, else the caller's valid one.
func checkEcho(t *testing.T, what string, echo, chosen bool, sent []string, seen string, got []string) {
	t.Helper()
	if !trace.ValidCorrelationID(seen) {
		t.Fatalf("%s: handler's correlation ID %q is not valid", what, seen)
	}
	if slices.Contains(sent, seen) == chosen {
		t.Errorf("%s: handler's correlation ID %q, sent %q: want the server's choice %v", what, seen, sent, chosen)
	}
	if !echo {
		if len(got) != 0 {
			t.Errorf("%s: got %q sent back, want none (the caller sent %q)", what, got, seen)
		}
		return
	}
	if len(got) != 1 || got[0] != seen {
		t.Errorf("%s: got %q sent back, want [%s], the handler's", what, got, seen)
	}
}
