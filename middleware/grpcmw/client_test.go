package grpcmw_test

import (
	"context"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/test.Echo/Stream")
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
	// Cancelling the context of a stream that has ended does not end it
	// again; a later call on the connection shows the client is settled.
	cancel()
	if err := st.RecvMsg(new(wrapperspb.StringValue)); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("RecvMsg after the end: got %v, want ResourceExhausted", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	var client int
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() != "client" || s.Name != "test.Echo/Stream" {
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
	recs := streamRecords(t, cli.logs)
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
	if v := hdr.Get("x-trace-tag"); len(v) != 0 {
		t.Errorf("response header x-trace-tag: got %v, want none (the client sent tag-9)", v)
	}
	for _, k := range []string{"x-correlation-id", "x-request-id"} {
		if v := gotMD.Get(k); len(v) != 0 {
			t.Errorf("client sent %s = %v besides the configured header; want none", k, v)
		}
	}
}

// A server configured with its own correlation header ignores the default
// ones, although the default propagator knows them.
func TestServerIgnoresDefaultHeadersLeftOut(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	headers := middleware.WithCorrelationHeaders("X-Trace-Tag")
	var gotID string
	conn := bufServer(t, srv.opts(headers), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		gotID, _ = trace.CorrelationID(ctx)
		return in, nil
	}})
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "chosen-by-caller", "x-correlation-id", "also-chosen")
	var hdr metadata.MD
	if _, err := callUnary(ctx, conn, "x", grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if gotID == "chosen-by-caller" || gotID == "also-chosen" || !trace.ValidCorrelationID(gotID) {
		t.Errorf("server correlation ID: got %q, want a new one", gotID)
	}
	if v := hdr.Get("x-trace-tag"); len(v) != 1 || v[0] != gotID {
		t.Errorf("response header x-trace-tag: got %v, want [%s]", v, gotID)
	}
	if v := hdr.Get("x-correlation-id"); len(v) != 0 {
		t.Errorf("response header x-correlation-id: got %v, want none", v)
	}
}

// clientSpans returns the ended client spans named name.
func clientSpans(exp *tracetest.InMemoryExporter, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range exp.GetSpans() {
		if s.SpanKind == oteltrace.SpanKindClient && s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// A server-streaming call is abandoned by ending its context without
// another RecvMsg: the client span ends then, once, with the context's
// code, and the call gets its record.
func TestClientStreamAbandoned(t *testing.T) {
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		recvOne  bool // receive the first message before abandoning
		recvLast bool // call RecvMsg again after abandoning
		abandon  bool // cancel after the first message
		want     codes.Code
	}{
		{"cancel after one message", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, false, true, codes.Canceled},
		{"cancel then RecvMsg", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, true, true, codes.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, false, false, false, codes.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			cli := newTelemetry(t, exp, "cli")
			conn := bufServer(t, srv.opts(), cli.opts(), echoFuncs{stream: func(ss grpc.ServerStream) error {
				if err := ss.SendMsg(wrapperspb.String("one")); err != nil {
					return err
				}
				<-ss.Context().Done() // until the client goes away
				return ss.Context().Err()
			}})
			// The connection is up before the call's clock starts.
			if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/test.Echo/Stream")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if tt.recvOne {
				if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
					t.Fatalf("first message: %v", err)
				}
			}
			if tt.abandon {
				cancel()
			}
			if tt.recvLast {
				if err := st.RecvMsg(new(wrapperspb.StringValue)); status.Code(err) != tt.want {
					t.Fatalf("RecvMsg after cancel: got %v, want %v", err, tt.want)
				}
			}
			// The call's record is written after its span ended, from the
			// context's AfterFunc when the stream was abandoned.
			select {
			case <-cli.logs.Written(`"rpc.method":"Stream"`):
			case <-time.After(5 * time.Second):
				t.Fatalf("no client record 5s after the stream was abandoned:\n%s", cli.logs.String())
			}
			spans := clientSpans(exp, "test.Echo/Stream")
			if len(spans) != 1 {
				t.Fatalf("got %d ended client spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name != "test.Echo/Stream" || s.Status.Code != otelcodes.Error ||
				attr(s, "rpc.grpc.status_code") != itoa(int(tt.want)) || attr(s, "error.type") != tt.want.String() {
				t.Errorf("client span %q: status %v, code %s, error.type %s; want Error, %d, %v",
					s.Name, s.Status.Code, attr(s, "rpc.grpc.status_code"), attr(s, "error.type"), tt.want, tt.want)
			}
			recs := streamRecords(t, cli.logs)
			if len(recs) != 1 {
				t.Fatalf("got %d client records, want 1:\n%s", len(recs), cli.logs.String())
			}
			if recs[0]["rpc.grpc.status_code"] != float64(tt.want) || recs[0]["rpc.grpc.method_type"] != "server_stream" {
				t.Errorf("client record: got %v", recs[0])
			}
		})
	}
}

// streamRecords returns the client records of test.Echo/Stream calls.
func streamRecords(t *testing.T, buf *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range recordsWith(t, buf, "outgoing call completed") {
		if r["rpc.method"] == "Stream" {
			out = append(out, r)
		}
	}
	return out
}
