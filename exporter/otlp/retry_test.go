package otlp

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/internal/otlptest"
)

// withRetryHook calls f before each retry of a connection failure.
func withRetryHook(f func(error)) Option {
	return optionFunc(func(c *config) { c.OnRetry = f })
}

// exportOne exports one span (traces) or one log record (logs) through a
// new exporter for srv, as the batch processors would.
func exportOne(t *testing.T, p Protocol, sig otlptest.Signal, endpoint string, opts ...Option) error {
	t.Helper()
	ctx := context.Background()
	opts = append([]Option{WithProtocol(p), WithEndpointURL(endpoint)}, opts...)
	if sig == otlptest.Traces {
		exp, err := NewSpanExporter(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer exp.Shutdown(ctx)
		sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: [16]byte{1}, SpanID: [8]byte{1}, TraceFlags: oteltrace.FlagsSampled})
		return exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{tracetest.SpanStub{Name: "op", SpanContext: sc}.Snapshot()})
	}
	exp, err := NewLogExporter(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	var r sdklog.Record
	r.SetBody(attribute.StringValue("hello"))
	r.SetTimestamp(time.Now())
	return exp.Export(ctx, []sdklog.Record{r})
}

// TestHTTPRetriesRefusedConnections: a collector that refuses connections
// (down, restarting) is retried over HTTP as over gRPC, and what was
// exported while it was away arrives once it listens again on the same
// port. Before, the HTTP exporters gave up at the first refusal.
func TestHTTPRetriesRefusedConnections(t *testing.T) {
	t.Parallel()
	for _, sig := range []otlptest.Signal{otlptest.Traces, otlptest.Logs} {
		t.Run(string(sig), func(t *testing.T) {
			t.Parallel()
			srv := otlptest.NewHTTP(t)
			if err := srv.SetRefused(true); err != nil {
				t.Fatal(err)
			}
			refused := make(chan error, 1)
			hook := withRetryHook(func(err error) {
				select {
				case refused <- err:
				default:
				}
			})
			done := make(chan error, 1)
			go func() {
				done <- exportOne(t, ProtocolHTTPProtobuf, sig, srv.Endpoint(), hook, WithTimeout(time.Minute),
					WithRetry(RetryConfig{Enabled: true, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: time.Minute}))
			}()
			select {
			case err := <-refused:
				if !strings.Contains(err.Error(), "connection refused") {
					t.Errorf("retried error: got %v, want connection refused", err)
				}
			case err := <-done:
				t.Fatalf("export ended without retrying the refused connection: %v", err)
			case <-time.After(otlptest.WaitTimeout):
				t.Fatal("no retry of the refused connection")
			}
			if err := srv.SetRefused(false); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("export: got %v, want success once the collector listens again", err)
			}
			if got := len(srv.Requests(sig)); got != 1 {
				t.Errorf("requests received: got %d, want 1", got)
			}
		})
	}
}

// TestTimeoutBoundsWholeExport: the timeout (WithTimeout,
// OTEL_EXPORTER_OTLP_TIMEOUT) ends the whole export, retries included,
// whether the collector refuses connections or answers "unavailable":
// the export fails with the deadline after several attempts instead of
// retrying for the minute MaxElapsedTime would allow.
func TestTimeoutBoundsWholeExport(t *testing.T) {
	t.Parallel()
	slowGiveUp := WithRetry(RetryConfig{Enabled: true, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: time.Minute})
	for _, p := range protocols {
		for _, mode := range []string{"refused", "unavailable"} {
			t.Run(string(p)+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newServer(t, p)
				var retries atomic.Int64
				if mode == "refused" {
					if err := srv.SetRefused(true); err != nil {
						t.Fatal(err)
					}
				} else {
					srv.FailAll(otlptest.Traces, otlptest.Fault{Code: codes.Unavailable})
				}
				done := make(chan error, 1)
				go func() {
					done <- exportOne(t, p, otlptest.Traces, srv.Endpoint(), slowGiveUp, WithTimeout(300*time.Millisecond),
						withRetryHook(func(error) { retries.Add(1) }))
				}()
				select {
				case err := <-done:
					if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline exceeded") {
						t.Errorf("export: got %v, want the timeout's deadline error", err)
					}
				case <-time.After(otlptest.WaitTimeout):
					t.Fatal("the timeout did not end the export")
				}
				switch {
				case mode == "unavailable" && len(srv.Requests(otlptest.Traces)) < 2:
					t.Errorf("requests: got %d, want retries before the timeout", len(srv.Requests(otlptest.Traces)))
				case mode == "refused" && p == ProtocolHTTPProtobuf && retries.Load() < 1:
					t.Error("refused connection: got no retry before the timeout")
				}
			})
		}
	}
}

// TestTimeoutFromEnvironment: OTEL_EXPORTER_OTLP_TIMEOUT (and the
// per-signal variable, which wins) bound the whole export as WithTimeout
// does; a value that is not a positive number of milliseconds is an error.
func TestTimeoutFromEnvironment(t *testing.T) {
	srv := otlptest.NewHTTP(t)
	srv.FailAll(otlptest.Traces, otlptest.Fault{Code: codes.Unavailable})
	slowGiveUp := WithRetry(RetryConfig{Enabled: true, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: time.Minute})

	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "600000")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "300")
	done := make(chan error, 1)
	go func() { done <- exportOne(t, ProtocolHTTPProtobuf, otlptest.Traces, srv.Endpoint(), slowGiveUp) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("export: got %v, want the timeout's deadline error", err)
		}
	case <-time.After(otlptest.WaitTimeout):
		t.Fatal("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT did not end the export")
	}

	for _, bad := range []string{"10s", "-1", "0"} {
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", bad)
		_, err := NewSpanExporter(context.Background(), WithEndpointURL(srv.Endpoint()))
		if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
			t.Errorf("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=%s: got %v, want an error naming the variable", bad, err)
		}
	}
}
