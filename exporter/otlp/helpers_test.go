package otlp

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/log"
)

// fastRetry keeps retrying tests short while still exercising the
// exporters' retry loop.
var fastRetry = RetryConfig{Enabled: true, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: 3 * time.Second}

var testResource = sdkresource.NewSchemaless(
	attribute.String("service.name", "checkout"),
	attribute.String("deployment.environment.name", "test"),
)

func newServer(t *testing.T, p Protocol, opts ...otlptest.Option) *otlptest.Server {
	t.Helper()
	if p == ProtocolGRPC {
		return otlptest.NewGRPC(t, opts...)
	}
	return otlptest.NewHTTP(t, opts...)
}

// pipeline is a TracerProvider and a logger exporting to one server.
type pipeline struct {
	errs   atomic.Int64 // errors reported to the error handler
	tp     *sdktrace.TracerProvider
	proc   *SpanProcessor
	sink   *Sink
	logger *slog.Logger
}

func newPipeline(t *testing.T, p Protocol, endpoint string, opts ...Option) *pipeline {
	t.Helper()
	ctx := context.Background()
	pl := &pipeline{}
	eh := otel.ErrorHandlerFunc(func(error) { pl.errs.Add(1) })
	opts = append([]Option{WithProtocol(p), WithEndpointURL(endpoint), WithRetry(fastRetry), WithResource(testResource), WithErrorHandler(eh)}, opts...)
	sexp, err := NewSpanExporter(ctx, opts...)
	if err != nil {
		t.Fatalf("NewSpanExporter: %v", err)
	}
	lexp, err := NewLogExporter(ctx, opts...)
	if err != nil {
		t.Fatalf("NewLogExporter: %v", err)
	}
	pl.proc, pl.sink = NewSpanProcessor(sexp, opts...), NewSink(lexp, opts...)
	pl.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(testResource), sdktrace.WithSpanProcessor(pl.proc))
	pl.logger = slog.New(log.NewHandler(log.WithSink(pl.sink), log.WithService(log.Service{Name: "checkout", Environment: "test", HostName: "h1"})))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pl.tp.Shutdown(ctx)
		_ = pl.sink.Shutdown(ctx)
	})
	return pl
}

func (pl *pipeline) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pl.tp.ForceFlush(ctx); err != nil {
		t.Errorf("span flush: %v", err)
	}
	if err := pl.sink.Flush(ctx); err != nil {
		t.Errorf("log flush: %v", err)
	}
}

func attrs(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := make(map[string]*commonpb.AnyValue, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

func strAttr(kvs []*commonpb.KeyValue, k string) string {
	return attrs(kvs)[k].GetStringValue()
}

var protocols = []Protocol{ProtocolGRPC, ProtocolHTTPProtobuf}

// waitExporterShutDown waits until the SDK's batch goroutines behind the
// given processors and sinks have shut their exporters down (goleak).
func waitExporterShutDown(t *testing.T, as ...*abandonment) {
	t.Helper()
	for _, a := range as {
		select {
		case <-a.done:
		case <-time.After(otlptest.WaitTimeout):
			t.Fatal("the exporter was not shut down after Shutdown returned")
		}
	}
}
