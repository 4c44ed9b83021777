// Package kibana holds what glassbox writes for Kibana: the saved objects
// that `glassbox setup kibana` imports (data views for the logs-*-* and
// traces-*-* data streams, the saved search "Request by correlation ID",
// a dashboard of Lens panels), the client of Kibana's saved-objects import
// API, and the Discover links that Sentry events and `glassbox trace`
// print.
//
// The link most callers need:
//
//	link := kibana.DiscoverURL(kibanaURL, kibana.LogsDataViewID, correlationID, from, to)
//
// Objects are in the format of Kibana 8.13 (MinKibanaVersion) and import
// into every later 8.x release.
package kibana
