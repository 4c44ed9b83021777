// Package otlp sends glassbox spans and logs to an OpenTelemetry collector
// (or Jaeger, Tempo, Elastic APM) over OTLP, gRPC or HTTP/protobuf.
//
// It builds on the OpenTelemetry SDK: the exporters, batch processors and
// most OTEL_EXPORTER_OTLP_* handling are the SDK's. What it adds: one export
// policy for both protocols (the timeout bounds a whole export, retries
// included, and a collector that refuses connections is retried over HTTP
// as over gRPC); a log.Sink that turns glassbox's encoded records into OTel
// log records off the request goroutine; bounded queues; and counters that
// account for every span and record (Produced = Exported + Dropped by
// reason + InFlight, nothing in flight once Shutdown has returned),
// published as OTel metrics with WithMeterProvider. Metrics go over OTLP
// through the subpackage otlpmetric, with the same options.
//
// Most programs never call it: glassbox.Start wires it from the standard
// OTEL_* environment. Used directly:
//
//	exp, err := otlp.NewLogExporter(ctx, otlp.WithEndpointURL("http://localhost:4318"))
//	sink := otlp.NewSink(exp)
//	h := log.NewHandler(log.WithSink(sink))
package otlp
