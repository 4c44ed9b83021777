// Package otlpmetric exports glassbox's metrics (the middleware's request
// metrics, the exporters' own) over OTLP, through the OTel SDK's
// exporters (otlpmetrichttp, otlpmetricgrpc) and a periodic reader, with
// the settings of package otlp: its options and the shared
// OTEL_EXPORTER_OTLP_* variables, OTEL_EXPORTER_OTLP_METRICS_* winning
// over them.
//
// It is a package of its own because the metrics SDK weighs about 2 MB of
// binary with the exporters: programs that export no metrics do not link
// it. Importing it does nothing; passing its exporter to glassbox.Start
// turns OTLP metrics on:
//
//	tel, err := glassbox.Start(ctx, glassbox.WithMetricsExporter(otlpmetric.New()))
package otlpmetric
