package kibana

// SearchColumns returns the columns of the saved search "Request by
// correlation ID", which Discover links (DiscoverURL) show too: after the
// time column Discover always shows, the service, the level, the message,
// the route, the status, the trace ID and the Sentry event ID.
func SearchColumns() []string {
	return []string{
		"service.name",
		"log.level",
		"message",
		"http.route",
		"http.response.status_code",
		"trace.id",
		"error.id",
	}
}
