package sentry

import (
	"time"

	"github.com/glassbox-obs/glassbox/internal/kibana"
)

// The window of an event's Discover link: the request's logs come before
// the event (long requests, retries), a few after it (the access record,
// what the client did next).
const (
	linkBefore = time.Hour
	linkAfter  = 15 * time.Minute
)

// discoverLink returns the Kibana Discover link (base: Kibana's URL) that
// shows the logs of correlation ID id in glassbox's logs data view, from
// linkBefore before t to linkAfter after it, or "" without a base or an
// ID. Any ID is safe in it (kibana.DiscoverURL quotes it for KQL, rison
// and the URL); the events carry only IDs trace.ValidCorrelationID
// accepts.
func discoverLink(base, id string, t time.Time) string {
	if base == "" || id == "" {
		return ""
	}
	return kibana.DiscoverURL(base, kibana.LogsDataViewID, id, t.Add(-linkBefore), t.Add(linkAfter))
}
