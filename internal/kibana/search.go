package kibana

// CorrelationSearchID is the ID of the saved search "Request by
// correlation ID".
const CorrelationSearchID = "glassbox-request-by-correlation-id"

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

// searchIndexRef is the reference name a saved search's searchSourceJSON
// names its data view by.
const searchIndexRef = "kibanaSavedObjectMeta.searchSourceJSON.index"

// correlationSearch is the saved search an on-call engineer opens with an
// ID: every log record of every service, oldest first. Its query,
// correlation.id:*, is the one to replace by correlation.id:"<id>".
func correlationSearch() SavedObject {
	cols := SearchColumns()
	columns := make([]any, len(cols))
	for i, c := range cols {
		columns[i] = c
	}
	return newObject(TypeSearch, CorrelationSearchID, map[string]any{
		"title": "Request by correlation ID",
		"description": `Every log record of one request, across services, oldest first. ` +
			`Replace the query by correlation.id:"<id>" with the ID from a response header, a Sentry event or an alert.`,
		"columns":          columns,
		"sort":             []any{[]any{TimeField, "asc"}},
		"grid":             map[string]any{},
		"hideChart":        false,
		"isTextBasedQuery": false,
		"timeRestore":      false,
		"kibanaSavedObjectMeta": map[string]any{
			"searchSourceJSON": jsonString(map[string]any{
				"query":        map[string]any{"query": "correlation.id:*", "language": "kuery"},
				"filter":       []any{},
				"highlightAll": true,
				"version":      true,
				"indexRefName": searchIndexRef,
			}),
		},
	}, Reference{Type: TypeDataView, ID: LogsDataViewID, Name: searchIndexRef})
}
