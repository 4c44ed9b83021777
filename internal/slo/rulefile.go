package slo

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Rule is one Prometheus recording or alerting rule.
type Rule struct {
	Record      string
	Alert       string
	Expr        string
	Labels      map[string]string
	Annotations map[string]string
}

// RuleGroup is a named list of rules evaluated in order: a recording rule
// can use the series an earlier one of the group recorded in the same
// evaluation.
type RuleGroup struct {
	Name  string
	Rules []Rule
}

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup
}

// Rules returns the recording rules (request rate and error ratios per
// service over 5m, 30m, 1h, 6h and 3d) and, for each SLO, the three
// burn-rate alerts of BurnWindows. The error budget is the one of a
// 30-day period: a 14.4x burn spends 2% of it in an hour.
func Rules(slos []SLO, opts Options) (*RuleFile, error) {
	if len(slos) == 0 {
		return nil, fmt.Errorf("no SLO given")
	}
	seen := map[string]bool{}
	for _, o := range slos {
		key := string(o.Kind) + "/" + o.Threshold.String()
		if seen[key] {
			return nil, fmt.Errorf("SLO %s given twice", o)
		}
		seen[key] = true
	}
	// One group: its rules run in order at each evaluation, so the alerts
	// read the ratios recorded a moment before, never stale ones.
	sel := opts.selector()
	g := RuleGroup{Name: "glassbox-slo" + opts.groupSuffix()}
	for _, w := range windows() {
		ws := promDuration(w)
		g.Rules = append(g.Rules, Rule{Record: recRequests + ws, Expr: requestsExpr(sel, w)})
		for _, o := range slos {
			g.Rules = append(g.Rules, o.recordingRule(sel, w))
		}
	}
	for _, o := range slos {
		for _, bw := range BurnWindows() {
			g.Rules = append(g.Rules, o.alertRule(sel, bw))
		}
	}
	return &RuleFile{Groups: []RuleGroup{g}}, nil
}

func requestsExpr(sel string, w time.Duration) string {
	ws := promDuration(w)
	return fmt.Sprintf("sum by (%s) (\n    rate(%s_count%s[%s])\n  or\n    rate(%s_count%s[%s])\n)",
		LabelService, HTTPDuration, braces(sel), ws, RPCDuration, braces(sel), ws)
}

// seriesLabels are the labels an SLO's recorded ratio carries.
func (o SLO) seriesLabels() map[string]string {
	l := map[string]string{"slo": string(o.Kind)}
	if o.Kind == Latency {
		l["threshold"] = secondsString(o.Threshold)
	}
	return l
}

func (o SLO) recordingRule(sel string, w time.Duration) Rule {
	ws := promDuration(w)
	req := recRequests + ws + braces(sel)
	var good, name string
	switch o.Kind {
	case Availability:
		name = recAvailability + ws
		bad := fmt.Sprintf("sum by (%s) (\n      rate(%s_count{%s%s=~%q}[%s])\n    or\n      rate(%s_count{%s%s=~%q}[%s])\n  )",
			LabelService, HTTPDuration, sel, LabelHTTPStatus, failedHTTPRegex, ws,
			RPCDuration, sel, LabelRPCStatus, failedGRPCRegex(), ws)
		return Rule{Record: name, Labels: o.seriesLabels(),
			Expr: fmt.Sprintf("(\n  %s\n  or\n  0 * %s\n)\n/\n%s", bad, req, req)}
	default:
		name = recLatency + ws
		le := leMatcher(o.Threshold)
		good = fmt.Sprintf("sum by (%s) (\n        rate(%s_bucket{%s%s}[%s])\n      or\n        rate(%s_bucket{%s%s}[%s])\n    )",
			LabelService, HTTPDuration, sel, le, ws, RPCDuration, sel, le, ws)
		return Rule{Record: name, Labels: o.seriesLabels(),
			Expr: fmt.Sprintf("1 - (\n  (\n    %s\n    or\n    0 * %s\n  )\n  /\n  %s\n)", good, req, req)}
	}
}

func (o SLO) alertRule(sel string, bw BurnWindow) Rule {
	rec := recAvailability
	what, kql := "failed", RequestsKQL+" and ("+FailedKQL()+")"
	if o.Kind == Latency {
		rec = recLatency
		what = "took longer than " + secondsString(o.Threshold) + "s"
		kql = RequestsKQL + " and " + SlowKQL(o.Threshold)
	}
	m := sel
	for _, k := range sortedKeys(o.seriesLabels()) {
		m += k + "=" + promString(o.seriesLabels()[k]) + ","
	}
	limit := fmt.Sprintf("(%s * %s)", fmtNumber(bw.Burn), fmtNumber(o.Budget()))
	long, short := promDuration(bw.Long), promDuration(bw.Short)
	expr := fmt.Sprintf("%s%s%s > %s\nand\n%s%s%s > %s", rec, long, braces(m), limit, rec, short, braces(m), limit)
	exhaust := time.Duration(float64(30*24*time.Hour) / bw.Burn)
	svc := "{{ $labels." + LabelService + " }}"
	labels := o.seriesLabels()
	labels["severity"] = bw.Severity
	labels["burn_rate"] = fmtNumber(bw.Burn)
	labels["window"] = long + "/" + short
	return Rule{
		Alert:  AlertName(o.Kind, bw),
		Expr:   expr,
		Labels: labels,
		Annotations: map[string]string{
			"summary": fmt.Sprintf("%s is spending its %s error budget %sx too fast (%s and %s windows)",
				svc, o.Kind, fmtNumber(bw.Burn), long, short),
			"description": fmt.Sprintf("Over the last %s, {{ $value | humanizePercentage }} of the requests of %s %s; "+
				"the SLO (%s%%) allows %s%%. At this rate the 30-day error budget lasts %s.",
				long, svc, what, fmtNumber(o.Objective), fmtNumber(o.Budget()*100), humanDays(exhaust)),
			"kibana_query": `service.name:"` + svc + `" and ` + kql,
			"trace_command": "glassbox trace <correlation.id of a record the kibana_query finds> " +
				"(the whole story of that request: spans and logs across services)",
		},
	}
}

func humanDays(d time.Duration) string {
	days := d.Hours() / 24
	if days < 1 {
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%s days", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", days), "0"), "."))
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// YAML returns the rule file in Prometheus's format.
func (f *RuleFile) YAML() string {
	var groups []any
	for _, g := range f.Groups {
		var rules []any
		for _, r := range g.Rules {
			var m yamlMap
			if r.Record != "" {
				m = append(m, yamlKV{"record", r.Record})
			} else {
				m = append(m, yamlKV{"alert", r.Alert})
			}
			m = append(m, yamlKV{"expr", r.Expr})
			if len(r.Labels) > 0 {
				m = append(m, yamlKV{"labels", stringMap(r.Labels)})
			}
			if len(r.Annotations) > 0 {
				m = append(m, yamlKV{"annotations", stringMap(r.Annotations)})
			}
			rules = append(rules, m)
		}
		groups = append(groups, yamlMap{{"name", g.Name}, {"rules", rules}})
	}
	return writeYAML(yamlMap{{"groups", groups}})
}

func stringMap(m map[string]string) yamlMap {
	var out yamlMap
	for _, k := range sortedKeys(m) {
		out = append(out, yamlKV{k, m[k]})
	}
	return out
}
