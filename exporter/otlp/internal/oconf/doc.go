// Package oconf is the configuration of glassbox's OTLP exporters, shared
// by package otlp (spans and logs) and package otlpmetric (metrics): the
// options, the OTEL_EXPORTER_OTLP_* variables this module resolves itself
// (protocol, timeout, queue sizes), their translation into the options
// of the OTel SDK's exporters, and the export policy (a timeout over a
// whole export, retries of a collector that refuses connections).
//
//	c := oconf.New("METRICS", opts)
//	o, err := oconf.HTTPExporterOptions(c, set, "/v1/metrics")
package oconf
