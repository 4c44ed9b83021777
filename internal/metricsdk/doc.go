// Package metricsdk is the seam between glassbox.Start and the OTel
// metrics SDK. Start knows metrics exporters only through the Exporter
// interface; the exporter packages (exporter/otlp/otlpmetric,
// exporter/prometheus) implement it with NewMeterProvider, so that the
// SDK (about 1.3 MB of binary) is linked only into programs that import
// one of them.
//
//	mp := metricsdk.NewMeterProvider(settings, readers)
package metricsdk
