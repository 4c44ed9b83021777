package log_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// BenchmarkHandle measures the handler alone on a prebuilt record: what
// glassbox controls below the slog front end. Must stay at 0 allocs/op.
// Comparisons with other libraries live in the bench module.
func BenchmarkHandle(b *testing.B) {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: oteltrace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  oteltrace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: oteltrace.FlagsSampled,
	})
	ctx := trace.WithCorrelationID(oteltrace.ContextWithSpanContext(context.Background(), sc), "4bf92f3577b34da6a3ce929d0e0e4736")
	h := gblog.NewHandler(gblog.WithWriter(io.Discard),
		gblog.WithService(gblog.Service{Name: "checkout", Version: "1.4.2", HostName: "web-1", Dataset: "checkout", Namespace: "default"}))
	err := errors.New("card issuer timeout")
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "payment authorised", 0)
	r.AddAttrs(
		slog.String("user", "u-1842"),
		slog.String("path", "/api/v1/orders/7781"),
		slog.Int("order_id", 7781),
		slog.Int("attempt", 2),
		slog.Float64("amount", 129.95),
		slog.Bool("retried", true),
		slog.Time("authorised_at", time.Now()),
		slog.Duration("elapsed", 1530*time.Millisecond),
		slog.Any("err", err),
		slog.GroupAttrs("card", slog.String("brand", "visa"), slog.Int("last4", 4242)),
	)
	b.Run("default", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Handle(ctx, r)
		}
	})
	b.Run("no_redaction", func(b *testing.B) {
		h := gblog.NewHandler(gblog.WithWriter(io.Discard), gblog.WithRedactor(nil),
			gblog.WithService(gblog.Service{Name: "checkout", Version: "1.4.2", HostName: "web-1", Dataset: "checkout", Namespace: "default"}))
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Handle(ctx, r)
		}
	})
}
