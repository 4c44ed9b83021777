package glassbox

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

type countingObserver struct{ begins, ends int }

func (o *countingObserver) Begin(ctx context.Context, _ *middleware.Request) context.Context {
	o.begins++
	return ctx
}

func (o *countingObserver) End(context.Context, *middleware.Request, *middleware.Outcome) string {
	o.ends++
	return ""
}

func TestMiddlewareOptionsWireTelemetry(t *testing.T) {
	var buf bytes.Buffer
	exp := tracetest.NewInMemoryExporter()
	obs := &countingObserver{}
	tel, err := Start(context.Background(),
		getenvOption(func(string) string { return "" }),
		WithServiceName("wired"),
		WithLogWriter(&buf),
		WithoutSetDefault(),
		WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)),
		WithRedactKeys("x-tenant-secret"),
		WithObserver(obs),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	opts := append(tel.MiddlewareOptions(), middleware.WithRequestHeaders("X-Tenant-Secret"))
	h := middleware.HTTP(opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tel.Logger().InfoContext(r.Context(), "inside")
	}))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := httptest.NewRequest("GET", "/things", nil)
	req.Header.Set("traceparent", tp)
	req.Header.Set("X-Tenant-Secret", "hunter2")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	// The TracerProvider and the propagator: the span continues the trace
	// and reaches the configured processor.
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("spans: got %d, want 1 continuing the inbound trace", len(spans))
	}
	// The observers.
	if obs.begins != 1 || obs.ends != 1 {
		t.Errorf("observer: got %d Begin %d End, want 1 and 1", obs.begins, obs.ends)
	}
	// The logger and the redactor.
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("a header on the Telemetry's redaction list was logged:\n%s", buf.String())
	}
	var access map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["message"] == "request completed" {
			access = m
		}
		if m["correlation.id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || m["service.name"] != "wired" {
			t.Errorf("record %q: correlation.id %v service.name %v", m["message"], m["correlation.id"], m["service.name"])
		}
	}
	if access == nil {
		t.Fatalf("no access-log record in the Telemetry's logger output:\n%s", buf.String())
	}
	if got := access["http.request.header.x-tenant-secret"]; got != "[REDACTED]" {
		t.Errorf("x-tenant-secret: got %v, want [REDACTED]", got)
	}
}

// b3Header is a B3 single header of a caller's trace, which only the
// propagator OTEL_PROPAGATORS=b3 selects can read.
const (
	b3TraceID = "80f198ee56343ba864fe8b2a57d3eff7"
	b3Header  = b3TraceID + "-e457b5a2e4d86bd1-1"
)

// After Start, middleware built without options is connected to the
// Telemetry exactly as with tel.MiddlewareOptions(): its TracerProvider,
// its propagator (from OTEL_PROPAGATORS), its logger, its redaction list
// and its Sentry observer, on the HTTP middleware, the HTTP Transport and
// the gRPC interceptors. Options given still win. Shutdown restores the
// previous default.
func TestZeroOptionMiddlewareFollowsStart(t *testing.T) {
	before := &bytes.Buffer{}
	prevLogger := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(before, nil)))
	t.Cleanup(func() { slog.SetDefault(prevLogger) })

	srv := sentrytest.NewServer(t)
	var buf syncBuf
	exp := tracetest.NewInMemoryExporter()
	tel, err := Start(context.Background(),
		env("OTEL_PROPAGATORS", "b3", "OTEL_SERVICE_NAME", "zero", "SENTRY_DSN", srv.DSN(), "SENTRY_SAMPLE_RATE", "1"),
		WithLogWriter(&buf),
		WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)),
		WithRedactKeys("tenant_key"),
	)
	if err != nil {
		t.Fatal(err)
	}
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	t.Cleanup(shutdown) // a second call is a no-op

	// HTTP, and the Transport of an outgoing call.
	var sent http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent = r.Header.Clone() }))
	defer backend.Close()
	client := &http.Client{Transport: middleware.Transport(nil)}
	mux := http.NewServeMux()
	mux.HandleFunc("/call", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL+"/?tenant_key=t0p", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	h := middleware.HTTP()(mux)
	serve := func(h http.Handler, path string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("b3", b3Header)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	serve(h, "/call?tenant_key=s3cret")
	serve(h, "/fail")
	var other syncBuf
	serve(middleware.HTTP(middleware.WithLogger(slog.New(slog.NewJSONHandler(&other, nil))))(mux), "/fail")

	// gRPC, both sides without options.
	grpcCall(t, codes.Internal)

	spans := exp.GetSpans()
	var server, transport, grpcServer, grpcClient int
	for _, s := range spans {
		switch {
		case s.SpanKind == oteltrace.SpanKindServer && s.InstrumentationScope.Name == middleware.ScopeName && strings.HasPrefix(s.Name, "GET"):
			server++
			if got := s.SpanContext.TraceID().String(); got != b3TraceID {
				t.Errorf("HTTP server span %q: trace %s, want the b3 caller's %s (OTEL_PROPAGATORS)", s.Name, got, b3TraceID)
			}
		case s.SpanKind == oteltrace.SpanKindClient && s.Name == "GET":
			transport++
			if u := attrString(s, "url.full"); strings.Contains(u, "t0p") || !strings.Contains(u, "tenant_key=[REDACTED]") {
				t.Errorf("Transport span url.full %q: want tenant_key redacted", u)
			}
		case s.SpanKind == oteltrace.SpanKindServer && s.Name == "grpc.health.v1.Health/Check":
			grpcServer++
		case s.SpanKind == oteltrace.SpanKindClient && s.Name == "grpc.health.v1.Health/Check":
			grpcClient++
		}
	}
	if server != 3 || transport != 1 || grpcServer != 1 || grpcClient != 1 {
		t.Errorf("spans on the Telemetry's TracerProvider: HTTP server %d, Transport %d, gRPC server %d, client %d; want 3, 1, 1, 1", server, transport, grpcServer, grpcClient)
	}
	if sent.Get("b3") == "" || sent.Get("traceparent") != "" {
		t.Errorf("Transport sent b3 %q traceparent %q, want b3 only (OTEL_PROPAGATORS=b3)", sent.Get("b3"), sent.Get("traceparent"))
	}
	out := buf.String()
	if strings.Contains(out, "s3cret") || !strings.Contains(out, `"url.query":"tenant_key=[REDACTED]"`) {
		t.Errorf("access record: want tenant_key redacted by the Telemetry's list:\n%s", out)
	}
	if n := strings.Count(out, `"message":"request completed"`); n != 3 { // 2 HTTP, 1 gRPC server
		t.Errorf("got %d access records in the Telemetry's log, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, `"service.name":"zero"`) {
		t.Errorf("records not written by the Telemetry's logger:\n%s", out)
	}
	if !strings.Contains(other.String(), `"msg":"request completed"`) || strings.Count(out, `"url.path":"/fail"`) != 1 {
		t.Errorf("WithLogger given: the record goes to that logger only; got\n%s\nand\n%s", other.String(), out)
	}

	shutdown()
	// The Sentry observer saw both HTTP failures (also with WithLogger
	// given) and the gRPC one.
	if evs := srv.Events(); len(evs) != 3 {
		t.Errorf("got %d Sentry events, want 3 (two HTTP 500s, one gRPC Internal)", len(evs))
	}
	if d := middleware.Default(); d != nil {
		t.Errorf("after Shutdown: middleware default %v, want none", d)
	}
	exp.Reset()
	before.Reset()
	serve(middleware.HTTP(middleware.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))))(mux), "/fail")
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].SpanContext.TraceID().String() == b3TraceID {
		t.Errorf("after Shutdown: the b3 header was still read (%d spans)", len(spans))
	}
	if !strings.Contains(before.String(), `"msg":"request completed"`) {
		t.Errorf("after Shutdown: the record did not go to the slog default again: %q", before.String())
	}
	if evs := srv.Events(); len(evs) != 3 {
		t.Errorf("after Shutdown: got %d Sentry events, want still 3", len(evs))
	}
}

// WithoutSetDefault leaves the middleware default alone, as the slog and
// OTel globals.
func TestWithoutSetDefaultLeavesMiddlewareDefault(t *testing.T) {
	tel, _ := startT(t, env())
	if d := middleware.Default(); d != nil {
		t.Errorf("middleware default %v after Start with WithoutSetDefault, want none", d)
	}
	_ = tel
}

// grpcCall serves the health service answering code over bufconn, with
// the gRPC interceptors built without options on both sides, and makes one
// call that carries a b3 header.
func grpcCall(t *testing.T, code codes.Code) {
	t.Helper()
	lis := bufconn.Listen(1 << 16)
	s := grpc.NewServer(grpcmw.ServerOptions(middleware.WithSkipGRPCMethods())...)
	healthpb.RegisterHealthServer(s, failingHealth{code: code})
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	defer func() { s.Stop(); <-done }()
	conn, err := grpc.NewClient("passthrough:///bufnet", append(grpcmw.DialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); status.Code(err) != code {
		t.Errorf("gRPC call: got %v, want %v", err, code)
	}
}

type failingHealth struct {
	healthpb.UnimplementedHealthServer
	code codes.Code
}

func (f failingHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return nil, status.Error(f.code, "down")
}

func attrString(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// syncBuf is a bytes.Buffer safe for concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start's propagator is glassbox's W3C TraceContext: after Start,
// middleware without options joins all tracestate lines, keeps keys of the
// current grammar, and treats a repeated traceparent as invalid.
func TestStartPropagatesW3CTraceContext(t *testing.T) {
	var buf syncBuf
	tel, err := Start(context.Background(), env(), WithLogWriter(&buf))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	var sent http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent = r.Header.Clone() }))
	defer backend.Close()
	client := &http.Client{Transport: middleware.Transport(nil)}
	h := middleware.HTTP()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}))
	const traceID = "12345678901234567890123456789012"
	for _, tc := range []struct {
		name      string
		header    http.Header
		continues bool
		state     string
	}{
		{"tracestate lines joined", http.Header{
			"Traceparent": {"00-" + traceID + "-1234567890123456-01"},
			"Tracestate":  {"foo@=1", "bar=2"},
		}, true, "foo@=1,bar=2"},
		{"repeated traceparent", http.Header{
			"Traceparent": {"00-" + traceID + "-1234567890123456-01", "00-" + traceID + "-1234567890123456-01"},
		}, false, ""},
	} {
		sent = nil
		req := httptest.NewRequest("GET", "/", nil)
		req.Header = tc.header
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := strings.Contains(sent.Get("Traceparent"), traceID); got != tc.continues {
			t.Errorf("%s: outgoing traceparent %q, want the caller's trace continued: %v", tc.name, sent.Get("Traceparent"), tc.continues)
		}
		if got := sent.Get("Tracestate"); got != tc.state {
			t.Errorf("%s: outgoing tracestate %q, want %q", tc.name, got, tc.state)
		}
	}
}
