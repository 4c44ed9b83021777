package glassbox

import (
	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
)

// Stats are the delivery counters of the configured exporters, so that
// every record is accounted for: produced = delivered + dropped (by reason)
// + in flight. See each exporter's Stats type for the fields.
type Stats struct {
	// Elasticsearch counts log and span documents; nil when not configured.
	Elasticsearch *elasticsearch.Stats
	// OTLPSpans counts spans exported over OTLP; nil when not configured.
	OTLPSpans *otlp.Stats
	// OTLPLogs counts log records exported over OTLP; nil when not configured.
	OTLPLogs *otlp.Stats
	// Sentry counts error events; nil when not configured.
	Sentry *sentry.Stats
}

// onStats registers f to fill its part of Telemetry.Stats.
func (b *builder) onStats(f func(*Stats)) { b.stats = append(b.stats, f) }
