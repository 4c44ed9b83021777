package grpcmw_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"go.opentelemetry.io/otel/baggage"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

type observer struct {
	mu     sync.Mutex
	begins int
	ends   []middleware.Outcome
	reqs   []middleware.Request
	logsAt []string
	logs   *syncBuffer
}

type obsKey struct{}

func (o *observer) Begin(ctx context.Context, req *middleware.Request) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.begins++
	return context.WithValue(ctx, obsKey{}, "begun")
}

func (o *observer) End(ctx context.Context, req *middleware.Request, out *middleware.Outcome) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ends = append(o.ends, *out)
	o.reqs = append(o.reqs, *req)
	o.logsAt = append(o.logsAt, o.logs.String())
	if out.Panic != nil || out.GRPCCode != 0 {
		return "sentry-event-1"
	}
	return ""
}

// codeServer serves test.Echo/Unary failing with the code its request
// names ("5" is NotFound; "plain" a plain error), and returns a client
// connection; the server is built with opts, the client with cli's.
func codeServer(t *testing.T, srv, cli *telemetry, opts ...middleware.Option) *grpc.ClientConn {
	t.Helper()
	return bufServer(t, srv.opts(opts...), cli.opts(opts...), echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if in.GetValue() == "plain" {
			return nil, errors.New("plain")
		}
		n, err := strconv.Atoi(in.GetValue())
		if err != nil {
			return nil, err
		}
		return in, status.Error(codes.Code(n), "failed with "+codes.Code(n).String())
	}})
}

// recordOf returns the one record with message msg and correlation ID id.
func recordOf(t *testing.T, buf *syncBuffer, msg, id string) map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range recordsWith(t, buf, msg) {
		if r["correlation.id"] == id {
			out = append(out, r)
		}
	}
	if len(out) != 1 {
		t.Fatalf("got %d %q records with correlation.id %s, want 1:\n%s", len(out), msg, id, buf.String())
	}
	return out[0]
}

// Every code through a real call: the access record's level (the default
// mapping, DefaultGRPCCodeLevel), the status code on record and span, the
// span's Error status for the codes the RPC semantic conventions count as
// server errors, and the correlation ID in the header metadata. The
// client's record is Debug when OK, else at the same level.
func TestUnaryServerCodes(t *testing.T) {
	tests := []struct {
		code      codes.Code
		wantLevel string
		spanErr   bool
	}{
		{codes.OK, "info", false},
		{codes.Canceled, "info", false},
		{codes.Unknown, "error", true},
		{codes.InvalidArgument, "info", false},
		{codes.DeadlineExceeded, "warn", true},
		{codes.NotFound, "info", false},
		{codes.AlreadyExists, "info", false},
		{codes.PermissionDenied, "warn", false},
		{codes.ResourceExhausted, "warn", false},
		{codes.FailedPrecondition, "warn", false},
		{codes.Aborted, "warn", false},
		{codes.OutOfRange, "warn", false}, // DefaultGRPCCodeLevel: Warn
		{codes.Unimplemented, "error", true},
		{codes.Internal, "error", true},
		{codes.Unavailable, "error", true},
		{codes.DataLoss, "error", true},
		{codes.Unauthenticated, "info", false},
	}
	if len(tests) != 17 {
		t.Fatalf("got %d codes in the table, want all 17", len(tests))
	}
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	cli := newTelemetry(t, exp, "cli")
	conn := codeServer(t, srv, cli)
	run := func(t *testing.T, req string, wantCode codes.Code, wantLevel string, spanErr bool) {
		id := "corr-grpc-" + req
		var hdr metadata.MD
		_, err := callUnary(trace.WithCorrelationID(context.Background(), id), conn, req, grpc.Header(&hdr))
		if status.Code(err) != wantCode {
			t.Fatalf("code: got %v, want %v", status.Code(err), wantCode)
		}
		if got := hdr.Get("x-correlation-id"); len(got) != 0 {
			t.Errorf("header metadata x-correlation-id: got %v, want none (the caller sent %s)", got, id)
		}
		r := recordOf(t, srv.logs, "request completed", id)
		if r["log.level"] != wantLevel || r["rpc.grpc.status_code"] != float64(wantCode) || r["rpc.service"] != "test.Echo" || r["rpc.method"] != "Unary" {
			t.Errorf("access record: got %v, want level %s, code %d", r, wantLevel, wantCode)
		}
		if msg, ok := r["error.message"]; (wantCode != codes.OK) != ok {
			t.Errorf("access record error.message: got %v (present %v), want one for a failed call only", msg, ok)
		}
		var found int
		for _, s := range exp.GetSpans() {
			if s.SpanKind != oteltrace.SpanKindServer || attr(s, "correlation.id") != id {
				continue
			}
			found++
			if s.Name != "test.Echo/Unary" || attr(s, "rpc.system") != "grpc" || attr(s, "rpc.grpc.status_code") != itoa(int(wantCode)) {
				t.Errorf("server span: name %q attrs %v", s.Name, s.Attributes)
			}
			if got := s.Status.Code == otelcodes.Error; got != spanErr {
				t.Errorf("server span Error: got %v, want %v", got, spanErr)
			}
		}
		if found != 1 {
			t.Errorf("got %d server spans, want 1", found)
		}
		cr := recordOf(t, cli.logs, "outgoing call completed", id)
		wantClient := wantLevel
		if wantCode == codes.OK {
			wantClient = "debug"
		}
		if cr["log.level"] != wantClient || cr["rpc.grpc.status_code"] != float64(wantCode) {
			t.Errorf("client record: got level %v code %v, want %s %d", cr["log.level"], cr["rpc.grpc.status_code"], wantClient, wantCode)
		}
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			if got := middleware.DefaultGRPCCodeLevel(uint32(tt.code)).String(); !strings.EqualFold(got, tt.wantLevel) {
				t.Errorf("DefaultGRPCCodeLevel(%v): got %s, want %s", tt.code, got, tt.wantLevel)
			}
			run(t, itoa(int(tt.code)), tt.code, tt.wantLevel, tt.spanErr)
		})
	}
	t.Run("plain error", func(t *testing.T) { run(t, "plain", codes.Unknown, "error", true) })
	// A code grpc-go does not name: Error by default; the conventions'
	// list of server errors does not hold it.
	t.Run("code beyond the known", func(t *testing.T) { run(t, "42", codes.Code(42), "error", false) })
}

// WithGRPCCodeLevel replaces the default mapping for the server's access
// record and the client's record of a failed call.
func TestWithGRPCCodeLevel(t *testing.T) {
	level := middleware.WithGRPCCodeLevel(func(code uint32) slog.Level {
		switch codes.Code(code) {
		case codes.OK:
			return slog.LevelDebug
		case codes.NotFound:
			return slog.LevelError
		case codes.Internal:
			return slog.LevelWarn
		}
		return slog.LevelInfo
	})
	tests := []struct {
		name       string
		opts       []middleware.Option
		code       codes.Code
		wantServer string
		wantClient string
	}{
		{"OK", []middleware.Option{level}, codes.OK, "debug", "debug"},
		{"NotFound", []middleware.Option{level}, codes.NotFound, "error", "error"},
		{"Internal", []middleware.Option{level}, codes.Internal, "warn", "warn"},
		{"Unavailable", []middleware.Option{level}, codes.Unavailable, "info", "info"},
		{"nil keeps the default", []middleware.Option{middleware.WithGRPCCodeLevel(nil)}, codes.NotFound, "info", "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			cli := newTelemetry(t, exp, "cli")
			conn := codeServer(t, srv, cli, tt.opts...)
			id := "corr-level-" + itoa(int(tt.code))
			if _, err := callUnary(trace.WithCorrelationID(context.Background(), id), conn, itoa(int(tt.code))); status.Code(err) != tt.code {
				t.Fatalf("code: got %v, want %v", status.Code(err), tt.code)
			}
			if got := recordOf(t, srv.logs, "request completed", id)["log.level"]; got != tt.wantServer {
				t.Errorf("access record level: got %v, want %s", got, tt.wantServer)
			}
			if got := recordOf(t, cli.logs, "outgoing call completed", id)["log.level"]; got != tt.wantClient {
				t.Errorf("client record level: got %v, want %s", got, tt.wantClient)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestUnaryServerPanic(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	obs := &observer{logs: srv.logs}
	var ctxVal any
	conn := bufServer(t, srv.opts(middleware.WithObservers(obs)), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		ctxVal = ctx.Value(obsKey{})
		panic("grpc boom \x1b[31m")
	}})
	_, err := callUnary(context.Background(), conn, "x")
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want Internal without the panic value", err)
	}
	if ctxVal != "begun" {
		t.Errorf("handler context: got %v, want the Observer.Begin one", ctxVal)
	}
	if obs.begins != 1 || len(obs.ends) != 1 {
		t.Fatalf("observer: got %d Begin, %d End; want 1, 1", obs.begins, len(obs.ends))
	}
	out := obs.ends[0]
	if out.Panic == nil || len(out.Stack) == 0 || out.GRPCCode != uint32(codes.Internal) {
		t.Errorf("outcome: got %+v", out)
	}
	if strings.Contains(obs.logsAt[0], "panic recovered") {
		t.Error("the error record was written before Observer.End")
	}
	if obs.reqs[0].Protocol != "grpc" || obs.reqs[0].Method != "/test.Echo/Unary" {
		t.Errorf("request: got %+v", obs.reqs[0])
	}
	pr := recordsWith(t, srv.logs, "panic recovered")
	if len(pr) != 1 {
		t.Fatalf("got %d panic records, want 1", len(pr))
	}
	if pr[0]["error.id"] != "sentry-event-1" || !strings.Contains(pr[0]["error.stack_trace"].(string), "TestUnaryServerPanic") {
		t.Errorf("panic record: got %v", pr[0])
	}
	if msg := pr[0]["error.message"].(string); strings.Contains(msg, "\x1b") {
		t.Errorf("panic message not sanitised: %q", msg)
	}
	acc := recordsWith(t, srv.logs, "request completed")
	if len(acc) != 1 || acc[0]["log.level"] != "error" || acc[0]["error.id"] != "sentry-event-1" {
		t.Errorf("access record: got %v", acc)
	}
	var found bool
	for _, s := range exp.GetSpans() {
		for _, e := range s.Events {
			if e.Name == "exception" {
				found = true
			}
		}
		if s.Status.Code != otelcodes.Error {
			t.Errorf("span status: got %v, want Error", s.Status.Code)
		}
	}
	if !found {
		t.Error("no exception event on the span")
	}
}

func TestHealthFilteredByDefault(t *testing.T) {
	tests := []struct {
		name  string
		opts  []middleware.Option
		spans int
	}{
		{"default", nil, 0},
		{"skip nothing", []middleware.Option{middleware.WithSkipGRPCMethods()}, 1},
		{"skip by method", []middleware.Option{middleware.WithSkipGRPCMethods("/grpc.health.v1.Health/Check")}, 0},
		{"filter func", []middleware.Option{middleware.WithSkipGRPCMethods(), middleware.WithFilter(func(r *middleware.Request) bool {
			return r.Protocol == "grpc" && r.Method != "/grpc.health.v1.Health/Check"
		})}, 0},
		{"filter keeps", []middleware.Option{middleware.WithSkipGRPCMethods(), middleware.WithFilter(func(r *middleware.Request) bool { return true })}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			conn := bufServer(t, srv.opts(tt.opts...), nil, echoFuncs{})
			if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			if n := len(exp.GetSpans()); n != tt.spans {
				t.Errorf("got %d spans, want %d", n, tt.spans)
			}
			if n := len(recordsWith(t, srv.logs, "request completed")); n != tt.spans {
				t.Errorf("got %d access records, want %d", n, tt.spans)
			}
		})
	}
}

func TestStreamHandlerSeesIDs(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	cli := newTelemetry(t, exp, "cli")
	var gotID, gotTrace, gotBag string
	conn := bufServer(t, srv.opts(), cli.opts(), echoFuncs{stream: func(ss grpc.ServerStream) error {
		gotID, _ = trace.CorrelationID(ss.Context())
		gotTrace, _ = trace.TraceID(ss.Context())
		gotBag = baggage.FromContext(ss.Context()).String()
		srv.logger.InfoContext(ss.Context(), "in stream")
		for {
			in := new(wrapperspb.StringValue)
			if err := ss.RecvMsg(in); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			if err := ss.SendMsg(wrapperspb.String("echo:" + in.GetValue())); err != nil {
				return err
			}
		}
	}})
	ctx, parent := cli.tp.Tracer("t").Start(context.Background(), "parent")
	ctx = trace.WithCorrelationID(ctx, "stream-corr")
	m, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(m)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/test.Echo/Stream")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		if err := st.SendMsg(wrapperspb.String(s)); err != nil {
			t.Fatal(err)
		}
		out := new(wrapperspb.StringValue)
		if err := st.RecvMsg(out); err != nil || out.GetValue() != "echo:"+s {
			t.Fatalf("RecvMsg: got %q %v", out.GetValue(), err)
		}
	}
	hdr, _ := st.Header()
	_ = st.CloseSend()
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
	parent.End()
	if gotID != "stream-corr" || gotTrace != parent.SpanContext().TraceID().String() || gotBag != "tenant=acme" {
		t.Errorf("stream handler saw correlation %q trace %q baggage %q", gotID, gotTrace, gotBag)
	}
	if got := hdr.Get("x-correlation-id"); len(got) != 0 {
		t.Errorf("stream header metadata: got %v, want none (the caller sent its ID)", got)
	}
	if recs := recordsWith(t, srv.logs, "in stream"); len(recs) != 1 || recs[0]["correlation.id"] != "stream-corr" {
		t.Errorf("handler record: got %v", recs)
	}
	acc := recordsWith(t, srv.logs, "request completed")
	if len(acc) != 1 || acc[0]["rpc.grpc.method_type"] != "bidi_stream" || acc[0]["rpc.method"] != "Stream" {
		t.Errorf("stream access record: got %v", acc)
	}
	var server, client bool
	for _, s := range exp.GetSpans() {
		if s.Name == "test.Echo/Stream" {
			switch s.SpanKind.String() {
			case "server":
				server = true
			case "client":
				client = true
			}
		}
	}
	if !server || !client {
		t.Errorf("stream spans: server %v client %v, want both ended", server, client)
	}
}

// grpc-go's client and server transports refuse control characters in
// metadata, so hostile values are fed to the interceptor directly, as
// incoming metadata, the way a non-Go client's HTTP/2 frames would arrive.
func TestHostileMetadata(t *testing.T) {
	hostile := map[string]string{
		"1MiB":    strings.Repeat("A", 1<<20),
		"CRLF":    "abc\r\ndef-injected",
		"NUL":     "nul\x00byte-and-more",
		"ANSI":    "\x1b[31mansi-colour-codes",
		"U+2028":  "line\u2028separator-here",
		"invalid": "bad\xff\xfeutf8-sequence",
	}
	for name, v := range hostile {
		t.Run(name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			srv := newTelemetry(t, exp, "srv")
			icpt := grpcmw.UnaryServerInterceptor(srv.opts(middleware.WithRequestHeaders("x-custom"))...)
			md := metadata.MD{}
			for range 100 {
				md.Append("x-correlation-id", v)
				md.Append("x-request-id", v)
				md.Append("x-custom", v)
			}
			md.Append("traceparent", v)
			md.Append("baggage", v)
			ctx := metadata.NewIncomingContext(context.Background(), md)
			var got, bag string
			_, err := icpt(ctx, "req", &grpc.UnaryServerInfo{FullMethod: "/test.Echo/" + v}, func(ctx context.Context, req any) (any, error) {
				got, _ = trace.CorrelationID(ctx)
				bag = baggage.FromContext(ctx).String()
				return nil, status.Error(codes.InvalidArgument, v)
			})
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v", err)
			}
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			if want := spans[0].SpanContext.TraceID().String(); got != want {
				t.Errorf("correlation ID: got %q, want the new trace ID %s", got[:min(len(got), 40)], want)
			}
			if bag != "" || spans[0].Parent.IsValid() {
				t.Errorf("hostile baggage %q or traceparent accepted", bag)
			}
			checkClean := func(where, s string) {
				if strings.ContainsAny(s, "\r\n\x00\x1b\u2028") || !utf8.ValidString(s) || len(s) > 4096 || (len(v) > 16 && strings.Contains(s, v)) {
					t.Errorf("%s holds a raw hostile value %q", where, s[:min(len(s), 40)])
				}
			}
			for _, r := range records(t, srv.logs) {
				for k, fv := range r {
					if s, ok := fv.(string); ok {
						checkClean("log field "+k, s)
					}
				}
			}
			checkClean("span name", spans[0].Name)
			for _, a := range spans[0].Attributes {
				vals := []string{a.Value.Emit()}
				if len(a.Value.AsStringSlice()) > 0 {
					vals = a.Value.AsStringSlice()
				}
				for _, sv := range vals {
					checkClean("span attribute "+string(a.Key), sv)
				}
			}
			if acc := recordsWith(t, srv.logs, "request completed"); len(acc) != 1 || acc[0]["correlation.id_rejected"] != float64(200) {
				t.Errorf("correlation.id_rejected: got %v, want 200", acc)
			}
		})
	}
}

func TestPublicEndpointGRPC(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	cli := newTelemetry(t, exp, "cli")
	var got, bag string
	// bufconn peers have no IP address, so they are never trusted.
	conn := bufServer(t, srv.opts(middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("127.0.0.1")), cli.opts(), echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		got, _ = trace.CorrelationID(ctx)
		bag = baggage.FromContext(ctx).String()
		return in, nil
	}})
	ctx, parent := callerContext(cli)
	if _, err := callUnary(ctx, conn, "x"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if got == "outside-id" || bag != "" {
		t.Errorf("public endpoint honoured correlation %q / baggage %q", got, bag)
	}
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() != "server" {
			continue
		}
		if s.Parent.IsValid() || len(s.Links) != 1 || s.Links[0].SpanContext.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("server span: parent %v links %v; want a new root linked to the caller", s.Parent.SpanID(), s.Links)
		}
		if got != s.SpanContext.TraceID().String() {
			t.Errorf("correlation ID %q, want the new trace ID %s", got, s.SpanContext.TraceID())
		}
	}
}

func TestLoggerAdapter(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, exp, "srv")
	l := grpcmwLogger(tel)
	l.Log(context.Background(), 4, "finished call", "protocol", "grpc", "grpc.component", "server", "grpc.service", "a.B", "grpc.method", "M\r\n", "grpc.code", "NotFound", "grpc.error", "x\x1b", "custom", 7)
	recs := recordsWith(t, tel.logs, "request completed")
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1:\n%s", len(recs), tel.logs.String())
	}
	r := recs[0]
	if r["log.level"] != "warn" || r["rpc.system"] != "grpc" || r["rpc.service"] != "a.B" || r["rpc.method"] != "M\uFFFD\uFFFD" || r["rpc.grpc.status_code"] != float64(5) || r["error.message"] != "x\uFFFD" || r["custom"] != float64(7) {
		t.Errorf("record: got %v", r)
	}
	if _, ok := r["grpc.component"]; ok {
		t.Error("grpc.component kept")
	}
	_ = slog.LevelInfo
}

// go-grpc-middleware's logging interceptor, fed by glassbox's handler
// through grpcmw.Logger, chained inside the glassbox interceptor: its
// records carry the call's IDs and ECS names.
func TestGoGRPCMiddlewareLoggingThroughGlassbox(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv := newTelemetry(t, exp, "srv")
	lis := bufconn.Listen(1 << 16)
	serve(t, lis, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return in, nil
	}}, grpc.ChainUnaryInterceptor(
		grpcmw.UnaryServerInterceptor(srv.opts()...),
		logging.UnaryServerInterceptor(grpcmw.Logger(srv.opts()...), logging.WithLogOnEvents(logging.StartCall)),
	))
	conn, err := grpc.NewClient("passthrough:///buf",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-correlation-id", "via-logging")
	if _, err := callUnary(ctx, conn, "x"); err != nil {
		t.Fatal(err)
	}
	recs := recordsWith(t, srv.logs, "started call")
	if len(recs) != 1 {
		t.Fatalf("got %d 'started call' records, want 1:\n%s", len(recs), srv.logs.String())
	}
	r := recs[0]
	if r["correlation.id"] != "via-logging" || r["trace.id"] == nil || r["rpc.service"] != "test.Echo" || r["rpc.system"] != "grpc" {
		t.Errorf("record: got %v", r)
	}
}

// go-grpc-middleware's logging interceptor logs peer.address as
// "host:port"; through Logger it has the access record's keys: client.ip
// with the host alone, or client.address for an address that is not IP.
func TestLoggerAdapterPeerAddress(t *testing.T) {
	tests := []struct {
		addr, key, want string
	}{
		{"127.0.0.1:38738", "client.ip", "127.0.0.1"},
		{"[2001:db8::1]:443", "client.ip", "2001:db8::1"},
		{"bufconn", "client.address", "bufconn"},
		{"/run/app.sock", "client.address", "/run/app.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			tel := newTelemetry(t, tracetest.NewInMemoryExporter(), "srv")
			grpcmwLogger(tel).Log(context.Background(), 0, "finished call", "peer.address", tt.addr)
			recs := recordsWith(t, tel.logs, "request completed")
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			if got := recs[0][tt.key]; got != tt.want {
				t.Errorf("%s: got %v, want %s", tt.key, got, tt.want)
			}
			for _, k := range []string{"client.ip", "client.address", "peer.address"} {
				if v, ok := recs[0][k]; ok && k != tt.key {
					t.Errorf("%s: got %v, want none", k, v)
				}
			}
		})
	}
}
