package bench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	phuslu "github.com/phuslu/log"
	"github.com/rs/zerolog"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// The fixture every library logs: one message, ten fields of mixed types
// (two strings, two ints, a float, a bool, a time, a duration, an error and
// a nested group of two), with a context that carries a correlation ID and
// a sampled OTel span context.
var (
	benchMsg   = "payment authorised"
	benchErr   = errors.New("card issuer timeout")
	benchTime  = time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	benchDur   = 1530 * time.Millisecond
	benchTrace = oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	benchSpan  = oteltrace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	benchCorr  = "4bf92f3577b34da6a3ce929d0e0e4736"
)

// nopWriter drops every write. Every library writes to it rather than to
// io.Discard, which some recognise and skip work for.
type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

var benchOut io.Writer = nopWriter{}

func benchCtx() context.Context {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: benchTrace, SpanID: benchSpan, TraceFlags: oteltrace.FlagsSampled,
	})
	ctx := oteltrace.ContextWithSpanContext(context.Background(), sc)
	return trace.WithCorrelationID(ctx, benchCorr)
}

// slogAttrs logs the fixture through the slog API the way glassbox users
// do: LogAttrs, no boxing of values.
func slogAttrs(l *slog.Logger, ctx context.Context, level slog.Level) {
	l.LogAttrs(ctx, level, benchMsg,
		slog.String("user", "u-1842"),
		slog.String("path", "/api/v1/orders/7781"),
		slog.Int("order_id", 7781),
		slog.Int("attempt", 2),
		slog.Float64("amount", 129.95),
		slog.Bool("retried", true),
		slog.Time("authorised_at", benchTime),
		slog.Duration("elapsed", benchDur),
		slog.Any("err", benchErr),
		slog.GroupAttrs("card", slog.String("brand", "visa"), slog.Int("last4", 4242)),
	)
}

// ctxIDHandler is the idiomatic way to get context IDs into slog's own
// JSONHandler: a wrapper that adds them to each record.
type ctxIDHandler struct{ slog.Handler }

func (h ctxIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := trace.CorrelationID(ctx); ok {
		r.AddAttrs(slog.String("correlation.id", id))
	}
	if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace.id", sc.TraceID().String()), slog.String("span.id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

type zapKey struct{}

func newZap(level zapcore.Level) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(benchOut), level))
}

// zapCtx is the idiomatic zap pattern (as in go-grpc-middleware's ctxzap):
// a request-scoped logger with the IDs bound once, carried in the context.
func zapCtx(ctx context.Context, base *zap.Logger) context.Context {
	sc := oteltrace.SpanContextFromContext(ctx)
	id, _ := trace.CorrelationID(ctx)
	l := base.With(zap.String("correlation.id", id), zap.String("trace.id", sc.TraceID().String()),
		zap.String("span.id", sc.SpanID().String()))
	return context.WithValue(ctx, zapKey{}, l)
}

func zapLog(ctx context.Context, debug bool) {
	l := ctx.Value(zapKey{}).(*zap.Logger)
	fields := []zap.Field{
		zap.String("user", "u-1842"),
		zap.String("path", "/api/v1/orders/7781"),
		zap.Int("order_id", 7781),
		zap.Int("attempt", 2),
		zap.Float64("amount", 129.95),
		zap.Bool("retried", true),
		zap.Time("authorised_at", benchTime),
		zap.Duration("elapsed", benchDur),
		zap.Error(benchErr),
		zap.Dict("card", zap.String("brand", "visa"), zap.Int("last4", 4242)),
	}
	if debug {
		l.Debug(benchMsg, fields...)
		return
	}
	l.Info(benchMsg, fields...)
}

// zerologCtx is zerolog's idiomatic pattern: a request-scoped logger with
// the IDs bound once, attached with Logger.WithContext, read with
// zerolog.Ctx.
func zerologCtx(ctx context.Context, level zerolog.Level) context.Context {
	sc := oteltrace.SpanContextFromContext(ctx)
	id, _ := trace.CorrelationID(ctx)
	l := zerolog.New(benchOut).Level(level).With().Timestamp().
		Str("correlation.id", id).Str("trace.id", sc.TraceID().String()).Str("span.id", sc.SpanID().String()).
		Logger()
	return l.WithContext(ctx)
}

func zerologLog(ctx context.Context, e func(*zerolog.Logger) *zerolog.Event) {
	e(zerolog.Ctx(ctx)).
		Str("user", "u-1842").
		Str("path", "/api/v1/orders/7781").
		Int("order_id", 7781).
		Int("attempt", 2).
		Float64("amount", 129.95).
		Bool("retried", true).
		Time("authorised_at", benchTime).
		Dur("elapsed", benchDur).
		Err(benchErr).
		Dict("card", zerolog.Dict().Str("brand", "visa").Int("last4", 4242)).
		Msg(benchMsg)
}

// slogFiveAttrs logs slog's common case: at most five attributes (which a
// Record keeps inline), no group.
func slogFiveAttrs(l *slog.Logger, ctx context.Context, level slog.Level) {
	l.LogAttrs(ctx, level, benchMsg,
		slog.String("user", "u-1842"),
		slog.String("path", "/api/v1/orders/7781"),
		slog.Int("status", 200),
		slog.Duration("elapsed", benchDur),
		slog.Bool("retried", true),
	)
}

func zapFiveAttrs(ctx context.Context) {
	ctx.Value(zapKey{}).(*zap.Logger).Info(benchMsg,
		zap.String("user", "u-1842"),
		zap.String("path", "/api/v1/orders/7781"),
		zap.Int("status", 200),
		zap.Duration("elapsed", benchDur),
		zap.Bool("retried", true),
	)
}

func zerologFiveAttrs(ctx context.Context) {
	zerolog.Ctx(ctx).Info().
		Str("user", "u-1842").
		Str("path", "/api/v1/orders/7781").
		Int("status", 200).
		Dur("elapsed", benchDur).
		Bool("retried", true).
		Msg(benchMsg)
}

var benchService = gblog.Service{Name: "checkout", Version: "1.4.2", Environment: "prod", HostName: "web-1", Dataset: "checkout", Namespace: "default"}

// slogHandlers are the slog.Handlers compared, glassbox first, each at
// level Info writing JSON to w. The peers get the context IDs the
// idiomatic way, through ctxIDHandler; glassbox reads them itself.
func slogHandlers(w io.Writer) []struct {
	name string
	h    slog.Handler
} {
	return []struct {
		name string
		h    slog.Handler
	}{
		{"glassbox", gblog.NewHandler(gblog.WithWriter(w), gblog.WithService(benchService))},
		{"slog", ctxIDHandler{slog.NewJSONHandler(w, nil)}},
		{"phuslu", ctxIDHandler{phuslu.SlogNewJSONHandler(w, nil)}},
		{"zapslog", ctxIDHandler{zapslog.NewHandler(zapcore.NewCore(
			zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zapcore.InfoLevel))}},
	}
}

// benchSlog runs one sub-benchmark per slog handler, then the references
// (zap and zerolog through their own APIs), all logging in parallel.
func benchSlog(b *testing.B, slogf func(*slog.Logger, context.Context), zapf, zerologf func(context.Context)) {
	ctx := benchCtx()
	for _, sh := range slogHandlers(benchOut) {
		b.Run(sh.name, func(b *testing.B) {
			l := slog.New(sh.h)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					slogf(l, ctx)
				}
			})
		})
	}
	b.Run("zap", func(b *testing.B) {
		zctx := zapCtx(ctx, newZap(zapcore.InfoLevel))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				zapf(zctx)
			}
		})
	})
	b.Run("zerolog", func(b *testing.B) {
		zctx := zerologCtx(ctx, zerolog.InfoLevel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				zerologf(zctx)
			}
		})
	})
}

func BenchmarkLogTenFieldsCtx(b *testing.B) {
	benchSlog(b,
		func(l *slog.Logger, ctx context.Context) { slogAttrs(l, ctx, slog.LevelInfo) },
		func(ctx context.Context) { zapLog(ctx, false) },
		func(ctx context.Context) { zerologLog(ctx, (*zerolog.Logger).Info) })
}

func BenchmarkLogFiveAttrs(b *testing.B) {
	benchSlog(b,
		func(l *slog.Logger, ctx context.Context) { slogFiveAttrs(l, ctx, slog.LevelInfo) },
		zapFiveAttrs, zerologFiveAttrs)
}

// BenchmarkLogDisabled logs the ten-field fixture at Debug to loggers at
// Info.
func BenchmarkLogDisabled(b *testing.B) {
	benchSlog(b,
		func(l *slog.Logger, ctx context.Context) { slogAttrs(l, ctx, slog.LevelDebug) },
		func(ctx context.Context) { zapLog(ctx, true) },
		func(ctx context.Context) { zerologLog(ctx, (*zerolog.Logger).Debug) })
}
