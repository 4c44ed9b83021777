package grpcmw_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// Over a real connection: a correlation header configured in HTTP spelling
// is read from the lowercase metadata key, and WithRequestHeaders keys
// become rpc.grpc.request.metadata.* attributes, redacted by name and
// cut to 1 KiB like HTTP headers.
func TestServerCorrelationHeaderAndCapturedMetadata(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	var seen string
	conn := bufServer(t, srv.opts(
		middleware.WithCorrelationHeaders("X-Trace-Tag"),
		middleware.WithRequestHeaders("X-Tenant", "Authorization", "X-Absent"),
	), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		seen, _ = trace.CorrelationID(ctx)
		return in, nil
	}})
	ctx := metadata.AppendToOutgoingContext(context.Background(),
		"x-trace-tag", "tag-1",
		"x-tenant", "acme", "x-tenant", strings.Repeat("t", 2000),
		"authorization", "Bearer s3cret")
	var hdr metadata.MD
	if _, err := callUnary(ctx, conn, "x", grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if seen != "tag-1" {
		t.Errorf("handler correlation ID: got %q, want tag-1", seen)
	}
	if got := hdr.Get("x-trace-tag"); len(got) != 0 {
		t.Errorf("header metadata x-trace-tag: got %v, want none (the caller sent tag-1)", got)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	attrs := map[string][]string{}
	for _, a := range spans[0].Attributes {
		if s := a.Value.AsStringSlice(); s != nil {
			attrs[string(a.Key)] = s
		}
	}
	want := map[string][]string{
		"rpc.grpc.request.metadata.x-tenant":      {"acme", strings.Repeat("t", 1021) + "..."},
		"rpc.grpc.request.metadata.authorization": {log.Redacted},
	}
	for k, w := range want {
		if got := attrs[k]; len(got) != len(w) || got[0] != w[0] || got[len(got)-1] != w[len(w)-1] {
			t.Errorf("%s: got %q, want %q", k, got, w)
		}
	}
	if got, ok := attrs["rpc.grpc.request.metadata.x-absent"]; ok {
		t.Errorf("absent key recorded: %q", got)
	}
}
