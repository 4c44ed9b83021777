package kibana

// IDs of glassbox's data views. They are fixed so that links (DiscoverURL)
// and the other saved objects can name them.
const (
	LogsDataViewID   = "glassbox-logs"
	TracesDataViewID = "glassbox-traces"
)

// Index patterns of the data views: every logs-<dataset>-<namespace> and
// traces-<dataset>-<namespace> data stream, the patterns of glassbox's
// index templates.
const (
	LogsIndexPattern   = "logs-*-*"
	TracesIndexPattern = "traces-*-*"
)

// TimeField is the time field of both data views.
const TimeField = "@timestamp"

func logsDataView() SavedObject {
	return dataView(LogsDataViewID, LogsIndexPattern, "glassbox logs")
}

func tracesDataView() SavedObject {
	return dataView(TracesDataViewID, TracesIndexPattern, "glassbox traces")
}

// dataView is an index-pattern object. event.duration, which glassbox
// writes in nanoseconds, is shown as a duration.
func dataView(id, pattern, name string) SavedObject {
	return newObject(TypeDataView, id, map[string]any{
		"title":         pattern,
		"name":          name,
		"timeFieldName": TimeField,
		"allowNoIndex":  true,
		"fields":        "[]",
		"fieldAttrs":    "{}",
		"fieldFormatMap": jsonString(map[string]any{
			"event.duration": map[string]any{
				"id": "duration",
				"params": map[string]any{
					"inputFormat":     "nanoseconds",
					"outputFormat":    "humanizePrecise",
					"outputPrecision": 2,
				},
			},
		}),
		"runtimeFieldMap": "{}",
		"sourceFilters":   "[]",
		"typeMeta":        "{}",
	})
}
