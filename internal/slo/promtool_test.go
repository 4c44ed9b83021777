package slo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// promtool returns the path of Prometheus's promtool. It is a failure, not
// a skip, when CI=true (.ci/run installs Debian's prometheus package).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found on PATH (.ci/run installs Debian's prometheus package): %v", err)
		}
		t.Skip("promtool not installed (apt-get install prometheus); CI fails instead of skipping")
	}
	return p
}

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustParse(t *testing.T, specs ...string) []SLO {
	t.Helper()
	var out []SLO
	for _, s := range specs {
		o, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func writeRules(t *testing.T, dir string, slos []SLO, opts Options) *RuleFile {
	t.Helper()
	f, err := Rules(slos, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(f.YAML()), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPromtoolCheckRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"all services", Options{}},
		{"one service", Options{Services: []string{"checkout"}}},
		{"hostile service names", Options{Services: []string{`a"b\c`, "x|y.*", "new\nline"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRules(t, dir, mustParse(t, "availability=99.9", "latency=250ms@99", "latency=1s@99.5"), tc.opts)
			out := runPromtool(t, "check", "rules", "--lint-fatal", filepath.Join(dir, "rules.yml"))
			// 5 windows x (requests + 3 ratios) recordings, 3 SLOs x 3 alerts.
			if want := "SUCCESS: 29 rules found"; !strings.Contains(out, want) {
				t.Errorf("promtool check rules: got %q, want %q", out, want)
			}
		})
	}
}

// burnCase is one promtool test case: a constant traffic shape held long
// enough to fill the alert's long window, and whether the alert fires.
type burnCase struct {
	name   string
	alert  string
	evalAt time.Duration
	series []series
	fires  bool
	labels map[string]string
	value  float64 // the long-window error ratio, for the description
}

// series is an input counter growing by perMin each minute.
type series struct {
	metric string
	labels map[string]string
	perMin float64
}

func (s series) promtool(minutes int) yamlMap {
	var ls []string
	for _, k := range sortedKeys(s.labels) {
		ls = append(ls, k+"="+promString(s.labels[k]))
	}
	return yamlMap{
		{"series", s.metric + "{" + strings.Join(ls, ",") + "}"},
		{"values", fmt.Sprintf("0+%sx%d", fmtNumber(s.perMin), minutes)},
	}
}

const perMinute = 1000.0 // requests per minute in every case

func httpCount(status string, n float64) series {
	return series{HTTPDuration + "_count", map[string]string{
		LabelService: "checkout", LabelHTTPMethod: "GET", LabelHTTPRoute: "/orders/{id}", LabelHTTPStatus: status,
	}, n}
}

func rpcCount(code string, n float64) series {
	return series{RPCDuration + "_count", map[string]string{
		LabelService: "checkout", LabelRPCSystem: "grpc", LabelRPCMethod: "shop.Orders/Get", LabelRPCStatus: code,
	}, n}
}

func httpBucket(le string, n float64) series {
	s := httpCount("200", n)
	s.metric = HTTPDuration + "_bucket"
	s.labels["le"] = le
	return s
}

// workbook is the Google SRE workbook's table of multi-window,
// multi-burn-rate alerts, written out here rather than taken from
// BurnWindows, so that a wrong window or rate in the code fails the test.
var workbook = []BurnWindow{
	{Long: time.Hour, Short: 5 * time.Minute, Burn: 14.4, Severity: "page"},
	{Long: 6 * time.Hour, Short: 30 * time.Minute, Burn: 6, Severity: "page"},
	{Long: 72 * time.Hour, Short: 6 * time.Hour, Burn: 1, Severity: "ticket"},
}

// Error budgets of the SLOs the burn tests use, written out.
const (
	availBudget = 0.001 // availability=99.9
	latBudget   = 0.01  // latency=250ms@99
)

// burnCases builds, for every alert, a case just above its burn rate
// (fires) and one just below (silent).
func burnCases(lat SLO) []burnCase {
	var cases []burnCase
	for _, bw := range workbook {
		evalAt := bw.Long + 30*time.Minute
		for _, f := range []struct {
			factor float64
			fires  bool
		}{{1.1, true}, {0.9, false}} {
			ratio := f.factor * bw.Burn * availBudget
			bad := ratio * perMinute
			cases = append(cases, burnCase{
				name:   fmt.Sprintf("availability %s at %.1fx of %sx", promDuration(bw.Long), f.factor, fmtNumber(bw.Burn)),
				alert:  AlertName(Availability, bw),
				evalAt: evalAt,
				series: []series{httpCount("200", perMinute-bad), httpCount("503", bad)},
				fires:  f.fires,
				labels: map[string]string{"slo": "availability"},
				value:  ratio,
			})
			ratio = f.factor * bw.Burn * latBudget
			slow := ratio * perMinute
			le := secondsString(lat.Threshold)
			cases = append(cases, burnCase{
				name:   fmt.Sprintf("latency %s at %.1fx of %sx", promDuration(bw.Long), f.factor, fmtNumber(bw.Burn)),
				alert:  AlertName(Latency, bw),
				evalAt: evalAt,
				series: []series{
					httpCount("200", perMinute),
					httpBucket("0.1", (perMinute-slow)/2),
					httpBucket(le, perMinute-slow),
					httpBucket("+Inf", perMinute),
				},
				fires:  f.fires,
				labels: map[string]string{"slo": "latency", "threshold": le},
				value:  ratio,
			})
		}
	}
	fast := workbook[0]
	fastRatio := 1.1 * fast.Burn * availBudget
	cases = append(cases,
		burnCase{
			name: "gRPC Unavailable counts as failure", alert: AlertName(Availability, fast), evalAt: 90 * time.Minute,
			series: []series{rpcCount("OK", perMinute*(1-fastRatio)), rpcCount("UNAVAILABLE", perMinute*fastRatio)},
			fires:  true, labels: map[string]string{"slo": "availability"}, value: fastRatio,
		},
		burnCase{
			name: "gRPC NotFound is the caller's doing", alert: AlertName(Availability, fast), evalAt: 90 * time.Minute,
			series: []series{rpcCount("OK", perMinute/2), rpcCount("NOT_FOUND", perMinute/2)},
		},
		burnCase{
			name: "HTTP 404 is the caller's doing", alert: AlertName(Availability, fast), evalAt: 90 * time.Minute,
			series: []series{httpCount("200", perMinute/2), httpCount("404", perMinute/2)},
		},
		burnCase{
			name: "HTTP and gRPC failures add up", alert: AlertName(Availability, fast), evalAt: 90 * time.Minute,
			series: []series{
				httpCount("200", perMinute/2*(1-fastRatio)), httpCount("500", perMinute/2*fastRatio),
				rpcCount("OK", perMinute/2*(1-fastRatio)), rpcCount("INTERNAL", perMinute/2*fastRatio),
			},
			fires: true, labels: map[string]string{"slo": "availability"}, value: fastRatio,
		},
		burnCase{
			name: "every request slower than the threshold", alert: AlertName(Latency, fast), evalAt: 90 * time.Minute,
			series: []series{httpCount("200", perMinute), httpBucket("+Inf", perMinute)},
			fires:  true, labels: map[string]string{"slo": "latency", "threshold": secondsString(lat.Threshold)}, value: 1,
		},
	)
	return cases
}

// expectedAlert renders what promtool must see for a firing case: the
// rule's labels and its annotations with the templates filled in.
func expectedAlert(t *testing.T, f *RuleFile, c burnCase) yamlMap {
	t.Helper()
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != c.alert || r.Labels["window"] == "" {
				continue
			}
			if c.labels["threshold"] != "" && !strings.Contains(r.Expr, `threshold="`+c.labels["threshold"]+`"`) {
				continue
			}
			labels := map[string]string{LabelService: "checkout"}
			for k, v := range r.Labels {
				labels[k] = v
			}
			for k, v := range c.labels {
				labels[k] = v
			}
			ann := map[string]string{}
			for k, v := range r.Annotations {
				v = strings.ReplaceAll(v, "{{ $labels.service_name }}", "checkout")
				v = strings.ReplaceAll(v, "{{ $value | humanizePercentage }}", fmt.Sprintf("%.4g%%", c.value*100))
				ann[k] = v
			}
			return yamlMap{{"exp_labels", stringMap(labels)}, {"exp_annotations", stringMap(ann)}}
		}
	}
	t.Fatalf("no rule %s", c.alert)
	return nil
}

// promtoolTestFile writes one promtool test file for cases that share an
// evaluation interval.
func promtoolTestFile(t *testing.T, f *RuleFile, interval time.Duration, cases []burnCase) string {
	var tests []any
	for _, c := range cases {
		minutes := int(c.evalAt/time.Minute) + 1
		var in []any
		for _, s := range c.series {
			in = append(in, s.promtool(minutes))
		}
		var exp []any
		if c.fires {
			exp = append(exp, expectedAlert(t, f, c))
		}
		tests = append(tests, yamlMap{
			{"name", c.name},
			{"interval", "1m"},
			{"input_series", in},
			{"alert_rule_test", []any{yamlMap{
				{"eval_time", promDuration(c.evalAt)},
				{"alertname", c.alert},
				{"exp_alerts", exp},
			}}},
		})
	}
	return writeYAML(yamlMap{
		{"rule_files", []any{"rules.yml"}},
		{"evaluation_interval", promDuration(interval)},
		{"tests", tests},
	})
}

// TestPromtoolBurnRates proves with Prometheus's own rule engine that each
// alert fires just above its burn rate and stays silent just below it.
func TestPromtoolBurnRates(t *testing.T) {
	promtool(t)
	dir := t.TempDir()
	slos := mustParse(t, "availability=99.9", "latency=250ms@99")
	f := writeRules(t, dir, slos, Options{})
	var short, long []burnCase
	for _, c := range burnCases(slos[1]) {
		// Rules are evaluated every 5 minutes, and every 30 in the
		// 3-day cases: a minute's step over days of samples takes
		// minutes. The inputs still have a sample a minute.
		if c.evalAt > 24*time.Hour {
			long = append(long, c)
		} else {
			short = append(short, c)
		}
	}
	for name, file := range map[string]string{
		"short.yml": promtoolTestFile(t, f, 5*time.Minute, short),
		"long.yml":  promtoolTestFile(t, f, 30*time.Minute, long),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runPromtool(t, "test", "rules", filepath.Join(dir, name))
		if !strings.Contains(out, "SUCCESS") {
			t.Errorf("promtool test rules %s: %s", name, out)
		}
	}
	if len(short)+len(long) != 2*2*len(workbook)+5 {
		t.Errorf("got %d cases", len(short)+len(long))
	}
}
