// Package file writes glassbox log documents and OpenTelemetry spans as
// local NDJSON files: the same ECS documents, byte for byte, that the
// Elasticsearch exporter ships, so that `glassbox trace --dir` can tell the
// story of a request on a machine with no backend at all.
//
// The directory holds one pair of files per service (dataset and namespace
// as in the Elasticsearch data stream names):
//
//	logs-<dataset>-<namespace>.ndjson      log documents, one per line
//	traces-<dataset>-<namespace>.ndjson    span documents, one per line
//	logs-<dataset>-<namespace>.20260102T150405.000000000Z.ndjson   rotated (UTC time of rotation)
//
// A file is rotated when it would pass WithMaxBytes, and at most
// WithMaxFiles files of each stream are kept. Several services (or several
// Exporters in one process) may share a directory; each service name needs
// one writing process. Writes never wait for the disk: documents go through
// a byte-bounded queue, and what cannot be queued or written is counted in
// Stats.
//
// The one call most people need (glassbox.Start does it from
// GLASSBOX_FILE_DIR or glassbox.WithFileDir):
//
//	exp, err := file.New(file.WithDir("./glassbox-data"), file.WithService(svc))
//	handler := log.NewHandler(log.WithSink(exp.LogSink()))
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp.SpanProcessor()))
//	defer exp.Shutdown(ctx) // after handler.Shutdown and tp.Shutdown
package file
