package kibana

// IDs of glassbox's data views. They are fixed so that links (DiscoverURL)
// and the other saved objects can name them.
const (
	LogsDataViewID   = "glassbox-logs"
	TracesDataViewID = "glassbox-traces"
)

// TimeField is the time field of both data views.
const TimeField = "@timestamp"
