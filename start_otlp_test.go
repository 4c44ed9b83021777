package glassbox

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// otlpGetenv is a getenv over a fixed map, so tests never depend on the
// machine's environment.
func otlpGetenv(m map[string]string) Option {
	return getenvOption(func(k string) string { return m[k] })
}

// otlpFastRetry keeps failing exports short.
var otlpFastRetry = otlp.WithRetry(otlp.RetryConfig{Enabled: true, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: 3 * time.Second})

// otlpStart starts a Telemetry without console output or globals, and shuts
// it down (with a deadline) when the test ends.
func otlpStart(t *testing.T, opts ...Option) *Telemetry {
	t.Helper()
	tel, err := Start(context.Background(), append([]Option{WithLogWriter(nil), WithoutSetDefault()}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tel.Shutdown(ctx)
	})
	return tel
}

// otlpEmit ends a parent and a child span and logs one record inside the
// child, with correlation ID "corr-1", then flushes. It returns the child.
func otlpEmit(t *testing.T, tel *Telemetry) oteltrace.Span {
	t.Helper()
	ctx := trace.WithCorrelationID(context.Background(), "corr-1")
	ctx, parent := tel.TracerProvider().Tracer("test").Start(ctx, "parent")
	cctx, child := tel.TracerProvider().Tracer("test").Start(ctx, "child")
	tel.Logger().InfoContext(cctx, "inside child", "k", "v")
	child.End()
	parent.End()
	otlpFlush(t, tel)
	return child
}

// otlpFlush pushes queued spans and logs out, ignoring delivery errors
// (tests look at what arrived).
func otlpFlush(t *testing.T, tel *Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = tel.TracerProvider().(*sdktrace.TracerProvider).ForceFlush(ctx)
	_ = tel.Handler().Flush(ctx)
}

func otlpAttr(kvs []*commonpb.KeyValue, k string) (string, bool) {
	for _, kv := range kvs {
		if kv.GetKey() == k {
			v := kv.GetValue()
			if s, ok := v.GetValue().(*commonpb.AnyValue_IntValue); ok {
				return strconv.FormatInt(s.IntValue, 10), true
			}
			return v.GetStringValue(), true
		}
	}
	return "", false
}

func otlpServer(t *testing.T, p otlp.Protocol, opts ...otlptest.Option) *otlptest.Server {
	t.Helper()
	if p == otlp.ProtocolGRPC {
		return otlptest.NewGRPC(t, opts...)
	}
	return otlptest.NewHTTP(t, opts...)
}

// otlpParts reports whether Start built an OTLP span processor and an OTLP
// log sink, by running the OTLP setup on a builder as Start does.
func otlpParts(t *testing.T, opts ...Option) (spans, logs bool) {
	t.Helper()
	cfg, err := newConfig(append([]Option{WithLogWriter(nil)}, opts...))
	if err != nil {
		t.Fatalf("newConfig: %v", err)
	}
	b := newBuilder(cfg)
	b.errorHandler = discardErrors{}
	if b.resource, err = b.newResource(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := setupOTLP(context.Background(), b); err != nil {
		t.Fatalf("setupOTLP: %v", err)
	}
	t.Cleanup(func() { _ = b.runShutdown(context.Background()) })
	for _, p := range b.spanProcessors {
		if _, ok := p.(*otlp.SpanProcessor); ok {
			spans = true
		}
	}
	for _, s := range b.sinks {
		if _, ok := s.(*otlp.Sink); ok {
			logs = true
		}
	}
	return spans, logs
}

type discardErrors struct{}

func (discardErrors) Handle(error) {}

// TestOTLPSpansAndLogsArrive is the end-to-end check over both protocols:
// resource, trace IDs, parent links and correlation.id.
func TestOTLPSpansAndLogsArrive(t *testing.T) {
	t.Parallel()
	for _, p := range []otlp.Protocol{otlp.ProtocolGRPC, otlp.ProtocolHTTPProtobuf} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			srv := otlpServer(t, p)
			tel := otlpStart(t,
				otlpGetenv(map[string]string{
					"OTEL_SERVICE_NAME":        "checkout",
					"OTEL_RESOURCE_ATTRIBUTES": "service.version=1.2.3,team=payments,deployment.environment.name=prod",
				}),
				WithOTLP(otlp.WithProtocol(p), otlp.WithEndpointURL(srv.Endpoint())))
			child := otlpEmit(t, tel)
			tid := child.SpanContext().TraceID()

			spans := srv.WaitSpans(t, 2)
			var c, par *otlptest.Span
			for i := range spans {
				switch spans[i].Span.GetName() {
				case "child":
					c = &spans[i]
				case "parent":
					par = &spans[i]
				}
			}
			if c == nil || par == nil {
				t.Fatalf("got %d spans without parent and child", len(spans))
			}
			if !bytes.Equal(c.Span.GetTraceId(), tid[:]) || !bytes.Equal(par.Span.GetTraceId(), tid[:]) {
				t.Errorf("trace IDs: got %x and %x, want %x", c.Span.GetTraceId(), par.Span.GetTraceId(), tid)
			}
			if !bytes.Equal(c.Span.GetParentSpanId(), par.Span.GetSpanId()) {
				t.Errorf("child's parent: got %x, want %x", c.Span.GetParentSpanId(), par.Span.GetSpanId())
			}

			recs := srv.WaitLogs(t, 1)
			r := recs[0]
			sid := child.SpanContext().SpanID()
			if !bytes.Equal(r.Record.GetTraceId(), tid[:]) || !bytes.Equal(r.Record.GetSpanId(), sid[:]) {
				t.Errorf("log IDs: got %x/%x, want %x/%x", r.Record.GetTraceId(), r.Record.GetSpanId(), tid, sid)
			}
			if got, _ := otlpAttr(r.Record.GetAttributes(), "correlation.id"); got != "corr-1" {
				t.Errorf("log correlation.id: got %q, want corr-1", got)
			}
			if got := r.Record.GetBody().GetStringValue(); got != "inside child" {
				t.Errorf("log body: got %q, want %q", got, "inside child")
			}

			host, _ := os.Hostname()
			want := map[string]string{
				"service.name":                "checkout",
				"service.version":             "1.2.3",
				"team":                        "payments",
				"deployment.environment.name": "prod",
				"host.name":                   host,
				"process.pid":                 strconv.Itoa(os.Getpid()),
				"telemetry.sdk.language":      "go",
			}
			for what, res := range map[string][]*commonpb.KeyValue{"span": c.Resource.GetAttributes(), "log": r.Resource.GetAttributes()} {
				for k, v := range want {
					if got, _ := otlpAttr(res, k); got != v {
						t.Errorf("%s resource %s: got %q, want %q", what, k, got, v)
					}
				}
				if _, ok := otlpAttr(res, "process.command_args"); ok {
					t.Errorf("%s resource: got process.command_args, want it left out (secrets)", what)
				}
			}
			// The log documents carry the same identity as the resource.
			if tel.Service().Name != "checkout" || tel.Service().Version != "1.2.3" || tel.Service().Environment != "prod" {
				t.Errorf("service: got %+v, want checkout 1.2.3 prod", tel.Service())
			}
		})
	}
}

// TestOTLPSpansRedacted: span and span-event attributes under keys on the
// redaction list (the defaults, GLASSBOX_REDACT_KEYS, WithRedactKeys) go
// over OTLP as [REDACTED], as they are stored in span documents
// (TestElasticsearchSpanDocumentsRedacted).
func TestOTLPSpansRedacted(t *testing.T) {
	t.Parallel()
	for _, p := range []otlp.Protocol{otlp.ProtocolGRPC, otlp.ProtocolHTTPProtobuf} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			srv := otlpServer(t, p)
			tel := otlpStart(t, otlpGetenv(map[string]string{"GLASSBOX_REDACT_KEYS": "customer.email"}),
				WithRedactKeys("order.note"), WithOTLP(otlp.WithProtocol(p), otlp.WithEndpointURL(srv.Endpoint())))
			_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "checkout")
			span.SetAttributes(attribute.String("password", "hunter2"), attribute.String("customer.email", "ann@example.com"),
				attribute.String("order.note", "leave at door"), attribute.String("order.id", "o-7"))
			span.AddEvent("login", oteltrace.WithAttributes(attribute.String("api_key", "k-123"), attribute.String("user", "ann")))
			span.End()
			otlpFlush(t, tel)
			got := srv.WaitSpans(t, 1)[0].Span
			for k, want := range map[string]string{"password": log.Redacted, "customer.email": log.Redacted, "order.note": log.Redacted, "order.id": "o-7"} {
				if v, _ := otlpAttr(got.GetAttributes(), k); v != want {
					t.Errorf("got %s = %q, want %q", k, v, want)
				}
			}
			ev := got.GetEvents()
			if len(ev) != 1 {
				t.Fatalf("got %d events, want 1", len(ev))
			}
			if v, _ := otlpAttr(ev[0].GetAttributes(), "api_key"); v != log.Redacted {
				t.Errorf("got event api_key = %q, want %q", v, log.Redacted)
			}
			if v, _ := otlpAttr(ev[0].GetAttributes(), "user"); v != "ann" {
				t.Errorf("got event user = %q, want ann", v)
			}
		})
	}
}

// TestOTLPWhenOn covers the variables (read through Start's getenv) that
// decide whether each signal is exported.
func TestOTLPWhenOn(t *testing.T) {
	t.Parallel()
	const ep = "http://127.0.0.1:1"
	tests := []struct {
		name       string
		env        map[string]string
		opts       []Option
		spans, log bool
	}{
		{"zero config", nil, nil, false, false},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep}, nil, true, true},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ep}, nil, true, false},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": ep}, nil, false, true},
		{"OTEL_TRACES_EXPORTER=none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_TRACES_EXPORTER": "none"}, nil, false, true},
		{"OTEL_LOGS_EXPORTER=none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_LOGS_EXPORTER": "none"}, nil, true, false},
		{"OTEL_TRACES_EXPORTER=otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, nil, true, false},
		{"OTEL_LOGS_EXPORTER=otlp", map[string]string{"OTEL_LOGS_EXPORTER": "otlp"}, nil, false, true},
		{"unknown exporter ignored", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, nil, false, false},
		{"WithOTLP", nil, []Option{WithOTLP()}, true, true},
		{"OTEL_SDK_DISABLED", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_SDK_DISABLED": "true"}, []Option{WithOTLP()}, false, false},
		{"OTEL_SDK_DISABLED=false", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_SDK_DISABLED": "false"}, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spans, logs := otlpParts(t, append([]Option{otlpGetenv(tt.env)}, tt.opts...)...)
			if spans != tt.spans || logs != tt.log {
				t.Errorf("OTLP spans, logs: got %v, %v; want %v, %v", spans, logs, tt.spans, tt.log)
			}
		})
	}
}

// TestOTLPBadEnvironment: a malformed variable makes Start fail, naming
// the variable. The protocol variables matter (and are checked by the
// exporter) only when OTLP is on: see TestOTLPBadProtocolVariables.
func TestOTLPBadEnvironment(t *testing.T) {
	t.Parallel()
	tel, err := Start(context.Background(), otlpGetenv(map[string]string{"OTEL_PROPAGATORS": "tracecontext,nonsense"}), WithLogWriter(nil), WithoutSetDefault())
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("Start: got nil error, want one")
	}
	if !strings.Contains(err.Error(), "OTEL_PROPAGATORS") || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("error %q: want it to name OTEL_PROPAGATORS and the unknown name", err)
	}
}

// TestOTLPEachSinkFailsAlone: with the OTLP collector down, the console
// and another span processor still get everything, and logging returns.
func TestOTLPEachSinkFailsAlone(t *testing.T) {
	t.Parallel()
	srv := otlptest.NewGRPC(t)
	srv.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
	srv.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
	var buf bytes.Buffer
	ce := &countingExporter{}
	tel := otlpStart(t, otlpGetenv(nil),
		WithOTLP(otlp.WithProtocol(otlp.ProtocolGRPC), otlp.WithMaxQueueSize(2), otlp.WithEndpointURL(srv.Endpoint()), otlpFastRetry), WithLogWriter(&buf), WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(ce)), WithErrorHandler(discardErrors{}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			ctx, sp := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
			tel.Logger().InfoContext(ctx, "r")
			sp.End()
		}
	}()
	select {
	case <-done:
	case <-time.After(otlptest.WaitTimeout):
		t.Fatal("logging or ending spans blocked on the hanging collector")
	}
	if got := strings.Count(buf.String(), "\n"); got != 20 {
		t.Errorf("console lines: got %d, want 20", got)
	}
	if ce.n != 20 {
		t.Errorf("spans in the other processor: got %d, want 20", ce.n)
	}
	srv.ClearFaults()
}

type countingExporter struct{ n int }

func (e *countingExporter) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	e.n += len(s)
	return nil
}
func (e *countingExporter) Shutdown(context.Context) error { return nil }

// TestOTLPShutdownOnTimeWhenCollectorHangs: Telemetry.Shutdown returns by
// its deadline though the collector never answers.
func TestOTLPShutdownOnTimeWhenCollectorHangs(t *testing.T) {
	t.Parallel()
	for _, p := range []otlp.Protocol{otlp.ProtocolGRPC, otlp.ProtocolHTTPProtobuf} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			srv := otlpServer(t, p)
			srv.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
			srv.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
			tel, err := Start(context.Background(), otlpGetenv(nil),
				WithOTLP(otlp.WithProtocol(p), otlp.WithEndpointURL(srv.Endpoint()), otlp.WithRetry(otlp.RetryConfig{})), WithLogWriter(nil), WithoutSetDefault(), WithErrorHandler(discardErrors{}))
			if err != nil {
				t.Fatal(err)
			}
			_, sp := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
			sp.End()
			tel.Logger().Info("r")
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tel.Shutdown(ctx) }()
			select {
			case err := <-done:
				if err == nil {
					t.Error("Shutdown: got nil, want the deadline error (the collector never answered)")
				}
			case <-time.After(otlptest.WaitTimeout):
				t.Fatal("Shutdown did not return by its deadline")
			}
			// The span and the record the collector held are counted as
			// dropped at shutdown, not left in flight.
			st := tel.Stats()
			for name, o := range map[string]otlp.Stats{"spans": st.OTLPSpans, "logs": st.OTLPLogs} {
				if o.Produced != 1 || o.InFlight != 0 || o.Dropped.Shutdown != 1 {
					t.Errorf("OTLP %s after Shutdown: got %+v, want the one item dropped at shutdown, none in flight", name, o)
				}
			}
		})
	}
}

// --- Variables read by the OTel exporters and SDK from the process
// environment: these tests use t.Setenv and cannot run in parallel. The
// protocol and queue variables, which the otlp package reads through
// Start's getenv, come from otlpGetenv. ---

// otlpEnvCase starts Telemetry with the process environment env, emits
// a parent/child span pair and a log record, and checks what arrived.
type otlpEnvCase struct {
	name   string
	server otlp.Protocol
	sopts  func(t *testing.T) ([]otlptest.Option, map[string]string)
	env    func(srv *otlptest.Server) map[string]string
	check  func(t *testing.T, srv *otlptest.Server, tel *Telemetry)
}

func TestOTLPExporterEnvironment(t *testing.T) {
	cert := otlptest.NewCertificate(t, "collector")
	client := otlptest.NewCertificate(t, "client")
	arrives := func(t *testing.T, srv *otlptest.Server, _ *Telemetry) {
		srv.WaitSpans(t, 2)
		srv.WaitLogs(t, 1)
	}
	both := func(check func(t *testing.T, r otlptest.Request)) func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
		return func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
			arrives(t, srv, tel)
			check(t, srv.Requests(otlptest.Traces)[0])
			check(t, srv.Requests(otlptest.Logs)[0])
		}
	}
	// nothingArrives runs after the flush, which returns once the
	// exporters gave up (otlpFastRetry).
	nothingArrives := func(t *testing.T, srv *otlptest.Server, _ *Telemetry) {
		if n, m := len(srv.Spans()), len(srv.Logs()); n+m != 0 {
			t.Errorf("spans, logs: got %d, %d; want none to get through", n, m)
		}
	}
	header := func(k, traces, logs string) func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
		return func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
			arrives(t, srv, tel)
			if got := srv.Requests(otlptest.Traces)[0].Header.Get(k); got != traces {
				t.Errorf("traces %s: got %q, want %q", k, got, traces)
			}
			if got := srv.Requests(otlptest.Logs)[0].Header.Get(k); got != logs {
				t.Errorf("logs %s: got %q, want %q", k, got, logs)
			}
		}
	}
	tests := []otlpEnvCase{
		{name: "OTEL_EXPORTER_OTLP_ENDPOINT (http base URL)", server: otlp.ProtocolHTTPProtobuf,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint()}
			},
			check: both(func(t *testing.T, r otlptest.Request) {
				if r.Path != "/v1/traces" && r.Path != "/v1/logs" {
					t.Errorf("path: got %q, want /v1/<signal>", r.Path)
				}
			})},
		{name: "OTEL_EXPORTER_OTLP_ENDPOINT (grpc)", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
			}, check: arrives},
		{name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and _LOGS_ENDPOINT (used as is)", server: otlp.ProtocolHTTPProtobuf,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{
					"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:1",
					"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": s.Endpoint() + "/v1/traces",
					"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":   s.Endpoint() + "/v1/logs",
				}
			}, check: arrives},
		{name: "OTEL_EXPORTER_OTLP_HEADERS", server: otlp.ProtocolHTTPProtobuf,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cret,x-tenant=a%20b"}
			}, check: header("Api-Key", "s3cret", "s3cret")},
		{name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS and _LOGS_HEADERS", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
					"OTEL_EXPORTER_OTLP_HEADERS": "tenant=all", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "tenant=t", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "tenant=l"}
			}, check: header("tenant", "t", "l")},
		{name: "OTEL_EXPORTER_OTLP_COMPRESSION", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
			},
			check: both(func(t *testing.T, r otlptest.Request) {
				if !r.Gzip {
					t.Error("compression: got none, want gzip")
				}
			})},
		{name: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION and _LOGS_COMPRESSION", server: otlp.ProtocolHTTPProtobuf,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "none"}
			},
			check: func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
				arrives(t, srv, tel)
				if !srv.Requests(otlptest.Traces)[0].Gzip || srv.Requests(otlptest.Logs)[0].Gzip {
					t.Errorf("gzip traces, logs: got %v, %v; want true, false", srv.Requests(otlptest.Traces)[0].Gzip, srv.Requests(otlptest.Logs)[0].Gzip)
				}
			}},
		{name: "OTEL_EXPORTER_OTLP_TIMEOUT", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
					"OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}
			},
			check: both(func(t *testing.T, r otlptest.Request) {
				// The default is 10s.
				if r.Deadline <= 0 || r.Deadline > 1500*time.Millisecond {
					t.Errorf("%s deadline: got %v, want at most 1.5s", r.Signal, r.Deadline)
				}
			})},
		{name: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT and _LOGS_TIMEOUT", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
					"OTEL_EXPORTER_OTLP_TIMEOUT": "5000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1200", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "60000",
					// Lift the processor's own 30s cap on an export.
					"OTEL_BLRP_EXPORT_TIMEOUT": "120000"}
			},
			check: func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
				arrives(t, srv, tel)
				// The values are far apart, so that a loaded machine cannot
				// blur them: traces at most 1.2s (not the general 5s), logs
				// more than 30s of 60s left (neither 5s nor the default 10s).
				if d := srv.Requests(otlptest.Traces)[0].Deadline; d <= 0 || d > 1200*time.Millisecond {
					t.Errorf("traces deadline: got %v, want at most 1.2s", d)
				}
				// otlpFlush allows 10s, less than the logs timeout: flush a
				// second record with more time than that.
				tel.Logger().Info("second")
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				if err := tel.Handler().Flush(ctx); err != nil {
					t.Fatalf("Flush: %v", err)
				}
				srv.WaitLogs(t, 2)
				logs := srv.Requests(otlptest.Logs)
				if d := logs[len(logs)-1].Deadline; d <= 30*time.Second || d > 60*time.Second {
					t.Errorf("logs deadline: got %v, want between 30s and 60s", d)
				}
			}},
		{name: "OTEL_EXPORTER_OTLP_INSECURE", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				// A scheme-less endpoint means TLS unless INSECURE says
				// otherwise; the server speaks plain gRPC.
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "//" + s.Addr(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_INSECURE": "true"}
			}, check: arrives},
		{name: "without OTEL_EXPORTER_OTLP_INSECURE", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "//" + s.Addr(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
			}, check: nothingArrives},
		{name: "without OTEL_EXPORTER_OTLP_CERTIFICATE", server: otlp.ProtocolHTTPProtobuf,
			sopts: func(t *testing.T) ([]otlptest.Option, map[string]string) {
				return []otlptest.Option{otlptest.WithTLS(cert.TLS)}, nil
			},
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint()}
			}, check: nothingArrives},
		{name: "OTEL_EXPORTER_OTLP_CERTIFICATE", server: otlp.ProtocolHTTPProtobuf,
			sopts: func(t *testing.T) ([]otlptest.Option, map[string]string) {
				return []otlptest.Option{otlptest.WithTLS(cert.TLS)}, map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": cert.CertFile}
			},
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint()}
			}, check: arrives},
		{name: "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY", server: otlp.ProtocolGRPC,
			sopts: func(t *testing.T) ([]otlptest.Option, map[string]string) {
				return []otlptest.Option{otlptest.WithTLS(cert.TLS), otlptest.WithClientCA(client.Pool)}, map[string]string{
					"OTEL_EXPORTER_OTLP_CERTIFICATE":        cert.CertFile,
					"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": client.CertFile,
					"OTEL_EXPORTER_OTLP_CLIENT_KEY":         client.KeyFile,
				}
			},
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
			}, check: arrives},
		{name: "without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", server: otlp.ProtocolGRPC,
			sopts: func(t *testing.T) ([]otlptest.Option, map[string]string) {
				return []otlptest.Option{otlptest.WithTLS(cert.TLS), otlptest.WithClientCA(client.Pool)}, map[string]string{
					"OTEL_EXPORTER_OTLP_CERTIFICATE": cert.CertFile,
				}
			},
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
			}, check: nothingArrives},
		{name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE and OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", server: otlp.ProtocolHTTPProtobuf,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "1"}
			},
			check: func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
				tel.Logger().Info("second")
				otlpFlush(t, tel)
				srv.WaitSpans(t, 2)
				srv.WaitLogs(t, 2)
				for _, sig := range []otlptest.Signal{otlptest.Traces, otlptest.Logs} {
					for _, r := range srv.Requests(sig) {
						if r.Items != 1 {
							t.Errorf("%s request: got %d items, want batches of 1", sig, r.Items)
						}
					}
				}
			}},
		{name: "OTEL_BSP_EXPORT_TIMEOUT and OTEL_BLRP_EXPORT_TIMEOUT", server: otlp.ProtocolGRPC,
			env: func(s *otlptest.Server) map[string]string {
				return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
					"OTEL_BSP_EXPORT_TIMEOUT": "1200", "OTEL_BLRP_EXPORT_TIMEOUT": "1300"}
			},
			check: func(t *testing.T, srv *otlptest.Server, tel *Telemetry) {
				arrives(t, srv, tel)
				// The exporters' own timeout is 10s: the processor's is shorter.
				if d := srv.Requests(otlptest.Traces)[0].Deadline; d <= 0 || d > 1200*time.Millisecond {
					t.Errorf("traces deadline: got %v, want at most 1.2s", d)
				}
				if d := srv.Requests(otlptest.Logs)[0].Deadline; d <= 0 || d > 1300*time.Millisecond {
					t.Errorf("logs deadline: got %v, want at most 1.3s", d)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sopts []otlptest.Option
			extra := map[string]string{}
			if tt.sopts != nil {
				sopts, extra = tt.sopts(t)
			}
			srv := otlpServer(t, tt.server, sopts...)
			for k, v := range tt.env(srv) {
				t.Setenv(k, v)
			}
			for k, v := range extra {
				t.Setenv(k, v)
			}
			tel := otlpStart(t, WithOTLP(otlpFastRetry), WithErrorHandler(discardErrors{}))
			otlpEmit(t, tel)
			tt.check(t, srv, tel)
		})
	}
}

// TestOTLPScheduleDelayVariables: the batch processors export on their
// own schedule, without a flush. Each case is built so that the default
// (5s for spans, 1s for logs) would give the opposite result.
func TestOTLPScheduleDelayVariables(t *testing.T) {
	t.Run("OTEL_BSP_SCHEDULE_DELAY", func(t *testing.T) {
		srv := otlptest.NewHTTP(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
		t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20")
		tel := otlpStart(t)
		_, sp := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
		sp.End()
		// No flush: a 20ms schedule delivers well before the default 5s.
		if !srv.WaitFor(4*time.Second, func() bool { return len(srv.Spans()) > 0 }) {
			t.Error("spans: got none within 4s, want them sent on the 20ms schedule")
		}
	})
	t.Run("OTEL_BLRP_SCHEDULE_DELAY", func(t *testing.T) {
		srv := otlptest.NewHTTP(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
		t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "600000")
		tel := otlpStart(t)
		tel.Logger().Info("r")
		// No flush: the default 1s schedule would have sent it by now.
		if srv.WaitFor(2*time.Second, func() bool { return len(srv.Logs()) > 0 }) {
			t.Error("logs: got them within 2s, want them held back by the 10-minute schedule")
		}
		otlpFlush(t, tel)
		srv.WaitLogs(t, 1)
	})
}

// TestOTLPProtocolVariables proves each protocol variable picks the
// transport: the signal reaches a server of that protocol, and the other
// signal (sent in the other protocol to the same port) does not.
func TestOTLPProtocolVariables(t *testing.T) {
	tests := []struct {
		name             string
		server           otlp.Protocol
		env              map[string]string
		wantSpans, wantL bool
	}{
		{"default is http/protobuf", otlp.ProtocolHTTPProtobuf, nil, true, true},
		{"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", otlp.ProtocolGRPC, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, true},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", otlp.ProtocolGRPC, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, true, false},
		{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", otlp.ProtocolGRPC, map[string]string{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := otlpServer(t, tt.server)
			tel := otlpStart(t, otlpGetenv(tt.env), WithOTLP(otlp.WithEndpointURL(srv.Endpoint()), otlpFastRetry, otlp.WithTimeout(2*time.Second)),
				WithErrorHandler(discardErrors{}))
			otlpEmit(t, tel)
			if got := len(srv.Spans()) > 0; got != tt.wantSpans {
				t.Errorf("spans arrived: got %v, want %v", got, tt.wantSpans)
			}
			if got := len(srv.Logs()) > 0; got != tt.wantL {
				t.Errorf("logs arrived: got %v, want %v", got, tt.wantL)
			}
		})
	}
}

// TestOTLPBadProtocolVariables: with OTLP on, a protocol variable the Go
// exporters cannot speak makes Start fail, naming the variable.
func TestOTLPBadProtocolVariables(t *testing.T) {
	for name, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/json",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp",
		"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL":   "thrift",
	} {
		t.Run(name, func(t *testing.T) {
			tel, err := Start(context.Background(), otlpGetenv(map[string]string{name: v}), WithOTLP(otlp.WithEndpointURL("http://127.0.0.1:1")), WithLogWriter(nil), WithoutSetDefault())
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatal("Start: got nil error, want one")
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q: want it to name %s", err, name)
			}
		})
	}
}

// TestOTLPQueueSizeVariables: with the collector hanging, at most the
// configured number of spans / records is kept; the rest is dropped. A
// size that is not a positive integer is reported and ignored.
func TestOTLPQueueSizeVariables(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantSpans int
		wantLogs  int
		warned    bool
	}{
		{"OTEL_BSP_MAX_QUEUE_SIZE", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "3", "OTEL_BLRP_MAX_QUEUE_SIZE": "100"}, 3, 10, false},
		{"OTEL_BLRP_MAX_QUEUE_SIZE", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BLRP_MAX_QUEUE_SIZE": "4"}, 10, 4, false},
		{"invalid sizes ignored", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-1", "OTEL_BLRP_MAX_QUEUE_SIZE": "x"}, 10, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := otlptest.NewHTTP(t)
			srv.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
			srv.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
			var warnings atomic.Int64
			tel := otlpStart(t, otlpGetenv(tt.env), WithOTLP(otlp.WithEndpointURL(srv.Endpoint()), otlpFastRetry),
				WithErrorHandler(otel.ErrorHandlerFunc(func(err error) {
					if strings.Contains(err.Error(), "MAX_QUEUE_SIZE") {
						warnings.Add(1)
					}
				})))
			for i := range 10 {
				_, sp := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
				sp.End()
				tel.Logger().Info("r", "i", i)
			}
			srv.ClearFaults()
			otlpFlush(t, tel)
			srv.WaitSpans(t, tt.wantSpans)
			srv.WaitLogs(t, tt.wantLogs)
			otlpFlush(t, tel)
			if got := len(srv.Spans()); got != tt.wantSpans {
				t.Errorf("spans: got %d, want %d", got, tt.wantSpans)
			}
			if got := len(srv.Logs()); got != tt.wantLogs {
				t.Errorf("logs: got %d, want %d", got, tt.wantLogs)
			}
			// (The error handler is rate-limited: the second warning may
			// be folded into the first.)
			if got := warnings.Load() > 0; got != tt.warned {
				t.Errorf("queue size warning reported: got %v, want %v", got, tt.warned)
			}
		})
	}
}
