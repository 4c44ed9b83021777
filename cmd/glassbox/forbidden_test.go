package main

import (
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/kibanatest"
)

// secretKey is an API key the 403 tests check never shows in the output.
const secretKey = "c2VjcmV0LWtleS0xMjM0NQ=="

// leaks reports the credentials of vars that appear in out.
func leaks(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the output shows a credential %q:\n%s", s, out)
		}
	}
}

// The user of glassbox trace is authenticated but may not read the
// glassbox data streams. Named indices are refused with 403: exit 2, the
// privilege to grant, the server's reason without its JSON. Wildcards
// resolve to nothing, as in Elasticsearch: the advice for "no data"
// mentions the read privilege too, since data is there.
func TestTraceForbidden(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t, estest.WithAPIKey(secretKey))
	vars := map[string]string{"ELASTICSEARCH_URL": srv.URL(), "ELASTICSEARCH_API_KEY": secretKey}
	ship(t, srv, vars, 2, 1, time.Now())
	srv.Forbid("oncall", "viewer", estest.ActionOpenPIT, estest.ActionSearch)

	code, stdout, stderr := runCLI(t, vars, "", "trace", "--index", "logs-checkout-default", "req-1")
	if code != exitUsage || stdout != "" {
		t.Errorf("named index: exit %d, stdout %q; want %d and nothing", code, stdout, exitUsage)
	}
	for _, want := range []string{
		"does not let this user open a point in time on logs-checkout-default (HTTP 403)",
		"action [indices:data/read/open_point_in_time] is unauthorized for user [oncall] with effective roles [viewer]",
		"Grant the user (or API key) the read privilege on logs-checkout-default",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("named index: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, `{"error"`) || strings.Contains(stderr, "root_cause") {
		t.Errorf("named index: stderr dumps the JSON answer:\n%s", stderr)
	}
	leaks(t, stdout+stderr, secretKey)

	code, stdout, stderr = runCLI(t, vars, "", "trace", "req-1")
	if code != exitNotFound || stdout != "" {
		t.Errorf("wildcards: exit %d, stdout %q; want %d", code, stdout, exitNotFound)
	}
	for _, want := range []string{"holds no logs-*,traces-* data stream yet", "may lack the read privilege on logs-*,traces-*"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("wildcards: stderr lacks %q:\n%s", want, stderr)
		}
	}
	leaks(t, stdout+stderr, secretKey)
}

// glassbox setup elasticsearch with a user that may read but not install
// templates or policies: exit 2, the privileges named, nothing changed,
// no credential shown.
func TestSetupElasticsearchForbidden(t *testing.T) {
	noLeaks(t)
	for _, tc := range []struct {
		name      string
		forbidden []string
		want      []string
	}{
		{"no manage_ilm", []string{estest.ActionPutILMPolicy},
			[]string{"refused PUT _ilm/policy/glassbox (HTTP 403)", "grant the manage_ilm and manage_index_templates cluster privileges"}},
		{"no manage_index_templates", []string{estest.ActionPutComponent, estest.ActionPutIndexTemplate},
			[]string{"(HTTP 403)", "_component_template/", "grant the manage_ilm and manage_index_templates cluster privileges"}},
		{"cannot read the templates", []string{estest.ActionGetIndexTemplate, estest.ActionGetComponent, estest.ActionGetILMPolicy},
			[]string{"(HTTP 403)", "lack a privilege"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := estest.New(t, estest.WithAPIKey(secretKey))
			srv.Forbid("shipper", "glassbox_writer", tc.forbidden...)
			code, stdout, stderr := cli(t, esVars(srv, secretKey), "setup", "elasticsearch", "--timeout", "10s")
			if code != exitUsage {
				t.Errorf("got exit %d, want %d:\n%s%s", code, exitUsage, stdout, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "root_cause") {
				t.Errorf("stderr dumps the JSON answer:\n%s", stderr)
			}
			leaks(t, stdout+stderr, secretKey)
			srv.Forbid("", "")
			if a := actions(t, testCluster(t, srv, secretKey)); a["_index_template/glassbox-logs"] != "created" {
				t.Errorf("a refused run installed the index template: %v", a)
			}
		})
	}
}

// glassbox setup kibana --import as a user whose Kibana role may not
// create dashboards: Kibana refuses the whole import with 403; exit 2,
// the Kibana privilege and the space named, not "check the key".
func TestSetupKibanaImportForbidden(t *testing.T) {
	noLeaks(t)
	srv := kibanatest.New(t, kibanatest.WithAPIKey(secretKey), kibanatest.WithSpaces("ops"), kibanatest.WithoutPrivilege("dashboard", "lens"))
	code, stdout, stderr := cli(t, map[string]string{"KIBANA_API_KEY": secretKey}, "setup", "kibana", "--import", srv.URL(), "--space", "ops")
	if code != exitUsage || stdout != "" {
		t.Errorf("got exit %d, stdout %q; want %d and nothing", code, stdout, exitUsage)
	}
	for _, want := range []string{
		"Kibana refused the import (HTTP 403): Unable to bulk_create dashboard,lens",
		"lack a Kibana privilege",
		"All privilege\non Saved Objects Management",
		"in space ops",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "check KIBANA_API_KEY") {
		t.Errorf("a 403 is blamed on the key, which Kibana accepted:\n%s", stderr)
	}
	leaks(t, stdout+stderr, secretKey)
	if n := srv.Count("ops"); n != 0 {
		t.Errorf("a refused import stored %d objects", n)
	}
}
