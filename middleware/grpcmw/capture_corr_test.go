package grpcmw_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// WithRequestHeaders captures correlation keys too, as on HTTP: the
// server reads the correlation ID from them and hides them from the
// propagator, not from the capture. The captured values are redacted by
// name and sanitised and cut like any other, and the correlation ID is
// chosen as without the capture.
func TestServerCapturesCorrelationMetadata(t *testing.T) {
	long := strings.Repeat("r", 2000) // no valid correlation ID
	tests := []struct {
		name   string
		opts   []middleware.Option
		send   []string // key/value pairs
		want   map[string][]string
		wantID string // the handler's correlation ID
		absent []string
	}{
		{
			name: "default correlation keys",
			opts: []middleware.Option{middleware.WithRequestHeaders("x-request-id", "X-Correlation-ID", "x-tenant")},
			send: []string{"x-correlation-id", "corr-1", "x-request-id", "req-1", "x-tenant", "t1"},
			want: map[string][]string{
				"rpc.grpc.request.metadata.x-request-id":     {"req-1"},
				"rpc.grpc.request.metadata.x-correlation-id": {"corr-1"},
				"rpc.grpc.request.metadata.x-tenant":         {"t1"},
			},
			wantID: "corr-1",
		},
		{
			name: "configured and left-out default keys",
			opts: []middleware.Option{
				middleware.WithCorrelationHeaders("X-Trace-Tag"),
				middleware.WithRequestHeaders("x-trace-tag", "x-request-id", "x-correlation-id"),
			},
			send: []string{"x-trace-tag", "tag-1", "x-request-id", "req-2"},
			want: map[string][]string{
				"rpc.grpc.request.metadata.x-trace-tag":  {"tag-1"},
				"rpc.grpc.request.metadata.x-request-id": {"req-2"},
			},
			wantID: "tag-1",
			absent: []string{"rpc.grpc.request.metadata.x-correlation-id"},
		},
		{
			name: "invalid correlation value is captured sanitised",
			opts: []middleware.Option{middleware.WithRequestHeaders("x-request-id")},
			send: []string{"x-request-id", long, "x-request-id", "req-3"},
			want: map[string][]string{
				"rpc.grpc.request.metadata.x-request-id": {strings.Repeat("r", 1021) + "...", "req-3"},
			},
			wantID: "req-3",
		},
		{
			name: "redacted by name",
			opts: []middleware.Option{
				middleware.WithRedactor(log.NewRedactor("x-request-id")),
				middleware.WithRequestHeaders("x-request-id"),
			},
			send:   []string{"x-request-id", "req-4"},
			want:   map[string][]string{"rpc.grpc.request.metadata.x-request-id": {log.Redacted}},
			wantID: "req-4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			var seen string
			conn := bufServer(t, srv.opts(tt.opts...), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				seen, _ = trace.CorrelationID(ctx)
				return in, nil
			}})
			ctx := metadata.AppendToOutgoingContext(context.Background(), tt.send...)
			if _, err := callUnary(ctx, conn, "x"); err != nil {
				t.Fatal(err)
			}
			if seen != tt.wantID {
				t.Errorf("handler correlation ID: got %q, want %s", seen, tt.wantID)
			}
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			got := map[string][]string{}
			for _, a := range spans[0].Attributes {
				if strings.HasPrefix(string(a.Key), "rpc.grpc.request.metadata.") {
					got[string(a.Key)] = a.Value.AsStringSlice()
				}
			}
			for k, w := range tt.want {
				if g := got[k]; strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Errorf("%s: got %q, want %q", k, g, w)
				}
			}
			for _, k := range tt.absent {
				if g, ok := got[k]; ok {
					t.Errorf("%s: got %q, want none (not sent)", k, g)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("captured: got %d keys %v, want %d", len(got), got, len(tt.want))
			}
		})
	}
}
