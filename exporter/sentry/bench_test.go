package sentry_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
)

// BenchmarkRequestNoFailure is what every request pays: Begin, three log
// records kept as breadcrumbs, End without a failure.
func BenchmarkRequestNoFailure(b *testing.B) {
	srv := sentrytest.NewServer(b)
	rep := newReporterB(b, srv)
	lg := logger(rep)
	base := requestCtx("bench")
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: "bench"}
	out := &middleware.Outcome{Status: 200}
	b.ReportAllocs()
	for b.Loop() {
		ctx := rep.Begin(base, req)
		lg.InfoContext(ctx, "one", "k", 1)
		lg.InfoContext(ctx, "two", "k", 2)
		lg.InfoContext(ctx, "three", "k", 3)
		rep.End(ctx, req, out)
	}
}

// BenchmarkBeginEnd is the observer alone.
func BenchmarkBeginEnd(b *testing.B) {
	srv := sentrytest.NewServer(b)
	rep := newReporterB(b, srv)
	base := requestCtx("bench")
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: "bench"}
	out := &middleware.Outcome{Status: 200}
	b.ReportAllocs()
	for b.Loop() {
		rep.End(rep.Begin(base, req), req, out)
	}
}

// BenchmarkLogOutsideRequest is the sink's cost for records that belong
// to no request.
func BenchmarkLogOutsideRequest(b *testing.B) {
	srv := sentrytest.NewServer(b)
	rep := newReporterB(b, srv)
	lg := logger(rep)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		lg.LogAttrs(ctx, slog.LevelInfo, "x", slog.Int("k", 1))
	}
}

// BenchmarkReport is the cost of building one event (exception chain with
// stacks, tags, breadcrumbs, scrubbing, encoding) on the reporting
// goroutine; the queue has no room, so nothing is sent, and aggregation is
// off, so every report builds its event.
func BenchmarkReport(b *testing.B) {
	srv := sentrytest.NewServer(b)
	srv.SetDelay(time.Hour)
	rep := newReporterB(b, srv, gbsentry.WithQueueBytes(1), gbsentry.WithAggregationWindow(0))
	lg := logger(rep)
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: "bench"}
	ctx := rep.Begin(requestCtx("bench"), req)
	for i := range 10 {
		lg.InfoContext(ctx, "step", "i", i)
	}
	err := errors.With(errors.Wrap(errors.New("root"), "outer"), "order_id", 1)
	b.ReportAllocs()
	for b.Loop() {
		rep.Report(context.Background(), err)
	}
	b.StopTimer()
	sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = rep.Shutdown(sctx)
}
