package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// BenchmarkFlightRecorder is BenchmarkHTTPStack/glassbox with a handler
// that logs 10 DEBUG records at INFO: off (no flight recorder: the
// records are disabled), success (kept, then discarded unencoded) and
// failure (kept, then written before the 500's access record). floor is
// what log/slog itself costs to build the 10 records when the handler
// says they are enabled, and then drops them: the part of success no
// handler can avoid.
func BenchmarkFlightRecorder(b *testing.B) {
	handler := func(logger *slog.Logger, status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			for i := 0; i < 10; i++ {
				logger.DebugContext(ctx, "cache lookup", "step", i, "key", "order:42")
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte("ok"))
		})
	}
	run := func(b *testing.B, h http.Handler, status int) {
		req := httptest.NewRequest("GET", "/users/42", nil)
		req.Header.Set("User-Agent", "bench/1.0")
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != status {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("floor", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(dropBelowInfo{log.NewHandler(log.WithWriter(nopWriter{}))})
		run(b, middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger))(handler(logger, 200)), 200)
	})
	b.Run("off", func(b *testing.B) {
		tp := newBenchTP(b)
		logger := slog.New(log.NewHandler(log.WithWriter(nopWriter{})))
		run(b, middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger))(handler(logger, 200)), 200)
	})
	for _, c := range []struct {
		name   string
		status int
	}{{"success", 200}, {"failure", 500}} {
		b.Run(c.name, func(b *testing.B) {
			tp := newBenchTP(b)
			fr := log.NewFlightRecorder()
			logger := slog.New(log.NewHandler(log.WithWriter(nopWriter{}), log.WithFlightRecorder(fr)))
			h := middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger), middleware.WithFlightRecorder(fr))
			run(b, h(handler(logger, c.status)), c.status)
			if st := fr.Stats(); st.ReservedBytes != 0 || st.DroppedMemoryCap+st.DroppedRequestLimit != 0 {
				b.Fatalf("flight recorder: %+v", st)
			}
		})
	}
}

// dropBelowInfo enables every level and drops the records below INFO in
// Handle: slog builds them, nothing keeps them.
type dropBelowInfo struct{ *log.Handler }

func (h dropBelowInfo) Enabled(context.Context, slog.Level) bool { return true }

func (h dropBelowInfo) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}
