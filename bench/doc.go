// Package bench holds glassbox's side-by-side benchmarks against the
// libraries teams would otherwise combine by hand (slog, phuslu/log's and
// zap's slog handlers, zap, zerolog, otelhttp, chi, sentry-go, otelgrpc,
// go-grpc-middleware, esutil). It is a
// separate module so those libraries never enter glassbox users' go.sum.
//
// Run everything in one go, as RESULTS.md records:
//
//	cd bench && go test -run='^$' -bench=. -benchmem -count=6 | tee bench.txt
package bench
