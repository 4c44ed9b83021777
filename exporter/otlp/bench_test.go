package otlp

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// discardExporter accepts every batch without sending it anywhere.
type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

func benchLogger(b *testing.B, sinks ...log.Sink) *slog.Logger {
	opts := []log.Option{log.WithService(log.Service{Name: "svc", HostName: "h", Dataset: "svc", Namespace: "default"})}
	for _, s := range sinks {
		opts = append(opts, log.WithSink(s))
	}
	return slog.New(log.NewHandler(opts...))
}

type nopSink struct{}

func (nopSink) Write(context.Context, *log.Entry) error { return nil }
func (nopSink) Shutdown(context.Context) error          { return nil }

// BenchmarkSinkWrite measures what the OTLP sink adds to a log call on the
// request goroutine (the handler's encoding alone is the "encode only"
// case); decoding and export happen on the batch goroutine, and are
// measured by BenchmarkDecodeDoc.
func BenchmarkSinkWrite(b *testing.B) {
	ctx := trace.WithCorrelationID(context.Background(), "bench-1")
	args := []any{"method", "GET", "path", "/checkout", "status", 200, "dur", 1.25, "err", errors.New("x")}
	b.Run("encode only", func(b *testing.B) {
		logger := benchLogger(b, nopSink{})
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "request done", args...)
		}
	})
	b.Run("encode + otlp sink", func(b *testing.B) {
		sink := NewSink(discardExporter{})
		defer sink.Shutdown(context.Background())
		logger := benchLogger(b, sink)
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "request done", args...)
		}
		// A producer faster than the export goroutine fills the queue;
		// dropped records cost less, so say how many there were.
		st := sink.Stats()
		b.ReportMetric(float64(st.Dropped.QueueFull)/float64(st.Produced), "dropped/op")
	})
}

func BenchmarkDecodeDoc(b *testing.B) {
	s := &docSink{}
	ctx := trace.WithCorrelationID(context.Background(), "bench-1")
	benchLogger(b, s).InfoContext(ctx, "request done", "method", "GET", "path", "/checkout", "status", 200, "dur", 1.25,
		slog.Group("user", "id", 42, "name", "ana"), "err", errors.New("x"))
	attrs := make([]attribute.KeyValue, 0, 16)
	b.SetBytes(int64(len(s.doc)))
	b.ReportAllocs()
	for b.Loop() {
		_, out, err := decodeDoc(s.doc, attrs[:0])
		if err != nil {
			b.Fatal(err)
		}
		attrs = out
	}
}
