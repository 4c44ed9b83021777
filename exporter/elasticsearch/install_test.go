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
