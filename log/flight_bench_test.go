package log_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// BenchmarkFlight measures the flight recorder's part of a request that
// logs 10 DEBUG records at INFO: Begin, the records through Enabled and
// Handle (prebuilt, so slog's own work is left out), End. success
// discards them, failure encodes them; off is the same records through a
// handler without a recorder (disabled).
func BenchmarkFlight(b *testing.B) {
	ctx := trace.WithCorrelationID(spanCtx(), "4bf92f3577b34da6a3ce929d0e0e4736")
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "cache lookup", 0)
	r.AddAttrs(slog.Int("step", 3), slog.String("key", "order:42"))
	b.Run("off", func(b *testing.B) {
		h := gblog.NewHandler(gblog.WithWriter(io.Discard))
		b.ReportAllocs()
		for b.Loop() {
			for range 10 {
				if h.Enabled(ctx, slog.LevelDebug) {
					_ = h.Handle(ctx, r)
				}
			}
		}
	})
	for _, failed := range []bool{false, true} {
		name := map[bool]string{false: "success", true: "failure"}[failed]
		b.Run(name, func(b *testing.B) {
			fr := gblog.NewFlightRecorder()
			h := gblog.NewHandler(gblog.WithWriter(io.Discard), gblog.WithFlightRecorder(fr))
			b.ReportAllocs()
			for b.Loop() {
				fctx, fl := fr.Begin(ctx)
				for range 10 {
					if h.Enabled(fctx, slog.LevelDebug) {
						_ = h.Handle(fctx, r)
					}
				}
				fl.End(failed)
			}
		})
	}
}
