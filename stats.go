package glassbox

import (
	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/file"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

// Stats are the delivery counters of the configured exporters, so that
// every record is accounted for: produced = delivered + dropped (by reason)
// + in flight. See each exporter's Stats type for the fields. The counters
// of an exporter that is not configured stay zero; Enabled tells which are.
type Stats struct {
	// Elasticsearch counts log and span documents.
	Elasticsearch elasticsearch.Stats
	// OTLPSpans counts spans exported over OTLP.
	OTLPSpans otlp.Stats
	// OTLPLogs counts log records exported over OTLP.
	OTLPLogs otlp.Stats
	// Sentry counts error events.
	Sentry sentry.Stats
	// File counts log and span documents written to local files.
	File file.Stats
	// FlightRecorder counts the records the flight recorder kept,
	// replayed, discarded and dropped (see WithFlightRecorder).
	FlightRecorder log.FlightStats
	// BreakGlass counts the debug tokens and grants accepted and refused
	// (see WithDebugKeys).
	BreakGlass breakglass.Stats
	// Enabled tells which exporters and features are configured.
	Enabled Exporters
}

// Exporters names the exporters and request features Start configured.
type Exporters struct {
	Elasticsearch, OTLPSpans, OTLPLogs, Sentry, File bool
	FlightRecorder, BreakGlass                       bool
}
