package slo

import (
	"fmt"
	"strings"
)

// layout appends panels to a dashboard, three to a row.
type layout struct {
	d    *Dashboard
	x, y int
	id   int
}

func (l *layout) next() int { l.id++; return l.id }

func (l *layout) row(title string) {
	if l.x > 0 {
		l.x, l.y = 0, l.y+8
	}
	l.d.Panels = append(l.d.Panels, Panel{ID: l.next(), Type: "row", Title: title, GridPos: GridPos{X: 0, Y: l.y, W: 24, H: 1}})
	l.y++
}

func (l *layout) panel(p Panel, unit string, min, max *float64) {
	if l.x+8 > 24 {
		l.x, l.y = 0, l.y+8
	}
	p.ID = l.next()
	p.GridPos = GridPos{X: l.x, Y: l.y, W: 8, H: 8}
	p.Datasource = promDS()
	p.FieldConfig = &FieldConfig{Defaults: FieldDefaults{Unit: unit, Min: min, Max: max}, Overrides: []any{}}
	for i := range p.Targets {
		p.Targets[i].RefID = string(rune('A' + i))
		p.Targets[i].Datasource = promDS()
		if !p.Targets[i].Instant {
			p.Targets[i].Range = true
		}
	}
	l.d.Panels = append(l.d.Panels, p)
	l.x += 8
}

func ptr(f float64) *float64 { return &f }

// either joins the HTTP and gRPC forms of a selector with "or"; a form is
// left out when its metric is "".
func either(httpM, rpcM string, f func(metric string) string) string {
	var parts []string
	if httpM != "" {
		parts = append(parts, f(httpM))
	}
	if rpcM != "" {
		parts = append(parts, f(rpcM))
	}
	return strings.Join(parts, " or ")
}

// redPanels adds request rate, error ratio and p95 latency grouped by
// "by", over the HTTP and/or gRPC count metrics given.
func (l *layout) redPanels(by, legend, httpCount, rpcCount string, both bool) {
	win := "$__rate_interval"
	total := fmt.Sprintf("sum by (%s) (%s)", by, either(httpCount, rpcCount, func(m string) string { return rateOf(m, "", win) }))
	bad := fmt.Sprintf("sum by (%s) (%s)", by, either(httpCount, rpcCount, func(m string) string {
		if m == httpCount {
			return rateOf(m, LabelHTTPStatus+`=~"`+failedHTTPRegex+`"`, win)
		}
		return rateOf(m, LabelRPCStatus+`=~"`+failedGRPCRegex()+`"`, win)
	}))
	bucket := func(m string) string { return strings.TrimSuffix(m, "_count") + "_bucket" }
	var hb, rb string
	if httpCount != "" {
		hb = bucket(httpCount)
	}
	if rpcCount != "" {
		rb = bucket(rpcCount)
	}
	lat := fmt.Sprintf("histogram_quantile(0.95, sum by (%s, le) (%s))", by, either(hb, rb, func(m string) string { return rateOf(m, "", win) }))
	what := "requests"
	if !both && httpCount == "" {
		what = "calls"
	}
	l.panel(Panel{Type: "timeseries", Title: "Rate: " + what + " per second",
		Description: "Served " + what + " per second.",
		Targets:     []Target{{Expr: total, LegendFormat: legend}}}, "reqps", ptr(0), nil)
	l.panel(Panel{Type: "timeseries", Title: "Errors: share of failed " + what,
		Description: "HTTP 5xx and the gRPC codes Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss: the availability SLO's failures.",
		Targets:     []Target{{Expr: fmt.Sprintf("(%s or 0 * %s) / %s", bad, total, total), LegendFormat: legend}}}, "percentunit", ptr(0), nil)
	l.panel(Panel{Type: "timeseries", Title: "Duration: p95 latency",
		Description: "95th percentile. Exemplars (dots) carry the trace ID of a sampled request: open it with glassbox trace <id>.",
		Targets:     []Target{{Expr: lat, LegendFormat: legend, Exemplar: true}}}, "s", ptr(0), nil)
}

// sloPanels adds the error budget left over 30 days and the 1h burn rate
// of one SLO.
func (l *layout) sloPanels(o SLO) {
	ratio := func(window string) string {
		total := fmt.Sprintf("sum by (%s) (%s or %s)", LabelService,
			rateOf(HTTPDuration+"_count", "", window), rateOf(RPCDuration+"_count", "", window))
		if o.Kind == Availability {
			bad := fmt.Sprintf("sum by (%s) (%s or %s)", LabelService,
				rateOf(HTTPDuration+"_count", LabelHTTPStatus+`=~"`+failedHTTPRegex+`"`, window),
				rateOf(RPCDuration+"_count", LabelRPCStatus+`=~"`+failedGRPCRegex()+`"`, window))
			return fmt.Sprintf("((%s or 0 * %s) / %s)", bad, total, total)
		}
		le := leMatcher(o.Threshold)
		good := fmt.Sprintf("sum by (%s) (%s or %s)", LabelService,
			rateOf(HTTPDuration+"_bucket", le, window), rateOf(RPCDuration+"_bucket", le, window))
		return fmt.Sprintf("(1 - (%s or 0 * %s) / %s)", good, total, total)
	}
	budget := fmtNumber(o.Budget())
	l.panel(Panel{Type: "stat", Title: "Error budget left: " + o.String(),
		Description: "Share of the 30-day error budget not yet spent: 1 - (error ratio over 30 days) / " + budget + ".",
		Targets:     []Target{{Expr: fmt.Sprintf("1 - %s / %s", ratio("30d"), budget), LegendFormat: "{{service_name}}", Instant: true}}},
		"percentunit", nil, ptr(1))
	l.panel(Panel{Type: "timeseries", Title: "Burn rate (1h): " + o.String(),
		Description: "How many times faster than sustainable the budget is spent; the 1h alert pages above 14.4.",
		Targets:     []Target{{Expr: fmt.Sprintf("%s / %s", ratio("1h"), budget), LegendFormat: "{{service_name}}"}}},
		"none", ptr(0), nil)
}
