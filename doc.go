// Package glassbox wires structured logging, tracing and error reporting
// around one correlation ID per request, in one call.
//
// Start builds an ECS JSON slog handler (made the slog default), an
// OpenTelemetry TracerProvider and propagator, and whichever exporters the
// options and the environment name (Elasticsearch, OTLP, Sentry, local
// files), and with WithMetricsExporter a MeterProvider for the request
// metrics (OTLP, or Prometheus through Telemetry.MetricsHandler). With
// nothing configured it logs JSON to stdout and opens no connection.
//
//	tel, err := glassbox.Start(ctx, glassbox.WithServiceName("checkout"))
//	if err != nil { ... }
//	defer tel.Shutdown(context.Background())
//
// GLASSBOX_FLIGHT_RECORDER=on (WithFlightRecorder) keeps each request's
// records below the level and writes them only if it fails;
// GLASSBOX_DEBUG_KEYS (WithDebugKeys) turns on break-glass debugging, a
// signed header that logs one request from DEBUG up and samples its trace,
// downstream too (see package middleware/breakglass).
//
// Code options win over environment variables; see README.md for the table.
package glassbox
