// Package bench holds glassbox's side-by-side benchmarks against the
// libraries teams would otherwise combine by hand (slog, phuslu/log's and
// zap's slog handlers, zap, zerolog, otelhttp, chi, sentry-go, otelgrpc,
// go-grpc-middleware, esutil). It is a
// separate module so those libraries never enter glassbox users' go.sum.
//
// Run everything in one go, as RESULTS.md records:
//
//	cd bench && go test -run='^$' -bench=. -benchmem -count=6 | tee bench.txt
//
// Package bench/soak is the soak under faults ("Under fire" in
// RESULTS.md): a service under steady load while Elasticsearch, OTLP and
// Sentry go down, slow down and refuse, every record accounted for:
//
//	cd bench && go test -count=1 -run='^TestSoak$' ./soak              # short, about 75 s
//	cd bench && go test -count=1 -timeout=2h -run='^TestSoak$' ./soak -soak.full  # 10-minute outage
package bench
