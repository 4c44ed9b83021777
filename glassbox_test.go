package glassbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// env returns a getenv over a fixed map, so tests never depend on the
// machine's environment.
func env(kv ...string) Option {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return getenvOption(func(k string) string { return m[k] })
}

func startT(t *testing.T, opts ...Option) (*Telemetry, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	tel, err := Start(context.Background(), append([]Option{WithLogWriter(&buf), WithoutSetDefault()}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, &buf
}

func lastDoc(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %v: %q", err, buf.String())
	}
	return m
}

func TestZeroConfigLogsJSONWithTraceAndCorrelation(t *testing.T) {
	tel, buf := startT(t, env())
	ctx, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "work")
	ctx, id := trace.EnsureCorrelationID(ctx)
	tel.Logger().InfoContext(ctx, "hello")
	span.End()
	doc := lastDoc(t, buf)
	if doc["correlation.id"] != id || doc["trace.id"] != span.SpanContext().TraceID().String() || id != doc["trace.id"] {
		t.Errorf("got correlation.id=%v trace.id=%v, want both %s", doc["correlation.id"], doc["trace.id"], id)
	}
	if name, _ := doc["service.name"].(string); !strings.HasPrefix(name, "unknown_service") {
		t.Errorf("service.name = %q, want the OTel default unknown_service:<exe>", name)
	}
}

func TestEnvironmentConfiguresServiceAndLevel(t *testing.T) {
	tel, buf := startT(t, env(
		"OTEL_SERVICE_NAME", "checkout",
		"OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored,service.version=1.4.2,deployment.environment.name=prod%20eu",
		"GLASSBOX_LOG_LEVEL", "warn",
	))
	tel.Logger().Info("dropped")
	tel.Logger().Warn("kept")
	doc := lastDoc(t, buf)
	if doc["message"] != "kept" || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("GLASSBOX_LOG_LEVEL=warn: got %q", buf.String())
	}
	for k, want := range map[string]string{"service.name": "checkout", "service.version": "1.4.2",
		"service.environment": "prod eu", "event.dataset": "checkout", "data_stream.dataset": "checkout"} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
}

func TestCodeOptionsWinOverEnvironment(t *testing.T) {
	tel, buf := startT(t, env("OTEL_SERVICE_NAME", "from-env", "GLASSBOX_LOG_LEVEL", "error", "SENTRY_ENVIRONMENT", "staging"),
		WithServiceName("from-code"), WithLogLevel(slog.LevelInfo), WithEnvironment("prod"))
	tel.Logger().Info("visible")
	doc := lastDoc(t, buf)
	if doc["service.name"] != "from-code" || doc["message"] != "visible" || doc["service.environment"] != "prod" {
		t.Errorf("got %v", doc)
	}
}

func TestSentryEnvironmentIsTheFallback(t *testing.T) {
	tel, buf := startT(t, env("SENTRY_ENVIRONMENT", "staging"))
	tel.Logger().Info("x")
	if got := lastDoc(t, buf)["service.environment"]; got != "staging" {
		t.Errorf("service.environment = %v, want staging", got)
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct{ env []string }{
		{[]string{"GLASSBOX_LOG_LEVEL", "loud"}},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES", "service.name"}},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES", "a=%zz"}},
		{[]string{"GLASSBOX_LOG_FORMAT", "xml"}},
	} {
		_, err := Start(context.Background(), env(tc.env...), WithoutSetDefault(), WithLogWriter(nil))
		if err == nil || !strings.Contains(err.Error(), tc.env[0]) {
			t.Errorf("%s=%q: got error %v, want one naming the variable", tc.env[0], tc.env[1], err)
		}
	}
}

func TestTextFormat(t *testing.T) {
	tel, buf := startT(t, env("GLASSBOX_LOG_FORMAT", "text"))
	tel.Logger().Info("human", "k", "v")
	if out := buf.String(); !strings.Contains(out, "INFO  human  k=v") || strings.HasPrefix(out, "{") {
		t.Errorf("text format: got %q", out)
	}
}

func TestRedactKeysFromEnvAndOptions(t *testing.T) {
	tel, buf := startT(t, env("GLASSBOX_REDACT_KEYS", "ssn, iban"), WithRedactKeys("pin"))
	tel.Logger().Info("x", "ssn", "1", "iban", "2", "pin", "3", "password", "4", "user", "ann")
	doc := lastDoc(t, buf)
	for _, k := range []string{"ssn", "iban", "pin", "password"} {
		if doc[k] != "[REDACTED]" {
			t.Errorf("%s = %v, want redacted", k, doc[k])
		}
	}
	if doc["user"] != "ann" || !tel.Redactor().Match("IBAN") {
		t.Errorf("user = %v; Redactor().Match(IBAN) = %v", doc["user"], tel.Redactor().Match("IBAN"))
	}
}

func TestSetsAndRestoresGlobals(t *testing.T) {
	prevLogger, prevTP := slog.Default(), otel.GetTracerProvider()
	var buf bytes.Buffer
	tel, err := Start(context.Background(), env(), WithLogWriter(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if slog.Default() != tel.Logger() || otel.GetTracerProvider() != tel.TracerProvider() {
		t.Error("Start did not install the slog default and OTel globals")
	}
	slog.Info("through the default")
	if !strings.Contains(buf.String(), "through the default") {
		t.Error("slog.Info did not reach the glassbox handler")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if slog.Default() != prevLogger || otel.GetTracerProvider() != prevTP {
		t.Error("Shutdown did not restore the previous globals")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestParseResourceAttributes(t *testing.T) {
	m, err := parseResourceAttributes(" a=1 , b = x%2Cy ,, c=")
	if err != nil || m["a"] != "1" || m["b"] != "x,y" || m["c"] != "" {
		t.Errorf("got %v, %v", m, err)
	}
}

func TestNilWriterLogsNowhere(t *testing.T) {
	sink := &countingSink{}
	tel, err := Start(context.Background(), env(), WithoutSetDefault(), WithLogWriter(nil), WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	tel.Logger().Info("to the sink only")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.n.Load() != 1 || !sink.closed.Load() {
		t.Errorf("sink got %d records (closed=%v), want 1 and shut down", sink.n.Load(), sink.closed.Load())
	}
}

type countingSink struct {
	n      atomic.Int64
	closed atomic.Bool
}

func (s *countingSink) Write(context.Context, *log.Entry) error { s.n.Add(1); return nil }
func (s *countingSink) Shutdown(context.Context) error          { s.closed.Store(true); return nil }

func TestNilWriterWithoutSinksWritesNothingToStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	tel, err := Start(context.Background(), env(), WithoutSetDefault(), WithLogWriter(nil))
	os.Stdout = saved
	if err != nil {
		t.Fatal(err)
	}
	tel.Logger().Info("must go nowhere")
	_ = tel.Shutdown(context.Background())
	w.Close()
	out, _ := io.ReadAll(r)
	if len(out) != 0 {
		t.Errorf("stdout got %q, want nothing", out)
	}
}

func TestEverySpanInARequestCarriesTheCorrelationID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, _ := startT(t, env(), WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)))
	ctx := trace.WithCorrelationID(context.Background(), "order-7781")
	ctx, parent := tel.TracerProvider().Tracer("app").Start(ctx, "handler")
	_, child := tel.TracerProvider().Tracer("db").Start(ctx, "SELECT orders")
	child.End()
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	for _, s := range spans {
		found := false
		for _, a := range s.Attributes {
			found = found || (a.Key == "correlation.id" && a.Value.AsString() == "order-7781")
		}
		if !found {
			t.Errorf("span %q lacks correlation.id=order-7781: %v", s.Name, s.Attributes)
		}
	}
}
