package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
	chimw "github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/internal/metricsdk"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// newBenchTP is the TracerProvider both sides use: SDK, always sample,
// batch processor, no-op exporter.
func newBenchTP(tb testing.TB) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()),
	)
	tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// newBenchMP returns a MeterProvider over an in-memory reader, never
// collected during the run. glassbox's is the one glassbox.Start builds
// (its exemplar reservoir keeps the correlation ID); the peers' is the
// SDK's plain one.
func newBenchMP(b *testing.B, glassbox bool) metric.MeterProvider {
	r := sdkmetric.NewManualReader()
	var mp interface {
		metric.MeterProvider
		Shutdown(context.Context) error
	}
	if glassbox {
		mp = metricsdk.NewMeterProvider(&metricsdk.Settings{}, []sdkmetric.Reader{r})
	} else {
		mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	}
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

var twoBytes = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("ok"))
})

// slogAccessLog is the access-log middleware a team would write with
// log/slog's JSON handler: one record per request with the same fields
// glassbox writes.
func slogAccessLog(l *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := chimw.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			l.LogAttrs(r.Context(), slog.LevelInfo, "request completed",
				slog.String("http.request.method", r.Method),
				slog.String("url.path", r.URL.Path),
				slog.Int("http.response.status_code", ww.Status()),
				slog.Int("http.response.body.bytes", ww.BytesWritten()),
				slog.Duration("event.duration", time.Since(start)),
				slog.String("client.ip", r.RemoteAddr),
				slog.String("user_agent.original", r.UserAgent()),
				slog.String("correlation.id", chimw.GetReqID(r.Context())),
			)
		})
	}
}

func BenchmarkHTTPStack(b *testing.B) {
	run := func(b *testing.B, h http.Handler) {
		req := httptest.NewRequest("GET", "/users/42", nil)
		req.Header.Set("User-Agent", "bench/1.0")
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, twoBytes) })
	b.Run("glassbox", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(log.NewHandler(log.WithWriter(benchOut)))
		run(b, middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger))(twoBytes))
	})
	peers := func(b *testing.B, opts ...otelhttp.Option) {
		tp := newBenchTP(b)
		if err := sentry.Init(sentry.ClientOptions{}); err != nil {
			b.Fatal(err)
		}
		logger := slog.New(slog.NewJSONHandler(benchOut, nil))
		h := sentryhttp.New(sentryhttp.Options{Repanic: false}).Handle(twoBytes)
		h = slogAccessLog(logger)(h)
		h = chimw.RequestID(h)
		h = otelhttp.NewHandler(h, "server", append([]otelhttp.Option{otelhttp.WithTracerProvider(tp)}, opts...)...)
		run(b, h)
	}
	b.Run("peers", func(b *testing.B) { peers(b) })
	// The same with request metrics on: glassbox's middleware and
	// otelhttp both record http.server.request.duration (glassbox also
	// http.server.active_requests, otelhttp the body sizes) on a real SDK
	// MeterProvider, exemplars included.
	b.Run("glassbox_metrics", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(log.NewHandler(log.WithWriter(nopWriter{})))
		run(b, middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger),
			middleware.WithMeterProvider(newBenchMP(b, true)))(twoBytes))
	})
	b.Run("peers_metrics", func(b *testing.B) { peers(b, otelhttp.WithMeterProvider(newBenchMP(b, false))) })
}
