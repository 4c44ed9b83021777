package elasticsearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
)

func connect(t *testing.T, url string) *elasticsearch.Cluster {
	t.Helper()
	cl, err := elasticsearch.Connect(elasticsearch.WithGetenv(nil), elasticsearch.WithAddresses(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close(context.Background()) })
	return cl
}

// put stores a JSON object through the cluster; it fails the test unless
// the answer is 200.
func put(t *testing.T, cl *elasticsearch.Cluster, path, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := cl.Perform(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("PUT %s: HTTP %d: %s", path, res.StatusCode, b)
	}
}

func get(t *testing.T, cl *elasticsearch.Cluster, path string) string {
	t.Helper()
	res, err := cl.Perform(mustRequest(t, http.MethodGet, path))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func actions(res []elasticsearch.TemplateResult) map[string]elasticsearch.TemplateAction {
	out := map[string]elasticsearch.TemplateAction{}
	for _, r := range res {
		out[r.Name] = r.Action
	}
	return out
}

func TestPing(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	info, err := cl.Ping(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != estest.Version || !info.Supported() || info.ClusterName == "" {
		t.Errorf("got %+v, want version %s, supported, a cluster name", info, estest.Version)
	}
	srv2 := estest.New(t)
	srv2.SetProductHeader(false)
	if _, err := connect(t, srv2.URL()).Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Errorf("got %v from a server without the product header, want the product check's error", err)
	}
	srv3 := estest.New(t, estest.WithAPIKey("k"))
	_, err = connect(t, srv3.URL()).Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "GET /: HTTP 401") {
		t.Errorf("got %v without credentials, want an error naming HTTP 401", err)
	}
	var se *elasticsearch.StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 || se.Method != "GET" || se.Path != "/" {
		t.Errorf("got %#v, want a *StatusError for GET / with status 401", err)
	}
}

// The status of a refused template request is in a *StatusError, so that
// tools tell a missing privilege (403) from other failures. The far end is
// a cluster that answers who it is and refuses everything else, as one
// does to a user without the monitor or manage_ilm privilege.
func TestInstallTemplatesStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/" {
			fmt.Fprintf(w, `{"name":"n","cluster_name":"c","version":{"number":%q}}`, estest.Version)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"type":"security_exception","reason":"action [cluster:admin/ilm/get] is unauthorized"},"status":403}`)
	}))
	defer srv.Close()
	_, err := connect(t, srv.URL).TemplatesStatus(context.Background())
	var se *elasticsearch.StatusError
	want := elasticsearch.Templates(0)[0].Path
	if !errors.As(err, &se) || se.StatusCode != 403 || se.Method != "GET" || se.Path != want || !strings.Contains(se.Body, "security_exception") {
		t.Fatalf("got %v, want a *StatusError for GET %s with status 403", err, want)
	}
	if err.Error() != "elasticsearch: GET "+want+": HTTP 403: "+se.Body {
		t.Errorf("got message %q", err)
	}
}

// A template of glassbox's name that another tool manages is left alone
// (and said so) unless forced.
func TestInstallTemplatesLeavesWhatItDoesNotOwn(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	ctx := context.Background()
	foreign := `{"index_patterns":["logs-*-*"],"priority":150,"data_stream":{},"_meta":{"managed_by":"fleet"}}`
	put(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate, foreign)

	res, err := cl.InstallTemplates(ctx, elasticsearch.InstallOptions{})
	if !errors.Is(err, elasticsearch.ErrNotOwned) || !strings.Contains(err.Error(), elasticsearch.LogsIndexTemplate) {
		t.Fatalf("got error %v, want ErrNotOwned naming %s", err, elasticsearch.LogsIndexTemplate)
	}
	got := actions(res)
	if got[elasticsearch.LogsIndexTemplate] != elasticsearch.TemplateNotOwned || got[elasticsearch.TracesIndexTemplate] != elasticsearch.TemplateCreated || len(res) != 5 {
		t.Fatalf("got %v, want the foreign template not owned and the others created", got)
	}
	for _, r := range res {
		if r.Name == elasticsearch.LogsIndexTemplate && (!r.Exists || r.ManagedBy != "fleet" || r.Version != 0) {
			t.Errorf("got %+v, want it reported as existing, managed by fleet", r)
		}
	}
	if body := get(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate); !strings.Contains(body, `"fleet"`) {
		t.Fatalf("the foreign template was replaced: %s", body)
	}

	res, err = cl.InstallTemplates(ctx, elasticsearch.InstallOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got[elasticsearch.LogsIndexTemplate] != elasticsearch.TemplateUpdated || got[elasticsearch.PolicyName] != elasticsearch.TemplateUnchanged {
		t.Fatalf("with Force: got %v, want the foreign template updated, the rest unchanged", got)
	}
	if body := get(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate); !strings.Contains(body, `"glassbox"`) {
		t.Fatalf("Force did not replace the foreign template: %s", body)
	}
}

func TestInstallTemplatesUpdatesOlderAndLeavesNewer(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	ctx := context.Background()
	older := `{"index_patterns":["traces-*-*"],"priority":150,"data_stream":{},"version":0,"_meta":{"managed_by":"glassbox","glassbox_version":0}}`
	put(t, cl, "/_index_template/"+elasticsearch.TracesIndexTemplate, older)
	newer := `{"template":{"settings":{"index.mapping.total_fields.limit":5000}},"version":99,"_meta":{"managed_by":"glassbox","glassbox_version":99}}`
	put(t, cl, "/_component_template/"+elasticsearch.SettingsTemplate, newer)

	res, err := cl.InstallTemplates(ctx, elasticsearch.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := actions(res)
	if got[elasticsearch.TracesIndexTemplate] != elasticsearch.TemplateUpdated || got[elasticsearch.SettingsTemplate] != elasticsearch.TemplateNewer {
		t.Fatalf("got %v, want the older one updated and the newer one left alone", got)
	}
	if body := get(t, cl, "/_component_template/"+elasticsearch.SettingsTemplate); !strings.Contains(body, `"glassbox_version":99`) {
		t.Errorf("the newer template was replaced: %s", body)
	}
	res, err = cl.InstallTemplates(ctx, elasticsearch.InstallOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got[elasticsearch.SettingsTemplate] != elasticsearch.TemplateUpdated {
		t.Errorf("with Force: got %v, want the newer one replaced", got)
	}
}

func TestTemplatesStatusChangesNothing(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	before := srv.Requests()
	res, err := cl.TemplatesStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action != elasticsearch.TemplateCreated || r.Exists {
			t.Errorf("%s %s: got %v (exists %v), want it would be created", r.Kind, r.Name, r.Action, r.Exists)
		}
	}
	if got, want := srv.Requests()-before, int64(1+len(res)); got != want || len(res) != 5 {
		t.Errorf("got %d requests for %d results, want %d (GET / and one GET each, no PUT)", got, len(res), want)
	}
	if body := get(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate); !strings.Contains(body, "not found") {
		t.Errorf("TemplatesStatus installed something: %s", body)
	}
}

func TestInstallTemplatesRefusesAnOldElasticsearch(t *testing.T) {
	var puts atomic.Int64
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "n", "cluster_name": "c", "version": map[string]any{"number": "8.12.2"}})
	}))
	defer old.Close()
	cl := connect(t, old.URL)
	_, err := cl.InstallTemplates(context.Background(), elasticsearch.InstallOptions{})
	if !errors.Is(err, elasticsearch.ErrUnsupportedVersion) || !strings.Contains(err.Error(), "8.12.2") {
		t.Fatalf("got %v, want ErrUnsupportedVersion naming 8.12.2", err)
	}
	if puts.Load() != 0 {
		t.Errorf("got %d PUTs to an unsupported cluster, want none", puts.Load())
	}
}

// A user changing the retention expects it to change: the policy of the
// current version is updated when its retention is another, and left
// alone when it is the same (however written) or none is asked for.
func TestInstallTemplatesRetention(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	ctx := context.Background()
	const day = 24 * time.Hour
	install := func(retention time.Duration) map[string]elasticsearch.TemplateResult {
		t.Helper()
		res, err := cl.InstallTemplates(ctx, elasticsearch.InstallOptions{Retention: retention})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]elasticsearch.TemplateResult{}
		for _, r := range res {
			out[r.Name] = r
		}
		return out
	}
	minAge := func() string {
		t.Helper()
		var v map[string]struct {
			Policy struct {
				Phases struct {
					Delete struct {
						MinAge string `json:"min_age"`
					} `json:"delete"`
				} `json:"phases"`
			} `json:"policy"`
		}
		if err := json.Unmarshal([]byte(get(t, cl, "/_ilm/policy/"+elasticsearch.PolicyName)), &v); err != nil {
			t.Fatal(err)
		}
		return v[elasticsearch.PolicyName].Policy.Phases.Delete.MinAge
	}

	if r := install(30 * day)[elasticsearch.PolicyName]; r.Action != elasticsearch.TemplateCreated || minAge() != "30d" {
		t.Fatalf("first run: got %v, min_age %s; want created with 30d", r.Action, minAge())
	}
	got := install(7 * day)
	if r := got[elasticsearch.PolicyName]; r.Action != elasticsearch.TemplateUpdated || r.Drift != "retention 30d to 7d" {
		t.Errorf("7d over 30d: got %v %q, want updated, retention 30d to 7d", r.Action, r.Drift)
	}
	for name, r := range got {
		if name != elasticsearch.PolicyName && r.Action != elasticsearch.TemplateUnchanged {
			t.Errorf("7d over 30d: %s got %v %q, want unchanged", name, r.Action, r.Drift)
		}
	}
	if m := minAge(); m != "7d" {
		t.Errorf("after 7d: the policy deletes after %s", m)
	}
	for _, tc := range []struct {
		name      string
		retention time.Duration
	}{{"7d again", 7 * day}, {"168h", 168 * time.Hour}, {"none asked for", 0}} {
		before := srv.Requests()
		for name, r := range install(tc.retention) {
			if r.Action != elasticsearch.TemplateUnchanged || r.Drift != "" {
				t.Errorf("%s: %s got %v %q, want unchanged", tc.name, name, r.Action, r.Drift)
			}
		}
		if n := srv.Requests() - before; n != 6 {
			t.Errorf("%s: %d requests, want 6 (GET / and a GET per object, no PUT)", tc.name, n)
		}
	}
	if m := minAge(); m != "7d" {
		t.Errorf("after the unchanged runs: the policy deletes after %s, want 7d", m)
	}
}

// A template of the current version whose body was edited (by hand, or by
// a tool) is put back; what Elasticsearch adds to what it stores (setting
// values as strings, nested settings, data_stream defaults) is not an
// edit.
func TestInstallTemplatesRestoresAnEditedTemplate(t *testing.T) {
	srv := estest.New(t)
	cl := connect(t, srv.URL())
	ctx := context.Background()
	if _, err := cl.InstallTemplates(ctx, elasticsearch.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`"version":%d,"_meta":{"managed_by":"glassbox","glassbox_version":%d}`, elasticsearch.TemplateVersion, elasticsearch.TemplateVersion)
	put(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate,
		`{"index_patterns":["logs-*-*"],"priority":500,"data_stream":{},"composed_of":["glassbox-ecs@mappings","glassbox@settings"],`+meta+`}`)
	put(t, cl, "/_component_template/"+elasticsearch.SettingsTemplate,
		`{"template":{"settings":{"index":{"mapping":{"ignore_malformed":"true","total_fields":{"limit":"10000","ignore_dynamic_beyond_limit":"true"}},"lifecycle":{"name":"glassbox"}}}},`+meta+`}`)

	res, err := cl.InstallTemplates(ctx, elasticsearch.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		edited := r.Name == elasticsearch.LogsIndexTemplate || r.Name == elasticsearch.SettingsTemplate
		switch {
		case edited && (r.Action != elasticsearch.TemplateUpdated || r.Drift != "the installed body differs from glassbox's"):
			t.Errorf("%s: got %v %q, want updated, its body differs", r.Name, r.Action, r.Drift)
		case !edited && r.Action != elasticsearch.TemplateUnchanged:
			t.Errorf("%s: got %v %q, want unchanged", r.Name, r.Action, r.Drift)
		}
	}
	if body := get(t, cl, "/_index_template/"+elasticsearch.LogsIndexTemplate); !strings.Contains(body, `"priority":150`) {
		t.Errorf("the edited template was not put back: %s", body)
	}
	res, err = cl.InstallTemplates(ctx, elasticsearch.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action != elasticsearch.TemplateUnchanged {
			t.Errorf("second run: %s got %v %q, want unchanged", r.Name, r.Action, r.Drift)
		}
	}
}
