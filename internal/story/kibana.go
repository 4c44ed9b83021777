package story

import (
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/trace"
)

// discoverURL returns the Kibana Discover link to the log records of one
// correlation ID over the story's window [from, to] widened by a minute on
// each side, or "" when base is empty or the ID is not a valid correlation
// ID. The link itself is kibana.DiscoverURL's, the one the Sentry reporter
// puts in events: glassbox's logs data view, the saved search's columns,
// oldest first.
func discoverURL(base, correlationID string, from, to time.Time) string {
	if strings.TrimRight(strings.TrimSpace(base), "/") == "" || !trace.ValidCorrelationID(correlationID) {
		return ""
	}
	return kibana.DiscoverURL(strings.TrimSpace(base), kibana.LogsDataViewID, correlationID, from.Add(-kibana.DiscoverMargin), to.Add(kibana.DiscoverMargin))
}
