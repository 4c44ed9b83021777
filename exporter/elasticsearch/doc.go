// Package elasticsearch ships glassbox log documents and OpenTelemetry
// spans to Elasticsearch data streams (logs-<dataset>-<namespace>,
// traces-<dataset>-<namespace>) with bulk "create" requests and
// client-generated IDs, so that a retry can never store a document twice.
//
// Delivery is lossless within configured bounds: per-item retries with
// backoff and jitter, a dead-letter file for documents Elasticsearch
// rejects for good, a byte-bounded memory queue that drops (and counts) the
// newest record instead of blocking the caller, and an optional on-disk
// spool that survives outages and restarts (SpoolOnFailure), or every
// record written ahead so that even a killed process loses nothing it
// accepted (SpoolAlways). Stats accounts for every record. Cluster, for
// tools, installs and inspects the index templates and checks the
// connection.
//
// The exporter links only the esapi and elastictransport packages of
// go-elasticsearch, never its typed API. New reads ELASTICSEARCH_URL and
// the other variables named by the options itself; options win. The one
// call most people need (glassbox.Start makes it when ELASTICSEARCH_URL is
// set):
//
//	exp, err := elasticsearch.New(elasticsearch.WithAddresses("https://es:9200"), elasticsearch.WithAPIKey(key))
//	handler := log.NewHandler(log.WithSink(exp.LogSink()))
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp.SpanExporter()))
//	defer exp.Shutdown(ctx) // after handler.Shutdown and tp.Shutdown
package elasticsearch
