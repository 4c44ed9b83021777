package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/kibanatest"
	"github.com/glassbox-obs/glassbox/internal/slo"
)

// cli runs the glassbox command line with the given environment.
func cli(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &env{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return vars[k] },
	})
	return code, out.String(), errOut.String()
}

func TestSetupKibanaOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glassbox-kibana.ndjson")
	code, stdout, stderr := cli(t, nil, "setup", "kibana", "--out", file)
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "wrote 8 saved objects") {
		t.Fatalf("got %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kibana.NDJSON(kibana.Objects())
	if !bytes.Equal(b, want) {
		t.Error("the file is not the saved objects' NDJSON")
	}
	// Without --out or --import: the NDJSON on stdout, nothing on stderr.
	code, stdout, stderr = cli(t, nil, "setup", "kibana")
	if code != exitOK || stdout != string(want) || stderr != "" {
		t.Errorf("to stdout: got %d, %d bytes, stderr %q", code, len(stdout), stderr)
	}
}

// noLeaks checks, after the test's servers have stopped, that the command
// left no goroutine behind (idle connections, a server).
func noLeaks(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

func TestSetupKibanaImport(t *testing.T) {
	noLeaks(t)
	srv := kibanatest.New(t, kibanatest.WithAPIKey("a2V5"), kibanatest.WithSpaces("ops"))
	vars := map[string]string{"KIBANA_API_KEY": "a2V5"}
	for _, verb := range []string{"created", "updated"} {
		code, stdout, stderr := cli(t, vars, "setup", "kibana", "--import", srv.URL(), "--space", "ops")
		if code != exitOK {
			t.Fatalf("got %d, stderr %q", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != len(kibana.Objects()) {
			t.Fatalf("got %d result lines, want one per object:\n%s", len(lines), stdout)
		}
		for i, o := range kibana.Objects() {
			f := strings.Fields(lines[i])
			if f[0] != verb || f[1] != o.Type || f[2] != o.ID {
				t.Errorf("line %q, want %s %s %s", lines[i], verb, o.Type, o.ID)
			}
		}
		if !strings.Contains(stderr, "imported 8 of 8 objects") || !strings.Contains(stderr, "space ops") {
			t.Errorf("got stderr %q", stderr)
		}
	}
	if srv.Count("ops") != len(kibana.Objects()) {
		t.Errorf("space ops holds %d objects", srv.Count("ops"))
	}
}

func TestSetupKibanaImportFailures(t *testing.T) {
	noLeaks(t)
	for _, tc := range []struct {
		name   string
		opts   []kibanatest.Option
		vars   map[string]string
		args   []string
		code   int
		stdout []string // lines that must appear
		stderr string
	}{
		{
			name: "wrong API key", opts: []kibanatest.Option{kibanatest.WithAPIKey("right")},
			vars: map[string]string{"ELASTICSEARCH_API_KEY": "wrong"},
			code: exitUsage, stderr: "HTTP 401",
		},
		{
			name: "no credentials", opts: []kibanatest.Option{kibanatest.WithBasicAuth("elastic", "pw")},
			code: exitUsage, stderr: "no credentials were sent",
		},
		{
			name: "basic auth", opts: []kibanatest.Option{kibanatest.WithBasicAuth("elastic", "pw")},
			vars: map[string]string{"ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": "pw"},
			code: exitOK, stderr: "imported 8 of 8",
		},
		{
			name: "objects refused", opts: []kibanatest.Option{kibanatest.WithoutTypes("lens")},
			code: exitNotFound,
			stdout: []string{
				"created  index-pattern  glassbox-logs",
				"failed   lens           glassbox-lens-requests-errors",
				"unsupported_type",
				"failed   dashboard      glassbox-overview",
				"missing_references: missing lens/glassbox-lens-requests-errors",
			},
			stderr: "imported 3 of 8",
		},
		{name: "unknown space", args: []string{"--space", "nope"}, code: exitNotFound, stderr: "HTTP 404"},
		{name: "bad space", args: []string{"--space", "No/pe"}, code: exitUsage, stderr: "not a Kibana space ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := kibanatest.New(t, tc.opts...)
			code, stdout, stderr := cli(t, tc.vars, append([]string{"setup", "kibana", "--import", srv.URL()}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("got %d, stderr %q; want %d with %q", code, stderr, tc.code, tc.stderr)
			}
			for _, l := range tc.stdout {
				if !strings.Contains(stdout, l) {
					t.Errorf("stdout lacks %q:\n%s", l, stdout)
				}
			}
		})
	}
	code, _, stderr := cli(t, nil, "setup", "kibana", "--import", "http://127.0.0.1:1", "--timeout", "2s")
	if code != exitUsage || !strings.Contains(stderr, "cannot reach Kibana") {
		t.Errorf("unreachable: got %d %q", code, stderr)
	}
	code, _, stderr = cli(t, nil, "setup", "kibana", "--import", "kibana:5601")
	if code != exitUsage || !strings.Contains(stderr, "not an http(s) URL") {
		t.Errorf("bad URL: got %d %q", code, stderr)
	}
	code, _, _ = cli(t, nil, "setup", "kibana", "--space", "ops")
	if code != exitUsage {
		t.Errorf("--space without --import: got %d", code)
	}
}

func TestSetupPrometheus(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yml")
	code, stdout, stderr := cli(t, nil, "setup", "prometheus",
		"--slo", "availability=99.9", "--slo", "latency=250ms@99", "--service", "checkout", "--out", file)
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "wrote 21 rules to "+file) {
		t.Fatalf("got %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, _ := os.ReadFile(file)
	for _, want := range []string{`name: "glassbox-slo-checkout"`, `service_name="checkout"`, `alert: "GlassboxLatencyBurn1h"`, `threshold: "0.25"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rules lack %s", want)
		}
	}
	// Default SLO, to stdout.
	code, stdout, _ = cli(t, nil, "setup", "prometheus")
	if code != exitOK || !strings.Contains(stdout, "GlassboxAvailabilityBurn3d") || strings.Contains(stdout, "Latency") {
		t.Errorf("default: got %d\n%s", code, stdout)
	}
}

func TestSetupPrometheusRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--slo", "latency=0.3s@99"}, "not a bucket boundary"},
		{[]string{"--slo", "latency=0.3s@99"}, "0.25s, 0.5s"},
		{[]string{"--slo", "availability=100"}, "between 0 and 100"},
		{[]string{"--slo", "availability=90"}, "93.06"},
		{[]string{"--slo", "uptime=99"}, "unknown kind"},
		{[]string{"--slo", "latency=250ms"}, "latency=<duration>@<percent>"},
		{[]string{"--slo", "availability=99.9", "--slo", "availability=99.5"}, "given twice"},
		{[]string{"--service", ""}, "--service needs a name"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		code, stdout, stderr := cli(t, nil, append([]string{"setup", "prometheus"}, tc.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: got %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestSetupGrafana(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dashboard.json")
	code, _, stderr := cli(t, nil, "setup", "grafana", "--slo", "availability=99.9", "--slo", "latency=1s@99.5", "--out", file)
	if code != exitOK {
		t.Fatalf("got %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(file)
	var d slo.Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if err := slo.CheckMetrics(&d, slo.Metrics()); err != nil {
		t.Error(err)
	}
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
	}
	joined := strings.Join(titles, "|")
	for _, want := range []string{"Error budget left: availability=99.9", "Error budget left: latency=1s@99.5", "HTTP routes", "gRPC methods"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no panel %q in %v", want, titles)
		}
	}
	if code, _, stderr := cli(t, nil, "setup", "grafana", "--slo", "latency=2s@99"); code != exitUsage || !strings.Contains(stderr, "bucket boundary") {
		t.Errorf("bad SLO: got %d %q", code, stderr)
	}
}

func TestSetupHelp(t *testing.T) {
	for sub, flag := range map[string]string{"elasticsearch": "-dry-run", "kibana": "-out", "prometheus": "-out", "grafana": "-out"} {
		code, stdout, _ := cli(t, nil, "help", "setup", sub)
		if code != exitOK {
			t.Errorf("help setup %s: got %d", sub, code)
		}
		for _, want := range []string{"usage: glassbox setup " + sub, "Examples:", "Exit status:", "Flags:", flag} {
			if !strings.Contains(stdout, want) {
				t.Errorf("help setup %s lacks %q", sub, want)
			}
		}
		// -h prints the same help.
		if code, h, _ := cli(t, nil, "setup", sub, "-h"); code != exitOK || h != stdout {
			t.Errorf("setup %s -h differs from help setup %s", sub, sub)
		}
	}
	code, stdout, _ := cli(t, nil, "help", "setup")
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var subs []string
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 1 && (f[0] == "elasticsearch" || f[0] == "kibana" || f[0] == "prometheus" || f[0] == "grafana") {
			subs = append(subs, f[0])
		}
	}
	if code != exitOK || strings.Join(subs, ",") != "elasticsearch,kibana,prometheus,grafana" {
		t.Errorf("help setup: got %d, commands %v", code, subs)
	}
	if code, _, _ := cli(t, nil, "setup"); code != exitUsage {
		t.Errorf("setup alone: got %d, want %d", code, exitUsage)
	}
}
