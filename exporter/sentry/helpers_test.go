package sentry_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newReporter returns a Reporter sending to srv, shut down at the end of
// the test.
func newReporter(t *testing.T, srv *sentrytest.Server, opts ...gbsentry.Option) *gbsentry.Reporter {
	return newReporterB(t, srv, opts...)
}

func newReporterB(t testing.TB, srv *sentrytest.Server, opts ...gbsentry.Option) *gbsentry.Reporter {
	t.Helper()
	all := append([]gbsentry.Option{gbsentry.WithDSN(srv.DSN()), gbsentry.WithService(log.Service{Name: "checkout"}),
		gbsentry.WithErrorHandler(discardErrors{})}, opts...)
	rep, err := gbsentry.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rep.Shutdown(ctx)
	})
	return rep
}

type discardErrors struct{}

func (discardErrors) Handle(error) {}

// logger logs through a glassbox handler whose only sink is rep.
func logger(rep *gbsentry.Reporter) *slog.Logger {
	return slog.New(log.NewHandler(log.WithSink(rep), log.WithLevel(slog.LevelDebug)))
}

// events flushes rep and returns the events srv accepted, failing unless
// there are exactly n.
func events(t *testing.T, rep *gbsentry.Reporter, srv *sentrytest.Server, n int) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	ev := srv.Events()
	if len(ev) != n {
		t.Fatalf("got %d events, want %d", len(ev), n)
	}
	return ev
}

var (
	testTraceID = oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testSpanID  = oteltrace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

// requestCtx is a context as the middleware builds it: a span and a
// correlation ID.
func requestCtx(corr string) context.Context {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: 1})
	ctx := oteltrace.ContextWithSpanContext(context.Background(), sc)
	return trace.WithCorrelationID(ctx, corr)
}

func exceptions(t *testing.T, ev map[string]any) []map[string]any {
	t.Helper()
	raw, _ := ev["exception"].([]any)
	if m, ok := ev["exception"].(map[string]any); ok {
		raw, _ = m["values"].([]any)
	}
	var out []map[string]any
	for _, e := range raw {
		out = append(out, e.(map[string]any))
	}
	return out
}

func frames(e map[string]any) []map[string]any {
	st, _ := e["stacktrace"].(map[string]any)
	raw, _ := st["frames"].([]any)
	var out []map[string]any
	for _, f := range raw {
		out = append(out, f.(map[string]any))
	}
	return out
}

func fingerprint(ev map[string]any) string {
	b, _ := json.Marshal(ev["fingerprint"])
	return string(b)
}

func breadcrumbMessages(ev map[string]any) []string {
	var out []string
	bc, _ := ev["breadcrumbs"].([]any)
	if m, ok := ev["breadcrumbs"].(map[string]any); ok {
		bc, _ = m["values"].([]any)
	}
	for _, b := range bc {
		msg, _ := b.(map[string]any)["message"].(string)
		out = append(out, msg)
	}
	return out
}

func str(v any, path ...string) string {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
