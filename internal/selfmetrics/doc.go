// Package selfmetrics publishes the exporters' Stats as OpenTelemetry
// instruments, one vocabulary for all of them: glassbox.exporter.produced,
// .delivered, .dropped (by glassbox.reason), .in_flight, .queue.size and
// the others below, each with the attribute glassbox.exporter naming the
// exporter. The instruments are observable: each collection reads the
// exporter's Stats, so the metrics and Stats are one source of truth.
//
//	err := selfmetrics.Register(mp, "file", func(r *selfmetrics.Recorder) {
//		s := e.Stats()
//		r.Count(selfmetrics.Produced, s.Produced)
//	})
package selfmetrics
