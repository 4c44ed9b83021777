package slo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func dashboard(t *testing.T) (*Dashboard, []byte) {
	t.Helper()
	d := GrafanaDashboard(mustParse(t, "availability=99.9", "latency=250ms@99"))
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return d, b
}

func TestGrafanaDashboardParses(t *testing.T) {
	_, b := dashboard(t)
	var d Dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the dashboard JSON does not decode into the typed model: %v", err)
	}
	if d.UID != GrafanaUID || d.SchemaVersion < 36 {
		t.Errorf("got uid %q schemaVersion %d", d.UID, d.SchemaVersion)
	}
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v := vars["datasource"]; v.Type != "datasource" || v.Query != "prometheus" {
		t.Errorf("got datasource variable %+v", v)
	}
	if v := vars["service"]; v.Type != "query" || !v.Multi || !v.IncludeAll || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
		t.Errorf("got service variable %+v", v)
	}
	ids := map[int]bool{}
	var latency, exemplars, budgets int
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel ID %d repeated", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: no templated data source or no query", p.Title)
		}
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, `service_name=~"$service"`) {
				t.Errorf("panel %q: query ignores the service variable: %s", p.Title, tg.Expr)
			}
			if strings.Contains(tg.Expr, "histogram_quantile") {
				latency++
				if tg.Exemplar {
					exemplars++
				}
			}
		}
		if strings.HasPrefix(p.Title, "Error budget left") {
			budgets++
		}
		if p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q leaves the grid: %+v", p.Title, p.GridPos)
		}
	}
	if latency != 3 || exemplars != latency {
		t.Errorf("got %d latency queries, %d with exemplars; want 3, all with exemplars", latency, exemplars)
	}
	if budgets != 2 {
		t.Errorf("got %d error-budget panels, want one per SLO (2)", budgets)
	}
}

func TestGrafanaQueriesUseOnlyTheContract(t *testing.T) {
	d, _ := dashboard(t)
	if err := CheckMetrics(d, Metrics()); err != nil {
		t.Error(err)
	}
	// A service that exposes only HTTP metrics: every gRPC query is named.
	var httpOnly []string
	for _, m := range Metrics() {
		if !strings.HasPrefix(m, RPCDuration) {
			httpOnly = append(httpOnly, m)
		}
	}
	err := CheckMetrics(d, httpOnly)
	if err == nil || !strings.Contains(err.Error(), "metric "+RPCDuration+"_bucket is not exposed") ||
		!strings.Contains(err.Error(), "variable service") {
		t.Errorf("got %v, want the gRPC queries named", err)
	}
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (service_name, le) (rate(a_bucket{x="y",le=~"0.25"}[$__rate_interval]))`, []string{"a_bucket"}},
		{`histogram_quantile(0.95, sum without (job) (rate(b[5m] offset 1h)))`, []string{"b"}},
		{`(x or 0 * y) / on (service_name) group_left (route) z`, []string{"x", "y", "z"}},
		{`label_values({__name__=~"m1|m2"}, service_name)`, []string{"m1", "m2"}},
		{`{__name__="only"}`, []string{"only"}},
		{`rate(c{l="sum(fake) {x}"}[1m]) > 1e3`, []string{"c"}},
		{`glassbox:slo_requests:rate5m{service_name="$service"}`, []string{"glassbox:slo_requests:rate5m"}},
	} {
		got, err := MetricNames(tc.expr)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MetricNames(%s): got %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{__name__=~"a.*"}`, `x{l="open`, `rate(x[5m)`, `{__name__!="x"}`} {
		if got, err := MetricNames(bad); err == nil {
			t.Errorf("MetricNames(%s): got %v, want an error", bad, got)
		}
	}
}

// TestGrafanaQueriesParse runs every panel query, with the dashboard
// variables filled in, through Prometheus's own parser (promtool check
// rules).
func TestGrafanaQueriesParse(t *testing.T) {
	promtool(t)
	d, _ := dashboard(t)
	fill := strings.NewReplacer("$__rate_interval", "5m", "$service", ".*")
	var rules []any
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			rules = append(rules, yamlMap{
				{"record", fmt.Sprintf("panel_%d_%s", p.ID, tg.RefID)},
				{"expr", fill.Replace(tg.Expr)},
			})
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "panels.yml")
	if err := os.WriteFile(file, []byte(writeYAML(yamlMap{{"groups", []any{yamlMap{{"name", "panels"}, {"rules", rules}}}}})), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runPromtool(t, "check", "rules", file)
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(rules)); !strings.Contains(out, want) {
		t.Errorf("got %q, want %q", out, want)
	}
}
