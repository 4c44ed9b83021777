package prometheus_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	promclient "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/internal/slo"
)

// scrape fetches the metrics as Prometheus does, with the Accept header
// given.
func scrape(t *testing.T, url, accept string) (body, contentType string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, b)
	}
	return string(b), resp.Header.Get("Content-Type")
}

// seriesNames returns the names of the series of an exposition.
func seriesNames(body string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		seen[name] = true
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// TestScrapeServesTheSLOContract: after HTTP and gRPC traffic, the
// exposition has every metric and label the generated rules and
// dashboard query (internal/slo), and every query of the dashboard finds
// its metric in the scrape.
func TestScrapeServesTheSLOContract(t *testing.T) {
	s := newService(t)
	for _, p := range []string{"/orders/1", "/orders/2", "/fail", "/no/such/path"} {
		s.get(t, p)
	}
	for _, c := range []codes.Code{codes.OK, codes.Unavailable, codes.NotFound} {
		_ = s.call(c)
	}
	body, ctype := scrape(t, s.metrics.URL, "text/plain;version=0.0.4")
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("got content type %q, want the text format", ctype)
	}
	names := seriesNames(body)
	for _, m := range slo.Metrics() {
		if !slices.Contains(names, m) {
			t.Errorf("metric %s of the contract is not exposed", m)
		}
	}
	d := slo.GrafanaDashboard([]slo.SLO{{Kind: slo.Availability, Objective: 99.9}, {Kind: slo.Latency, Objective: 99, Threshold: slo.Buckets()[6]}})
	if err := slo.CheckMetrics(d, names); err != nil {
		t.Errorf("the dashboard queries what the service does not expose: %v", err)
	}

	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	find := func(family string, want map[string]string) {
		t.Helper()
		for _, m := range families[family].GetMetric() {
			l := labelsOf(m)
			ok := true
			for k, v := range want {
				if l[k] != v {
					ok = false
				}
			}
			if ok {
				return
			}
		}
		t.Errorf("%s: no series with %v in\n%s", family, want, body)
	}
	find(slo.HTTPDuration, map[string]string{slo.LabelService: "checkout", slo.LabelHTTPMethod: "GET",
		slo.LabelHTTPRoute: "/orders/{id}", slo.LabelHTTPStatus: "200"})
	find(slo.HTTPDuration, map[string]string{slo.LabelService: "checkout", slo.LabelHTTPRoute: "/fail",
		slo.LabelHTTPStatus: "503", slo.LabelErrorType: "503"})
	find(slo.RPCDuration, map[string]string{slo.LabelService: "checkout", slo.LabelRPCSystem: "grpc",
		slo.LabelRPCMethod: "shop.Orders/Get", slo.LabelRPCStatus: "UNAVAILABLE"})
	find(slo.RPCDuration, map[string]string{slo.LabelRPCMethod: "shop.Orders/Get", slo.LabelRPCStatus: "OK"})
	if strings.Contains(body, "/no/such/path") {
		t.Error("a raw path reached the exposition")
	}
	// The exporter's registry is its own: nothing reached the global one.
	global, err := promclient.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "http_") || strings.HasPrefix(f.GetName(), "rpc_") {
			t.Errorf("%s is on the global default registry", f.GetName())
		}
	}
}

// TestOpenMetricsCarriesExemplars: asked for OpenMetrics, as Prometheus
// asks, the handler writes the latency buckets' exemplars with the trace
// ID, the span ID and the correlation ID the request came with.
func TestOpenMetricsCarriesExemplars(t *testing.T) {
	s := newService(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	s.get(t, "/orders/1", "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01", "X-Correlation-ID", "order-42")
	body, ctype := scrape(t, s.metrics.URL, "application/openmetrics-text;version=1.0.0")
	if !strings.HasPrefix(ctype, "application/openmetrics-text") {
		t.Fatalf("got content type %q, want OpenMetrics", ctype)
	}
	ex := regexp.MustCompile(`(?m)^http_server_request_duration_seconds_bucket\{[^}]*http_route="/orders/\{id\}"[^}]*\} \d+ # \{([^}]*)\}`)
	m := ex.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no exemplar on the route's buckets:\n%s", body)
	}
	for _, want := range []string{`trace_id="` + traceID + `"`, `span_id="`, `correlation_id="order-42"`} {
		if !strings.Contains(m[1], want) {
			t.Errorf("exemplar {%s}: want %s", m[1], want)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(body), "# EOF") {
		t.Error("the OpenMetrics exposition does not end in # EOF")
	}
}
