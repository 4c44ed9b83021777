// Package soak runs glassbox under fire: an instrumented HTTP and gRPC
// service (glassbox.Start with the Elasticsearch, OTLP and Sentry
// exporters, middleware.HTTP and grpcmw) takes steady loopback load while
// the project's Elasticsearch, OTLP and Sentry test servers go through a
// schedule of faults: healthy, refused, slow (5 s per request), 429 and
// 503 storms, 30 % of bulk items failing with 503, 413s, each followed by
// a recovery. Every second it samples the service's latency, live heap,
// RSS and goroutines, and checks for every sink that produced = delivered
// + dropped (by reason) + in flight (+ in the spool); at the end it counts
// at the servers what was lost and what arrived twice. The service runs in
// a child process, so that its memory figures are its own.
//
// TestSoak runs the schedule twice, with a write-ahead spool
// (SpoolAlways) and without, side by side. By default it is the short
// schedule CI runs (about 75 s):
//
//	cd bench && go test -count=1 -run='^TestSoak$' ./soak
//
// and with -soak.full the one bench/RESULTS.md records ("Under fire"): a
// 10-minute outage at 1,000 logs/s and 200 spans/s, about 21 minutes:
//
//	cd bench && go test -count=1 -timeout=2h -run='^TestSoak$' ./soak -soak.full -soak.out=soak.md
//
// -soak.out appends the Markdown tables to a file, -soak.v logs every
// sample, -soak.sequential runs the two variants one after the other and
// -soak.outage changes the length of the refused phase.
package soak
