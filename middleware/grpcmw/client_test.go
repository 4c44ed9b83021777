package grpcmw_test

import (
	"context"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestClientStreamSpanEndsWithTheStream(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	cli := newTelemetry(t, exp, "cli")
	conn := bufServer(t, srv.opts(), cli.opts(), echoFuncs{stream: func(ss grpc.ServerStream) error {
		if err := ss.SendMsg(wrapperspb.String("one")); err != nil {
			return err
		}
		return status.Error(codes.ResourceExhausted, "quota")
	}})
	st, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, "/test.Echo/Stream")
	if err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		t.Fatalf("first message: %v", err)
	}
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() == "client" {
			t.Fatal("client span ended before the stream did")
		}
	}
	if err := st.RecvMsg(new(wrapperspb.StringValue)); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("end of stream: got %v, want ResourceExhausted", err)
	}
	var client int
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() != "client" {
			continue
		}
		client++
		if s.Status.Code != otelcodes.Error || attr(s, "rpc.grpc.status_code") != "8" {
			t.Errorf("client span: status %v code %s, want Error 8", s.Status.Code, attr(s, "rpc.grpc.status_code"))
		}
	}
	if client != 1 {
		t.Errorf("got %d client spans, want 1", client)
	}
	recs := recordsWith(t, cli.logs, "outgoing call completed")
	if len(recs) != 1 || recs[0]["log.level"] != "warn" || recs[0]["rpc.grpc.method_type"] != "server_stream" {
		t.Errorf("client record: got %v", recs)
	}
	srvRecs := recordsWith(t, srv.logs, "request completed")
	if len(srvRecs) != 1 || srvRecs[0]["log.level"] != "warn" || srvRecs[0]["error.message"] != "quota" {
		t.Errorf("server record: got %v", srvRecs)
	}
}

func TestClientKeepsOutgoingMetadataAndCustomHeader(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	var gotID string
	var gotMD metadata.MD
	headers := middleware.WithCorrelationHeaders("X-Trace-Tag")
	conn := bufServer(t, srv.opts(headers), []middleware.Option{headers, middleware.WithTracerProvider(srv.tp)}, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		gotID, _ = trace.CorrelationID(ctx)
		gotMD, _ = metadata.FromIncomingContext(ctx)
		return in, nil
	}})
	ctx := metadata.AppendToOutgoingContext(trace.WithCorrelationID(context.Background(), "tag-9"), "x-user", "u1")
	var hdr metadata.MD
	if _, err := callUnary(ctx, conn, "x", grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if gotID != "tag-9" {
		t.Errorf("server correlation ID: got %q, want tag-9", gotID)
	}
	if v := gotMD.Get("x-user"); len(v) != 1 || v[0] != "u1" {
		t.Errorf("caller's metadata lost: %v", gotMD)
	}
	if v := gotMD.Get("traceparent"); len(v) != 1 {
		t.Errorf("traceparent not sent: %v", gotMD)
	}
	if v := hdr.Get("x-trace-tag"); len(v) != 1 || v[0] != "tag-9" {
		t.Errorf("response header x-trace-tag: got %v, want [tag-9]", v)
	}
}
