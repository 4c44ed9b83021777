package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
)

// esVars points the CLI at srv with an API key.
func esVars(srv *estest.Server, key string) map[string]string {
	return map[string]string{"ELASTICSEARCH_URL": srv.URL(), "ELASTICSEARCH_API_KEY": key}
}

// testCluster is a connection to srv for the test's own requests.
func testCluster(t *testing.T, srv *estest.Server, key string) *elasticsearch.Cluster {
	t.Helper()
	cl, err := elasticsearch.Connect(elasticsearch.WithGetenv(nil), elasticsearch.WithAddresses(srv.URL()), elasticsearch.WithAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// actions returns what TemplatesStatus says would be done, by path.
func actions(t *testing.T, cl *elasticsearch.Cluster) map[string]string {
	t.Helper()
	res, err := cl.TemplatesStatus(context.Background())
	if err != nil && !errors.Is(err, elasticsearch.ErrNotOwned) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range res {
		out[r.Path] = r.Action.String()
	}
	return out
}

// resultLines splits the command's per-object lines into fields: action
// (one or two words), kind, name.
func resultLines(t *testing.T, stdout string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		verb, rest, _ := strings.Cut(l, "  ")
		f := strings.Fields(rest)
		if len(f) < 2 {
			t.Fatalf("line %q: want action, kind and name", l)
		}
		got[f[1]] = strings.TrimSpace(verb)
	}
	return got
}

func TestSetupElasticsearchIsIdempotent(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t, estest.WithAPIKey("a2V5"))
	vars := esVars(srv, "a2V5")
	for i, want := range []string{"created", "unchanged"} {
		code, stdout, stderr := cli(t, vars, "setup", "elasticsearch")
		if code != exitOK {
			t.Fatalf("run %d: got %d, stderr %q", i+1, code, stderr)
		}
		got := resultLines(t, stdout)
		for _, tpl := range elasticsearch.Templates(0) {
			_, name, _ := strings.Cut(tpl.Path, "/")
			name = strings.TrimPrefix(name, "policy/")
			if got[name] != want {
				t.Errorf("run %d: %s is %q, want %q\n%s", i+1, tpl.Path, got[name], want, stdout)
			}
		}
		if len(got) != len(elasticsearch.Templates(0)) {
			t.Errorf("run %d: %d lines for %d objects:\n%s", i+1, len(got), len(elasticsearch.Templates(0)), stdout)
		}
		if i == 1 && !strings.Contains(stderr, "created 0, updated 0, unchanged 5, left alone 0") {
			t.Errorf("second run: stderr %q, want nothing changed", stderr)
		}
	}
	for path, a := range actions(t, testCluster(t, srv, "a2V5")) {
		if a != "unchanged" {
			t.Errorf("after setup, %s would be %s", path, a)
		}
	}
}

func TestSetupElasticsearchDryRun(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t)
	code, stdout, stderr := cli(t, map[string]string{"ELASTICSEARCH_URL": srv.URL()}, "setup", "elasticsearch", "--dry-run", "--retention", "7d")
	if code != exitOK || !strings.Contains(stderr, "would create 5, update 0") || !strings.Contains(stderr, "nothing was changed") {
		t.Fatalf("got %d, stderr %q", code, stderr)
	}
	var plan []struct {
		Path, Kind, Name, Action string
		Body                     json.RawMessage
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, stdout)
	}
	want := elasticsearch.Templates(7 * 24 * time.Hour)
	if len(plan) != len(want) {
		t.Fatalf("got %d objects, want %d", len(plan), len(want))
	}
	for i, p := range plan {
		var a, b any
		_ = json.Unmarshal(p.Body, &a)
		_ = json.Unmarshal(want[i].Body, &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if p.Path != want[i].Path || p.Action != "created" || string(ja) != string(jb) || p.Name == "" || p.Kind == "" {
			t.Errorf("object %d: got %s %s/%s %s, want %s created with the 7-day body", i, p.Path, p.Kind, p.Name, p.Action, want[i].Path)
		}
	}
	if policy, _ := json.Marshal(plan[0].Body); !strings.Contains(string(policy), `"min_age":"7d"`) {
		t.Errorf("the policy does not delete after 7 days: %s", plan[0].Body)
	}
	for path, a := range actions(t, testCluster(t, srv, "")) {
		if a != "created" {
			t.Errorf("after a dry run, %s would be %s: something was installed", path, a)
		}
	}
}

func TestSetupElasticsearchLeavesWhatItDoesNotOwn(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t)
	cl := testCluster(t, srv, "")
	foreign := `{"index_patterns":["logs-*-*"],"priority":150,"data_stream":{},"_meta":{"managed_by":"fleet"}}`
	res, err := esapi.IndicesPutIndexTemplateRequest{Name: elasticsearch.LogsIndexTemplate, Body: strings.NewReader(foreign)}.Do(context.Background(), cl)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT the foreign template: %v %v", err, res)
	}
	res.Body.Close()
	vars := map[string]string{"ELASTICSEARCH_URL": srv.URL()}

	code, stdout, stderr := cli(t, vars, "setup", "elasticsearch")
	if code != exitNotFound {
		t.Fatalf("got %d, want %d; stderr %q", code, exitNotFound, stderr)
	}
	if !strings.Contains(stdout, "left alone  index_template      glassbox-logs          not managed by glassbox (managed_by \"fleet\")") {
		t.Errorf("stdout lacks the left-alone line:\n%s", stdout)
	}
	for _, want := range []string{"left alone, glassbox does not manage them: _index_template/glassbox-logs", "GET _index_template/glassbox-logs", "run again with --force"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if a := actions(t, cl)["_index_template/glassbox-logs"]; a != "not owned" {
		t.Errorf("the foreign template was touched: now %s", a)
	}

	code, stdout, stderr = cli(t, vars, "setup", "elasticsearch", "--force")
	if code != exitOK || !strings.Contains(stdout, `replaced an object managed by "fleet" (--force)`) {
		t.Fatalf("--force: got %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if a := actions(t, cl)["_index_template/glassbox-logs"]; a != "unchanged" {
		t.Errorf("after --force the template is %s, want glassbox's", a)
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestSetupElasticsearchFailures(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t, estest.WithAPIKey("right"))
	down := closedURL(t)
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		args   []string
		code   int
		stderr []string
	}{
		{"unreachable", map[string]string{"ELASTICSEARCH_URL": down}, nil, exitUsage,
			[]string{"cannot reach Elasticsearch at " + down, "connection refused", "check ELASTICSEARCH_URL"}},
		{"wrong key", esVars(srv, "wrong"), nil, exitUsage,
			[]string{"refused the credentials (HTTP 401)", "check ELASTICSEARCH_API_KEY"}},
		{"no credentials", map[string]string{"ELASTICSEARCH_URL": srv.URL()}, nil, exitUsage,
			[]string{"HTTP 401", "no credentials were sent: set ELASTICSEARCH_API_KEY"}},
		{"bad retention flag", esVars(srv, "right"), []string{"--retention", "a month"}, exitUsage,
			[]string{`--retention: "a month" is not a positive duration`}},
		{"bad retention variable", map[string]string{"ELASTICSEARCH_URL": srv.URL(), "GLASSBOX_ELASTICSEARCH_RETENTION": "-1d"}, nil, exitUsage,
			[]string{"GLASSBOX_ELASTICSEARCH_RETENTION", "not a positive number of days"}},
		{"bad URL", map[string]string{"ELASTICSEARCH_URL": "es:9200"}, nil, exitUsage,
			[]string{"ELASTICSEARCH_URL", "not an http(s) URL"}},
		{"argument", esVars(srv, "right"), []string{"extra"}, exitUsage, []string{`unexpected argument "extra"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tc.vars, append([]string{"setup", "elasticsearch", "--timeout", "10s"}, tc.args...)...)
			if code != tc.code || stdout != "" {
				t.Errorf("got %d, stdout %q; want %d and nothing on stdout", code, stdout, tc.code)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
	if a := actions(t, testCluster(t, srv, "right")); a["_ilm/policy/glassbox"] != "created" {
		t.Errorf("a failed run installed something: %v", a)
	}
}

// "--retention 7d" on a cluster whose glassbox policy keeps 30 days
// updates it, says so, and a second run changes nothing.
func TestSetupElasticsearchChangesTheRetention(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t)
	vars := map[string]string{"ELASTICSEARCH_URL": srv.URL()}
	for i, tc := range []struct {
		args   []string
		policy string // the start of the policy's line, fields separated by one space
		stderr string
	}{
		{[]string{"--retention", "30d"}, "created", "created 5, updated 0, unchanged 0"},
		{[]string{"--retention", "7d"}, "updated ilm_policy glassbox retention 30d to 7d", "created 0, updated 1, unchanged 4"},
		{[]string{"--retention", "7d"}, "unchanged ilm_policy glassbox", "created 0, updated 0, unchanged 5"},
		{nil, "unchanged ilm_policy glassbox", "created 0, updated 0, unchanged 5"},
	} {
		code, stdout, stderr := cli(t, vars, append([]string{"setup", "elasticsearch"}, tc.args...)...)
		if code != exitOK || !strings.Contains(stderr, tc.stderr) {
			t.Fatalf("run %d %v: got %d, stderr %q, want %q", i+1, tc.args, code, stderr, tc.stderr)
		}
		var line string
		for _, l := range strings.Split(stdout, "\n") {
			if strings.Contains(l, "ilm_policy") {
				line = strings.Join(strings.Fields(l), " ")
			}
		}
		if !strings.HasPrefix(line, tc.policy) {
			t.Errorf("run %d %v: policy line %q, want %q\n%s", i+1, tc.args, line, tc.policy, stdout)
		}
	}
	res, err := esapi.ILMGetLifecycleRequest{Policy: elasticsearch.PolicyName}.Do(context.Background(), testCluster(t, srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body := res.String(); !strings.Contains(body, `"min_age":"7d"`) {
		t.Errorf("the policy after the runs: %s", body)
	}
}
