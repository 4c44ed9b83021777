package bench

import (
	"context"
	"log/slog"
	"testing"
)

type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

// BenchmarkLogFloor is the cost of the slog front end alone (record
// construction, caller PC, attribute copy) with a handler that does
// nothing: no slog.Handler can log the fixture for less.
func BenchmarkLogFloor(b *testing.B) {
	ctx := benchCtx()
	l := slog.New(nopHandler{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) { // as BenchmarkLogTenFieldsCtx
		for pb.Next() {
			slogAttrs(l, ctx, slog.LevelInfo)
		}
	})
}

// BenchmarkLogFloorFiveAttrs is BenchmarkLogFloor for BenchmarkLogFiveAttrs'
// fixture.
func BenchmarkLogFloorFiveAttrs(b *testing.B) {
	ctx := benchCtx()
	l := slog.New(nopHandler{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			slogFiveAttrs(l, ctx, slog.LevelInfo)
		}
	})
}
