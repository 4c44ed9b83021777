// Package prometheus serves glassbox's metrics to Prometheus: the
// middleware's request metrics (http_server_request_duration_seconds,
// rpc_server_call_duration_seconds, ...) and the exporters' own
// (glassbox_exporter_*), through the OpenTelemetry Prometheus exporter on
// a registry of its own (never the global default one), in the
// Prometheus text format or OpenMetrics with exemplars, whichever the
// scraper asks for.
//
// It is a package of its own because the Prometheus client library and
// the metrics SDK weigh about 3 MB of binary: programs that do not serve
// Prometheus do not link them. Importing it does nothing; passing its
// exporter to glassbox.Start turns it on:
//
//	tel, err := glassbox.Start(ctx, glassbox.WithMetricsExporter(prometheus.New()))
//	http.Handle("GET /metrics", tel.MetricsHandler())
package prometheus
