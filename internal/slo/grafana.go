package slo

import (
	"encoding/json"
	"fmt"
)

// Dashboard is the part of Grafana's dashboard JSON model that glassbox
// writes (schemaVersion 39, Grafana 10 and later).
type Dashboard struct {
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Tags          []string   `json:"tags"`
	Editable      bool       `json:"editable"`
	SchemaVersion int        `json:"schemaVersion"`
	Version       int        `json:"version"`
	Refresh       string     `json:"refresh"`
	Time          TimeRange  `json:"time"`
	Templating    Templating `json:"templating"`
	Panels        []Panel    `json:"panels"`
}

// TimeRange is the dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the dashboard's variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a dashboard variable: the data source, or a label's values.
type Variable struct {
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Type        string         `json:"type"` // "datasource" or "query"
	Query       string         `json:"query"`
	Definition  string         `json:"definition,omitempty"`
	Datasource  *DatasourceRef `json:"datasource,omitempty"`
	Refresh     int            `json:"refresh"`
	IncludeAll  bool           `json:"includeAll"`
	Multi       bool           `json:"multi"`
	AllValue    string         `json:"allValue,omitempty"`
	Sort        int            `json:"sort"`
	Description string         `json:"description,omitempty"`
}

// DatasourceRef names a data source; "${datasource}" is the variable.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is a row or a visualization.
type Panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"` // row, timeseries, stat
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	GridPos     GridPos        `json:"gridPos"`
	Datasource  *DatasourceRef `json:"datasource,omitempty"`
	Targets     []Target       `json:"targets,omitempty"`
	FieldConfig *FieldConfig   `json:"fieldConfig,omitempty"`
	Collapsed   bool           `json:"collapsed,omitempty"`
	Panels      []Panel        `json:"panels,omitempty"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Target is one PromQL query of a panel.
type Target struct {
	RefID        string         `json:"refId"`
	Expr         string         `json:"expr"`
	LegendFormat string         `json:"legendFormat"`
	Exemplar     bool           `json:"exemplar"`
	Range        bool           `json:"range"`
	Instant      bool           `json:"instant"`
	Datasource   *DatasourceRef `json:"datasource"`
}

// FieldConfig sets a panel's unit and bounds.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []any         `json:"overrides"`
}

// FieldDefaults is the default field configuration.
type FieldDefaults struct {
	Unit string   `json:"unit"`
	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
}

// JSON returns the dashboard as Grafana imports it.
func (d *Dashboard) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// GrafanaUID is the dashboard's fixed UID: a second import replaces the
// first.
const GrafanaUID = "glassbox-red"

// promDS references the Prometheus data source the dashboard's
// datasource variable selects.
func promDS() *DatasourceRef { return &DatasourceRef{Type: "prometheus", UID: "${datasource}"} }

// svcSel selects the services of the $service variable.
const svcSel = LabelService + `=~"$service"`

// rateOf is rate(<metric>{$service,<extra>}[$__rate_interval]).
func rateOf(metric, extra, window string) string {
	m := svcSel
	if extra != "" {
		m += "," + extra
	}
	return fmt.Sprintf("rate(%s{%s}[%s])", metric, m, window)
}

// GrafanaDashboard returns the RED dashboard: request rate, error ratio
// and p95 latency per service, per HTTP route and per gRPC method (the
// latency panels with exemplars, which lead to a trace ID), and for each
// SLO the error budget left over 30 days and the 1h burn rate. Its
// variables are the Prometheus data source and the services.
func GrafanaDashboard(slos []SLO) *Dashboard {
	d := &Dashboard{
		UID:   GrafanaUID,
		Title: "glassbox: RED and SLOs",
		Description: "Rate, errors and duration per service, route and gRPC method, from glassbox's " +
			"middleware metrics; error budgets of the SLOs given to glassbox setup grafana.",
		Tags:          []string{"glassbox", "red", "slo"},
		Editable:      true,
		SchemaVersion: 39,
		Version:       1,
		Refresh:       "1m",
		Time:          TimeRange{From: "now-6h", To: "now"},
		Templating: Templating{List: []Variable{
			{Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus"},
			{
				Name: "service", Label: "Service", Type: "query", Datasource: promDS(),
				Query:   fmt.Sprintf(`label_values({__name__=~"%s_count|%s_count"}, %s)`, HTTPDuration, RPCDuration, LabelService),
				Refresh: 2, IncludeAll: true, Multi: true, AllValue: ".*", Sort: 1,
				Description: "service.name of the instrumented services",
			},
		}},
	}
	d.fillDefinitions()
	l := &layout{d: d}
	l.row("Services")
	l.redPanels(LabelService, "{{service_name}}", HTTPDuration+"_count", RPCDuration+"_count", true)
	l.row("HTTP routes")
	l.redPanels(LabelService+", "+LabelHTTPRoute, "{{service_name}} {{http_route}}", HTTPDuration+"_count", "", false)
	l.row("gRPC methods")
	l.redPanels(LabelService+", "+LabelRPCMethod, "{{service_name}} {{rpc_method}}", "", RPCDuration+"_count", false)
	if len(slos) > 0 {
		l.row("SLOs (30-day error budget)")
		for _, o := range slos {
			l.sloPanels(o)
		}
	}
	return d
}

// fillDefinitions copies each query variable's query into its definition, as
// Grafana's editor does.
func (d *Dashboard) fillDefinitions() {
	for i := range d.Templating.List {
		if d.Templating.List[i].Type == "query" {
			d.Templating.List[i].Definition = d.Templating.List[i].Query
		}
	}
}
