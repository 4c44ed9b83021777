package kibana

import (
	"strconv"

	"github.com/glassbox-obs/glassbox/internal/slo"
)

// AccessLogQuery selects the access-log records the middleware writes, one
// per served HTTP request or gRPC call (not the records handlers log, nor
// a client's "outgoing call completed").
const AccessLogQuery = slo.RequestsKQL

// FailedRequestQuery selects the access-log records of failed requests:
// the failures the Prometheus availability SLO counts (slo.FailedKQL).
func FailedRequestQuery() string {
	return AccessLogQuery + " and (" + slo.FailedKQL() + ")"
}

// lensPanel is a Lens visualization on the logs data view with one layer.
type lensPanel struct {
	id, title, description string
	visType                string // lnsXY, lnsDatatable, ...
	layer                  string // layer ID
	columns                []lensColumn
	visualization          map[string]any
	w, h                   int // size on the dashboard grid (48 columns wide)
}

// lensColumn is a formBased layer column.
type lensColumn struct {
	id  string
	def map[string]any
}

// layerRef is the name under which a Lens object references the data
// view of one formBased layer.
func layerRef(layer string) string { return "indexpattern-datasource-layer-" + layer }

// SourceFields returns the fields the panel's columns read.
func (p *lensPanel) sourceFields() []string {
	var out []string
	for _, c := range p.columns {
		if f, _ := c.def["sourceField"].(string); f != "" && f != "___records___" {
			out = append(out, f)
		}
	}
	return out
}

func (p *lensPanel) object() SavedObject {
	cols := map[string]any{}
	order := make([]any, 0, len(p.columns))
	for _, c := range p.columns {
		cols[c.id] = c.def
		order = append(order, c.id)
	}
	state := map[string]any{
		"datasourceStates": map[string]any{
			"formBased": map[string]any{
				"layers": map[string]any{
					p.layer: map[string]any{
						"columns":           cols,
						"columnOrder":       order,
						"incompleteColumns": map[string]any{},
					},
				},
			},
		},
		"visualization":      p.visualization,
		"query":              map[string]any{"query": "", "language": "kuery"},
		"filters":            []any{},
		"internalReferences": []any{},
		"adHocDataViews":     map[string]any{},
	}
	return newObject(TypeLens, p.id, map[string]any{
		"title":             p.title,
		"description":       p.description,
		"visualizationType": p.visType,
		"state":             state,
	}, Reference{Type: TypeDataView, ID: LogsDataViewID, Name: layerRef(p.layer)})
}

func dateHistogram() map[string]any {
	return map[string]any{
		"label": TimeField, "dataType": "date", "operationType": "date_histogram",
		"sourceField": TimeField, "isBucketed": true, "scale": "interval",
		"params": map[string]any{"interval": "auto", "includeEmptyRows": true, "dropPartials": false},
	}
}

func topValues(field string, size int, orderBy string) map[string]any {
	return map[string]any{
		"label": "Top " + strconv.Itoa(size) + " values of " + field, "dataType": "string",
		"operationType": "terms", "sourceField": field, "isBucketed": true, "scale": "ordinal",
		"params": map[string]any{
			"size":           size,
			"orderBy":        map[string]any{"type": "column", "columnId": orderBy},
			"orderDirection": "desc",
			"otherBucket":    true,
			"missingBucket":  false,
			"parentFormat":   map[string]any{"id": "terms"},
		},
	}
}

func countOf(label, kql string) map[string]any {
	return map[string]any{
		"label": label, "customLabel": true, "dataType": "number", "operationType": "count",
		"sourceField": "___records___", "isBucketed": false, "scale": "ratio",
		"filter": map[string]any{"language": "kuery", "query": kql},
		"params": map[string]any{"emptyAsNull": false},
	}
}

func percentileOf(label, field string, pct int, kql string) map[string]any {
	return map[string]any{
		"label": label, "customLabel": true, "dataType": "number", "operationType": "percentile",
		"sourceField": field, "isBucketed": false, "scale": "ratio",
		"filter": map[string]any{"language": "kuery", "query": kql},
		"params": map[string]any{"percentile": pct},
	}
}

func xyLine(layer, x, split string, ys ...string) map[string]any {
	acc := make([]any, len(ys))
	for i, y := range ys {
		acc[i] = y
	}
	l := map[string]any{
		"layerId": layer, "layerType": "data", "seriesType": "line",
		"xAccessor": x, "accessors": acc,
	}
	if split != "" {
		l["splitAccessor"] = split
	}
	return map[string]any{
		"legend":              map[string]any{"isVisible": true, "position": "right"},
		"valueLabels":         "hide",
		"fittingFunction":     "None",
		"preferredSeriesType": "line",
		"layers":              []any{l},
	}
}

// lensPanels returns the dashboard's Lens visualizations.
func lensPanels() []*lensPanel {
	return []*lensPanel{
		{
			id: "glassbox-lens-requests-errors", title: "Requests and errors per service",
			description: "Served HTTP requests and gRPC calls per service, and the failed ones " +
				"(HTTP 5xx, gRPC Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss).",
			visType: "lnsXY", layer: "requests", w: 24, h: 15,
			columns: []lensColumn{
				{"service", topValues("service.name", 10, "requests")},
				{"time", dateHistogram()},
				{"requests", countOf("Requests", AccessLogQuery)},
				{"errors", countOf("Errors", FailedRequestQuery())},
			},
			visualization: xyLine("requests", "time", "service", "requests", "errors"),
		},
		{
			id: "glassbox-lens-latency-route", title: "p95 latency per HTTP route",
			description: "95th percentile of event.duration of the access-log records, per http.route.",
			visType:     "lnsXY", layer: "latency", w: 24, h: 15,
			columns: []lensColumn{
				{"route", topValues("http.route", 10, "p95")},
				{"time", dateHistogram()},
				{"p95", percentileOf("p95 latency", "event.duration", 95, AccessLogQuery+" and http.route:*")},
			},
			visualization: xyLine("latency", "time", "route", "p95"),
		},
		{
			id: "glassbox-lens-latency-rpc", title: "p95 latency per gRPC method",
			description: "95th percentile of event.duration of the gRPC access-log records, per rpc.method.",
			visType:     "lnsXY", layer: "rpclatency", w: 24, h: 15,
			columns: []lensColumn{
				{"method", topValues("rpc.method", 10, "p95")},
				{"time", dateHistogram()},
				{"p95", percentileOf("p95 latency", "event.duration", 95, AccessLogQuery+" and rpc.method:*")},
			},
			visualization: xyLine("rpclatency", "time", "method", "p95"),
		},
		{
			id: "glassbox-lens-error-types", title: "Top error types",
			description: "The most frequent error.type of the log records that carry one.",
			visType:     "lnsDatatable", layer: "errortypes", w: 24, h: 15,
			columns: []lensColumn{
				{"type", topValues("error.type", 20, "count")},
				{"count", countOf("Records", "error.type:*")},
			},
			visualization: map[string]any{
				"layerId": "errortypes", "layerType": "data",
				"columns": []any{
					map[string]any{"columnId": "type", "isTransposed": false},
					map[string]any{"columnId": "count", "isTransposed": false},
				},
			},
		},
	}
}
