// Package metrictest reads what the OpenTelemetry metrics SDK collected,
// for tests: a MeterProvider with an in-memory reader (the SDK's
// ManualReader), and its measurements flattened to one Point per data
// point, with attributes as strings.
package metrictest
