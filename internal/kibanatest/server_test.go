package kibanatest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/kibanatest"
)

type request struct {
	path     string // default /api/saved_objects/_import?overwrite=true
	file     string
	filename string // default export.ndjson
	noXSRF   bool
	auth     string // Authorization header
}

type response struct {
	status int
	body   map[string]any
}

func post(t *testing.T, srv *kibanatest.Server, r request) response {
	t.Helper()
	if r.path == "" {
		r.path = "/api/saved_objects/_import?overwrite=true"
	}
	if r.filename == "" {
		r.filename = "export.ndjson"
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", r.filename)
	io.WriteString(fw, r.file)
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL()+r.path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if !r.noXSRF {
		req.Header.Set("kbn-xsrf", "true")
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return response{res.StatusCode, out}
}

const (
	dataView = `{"type":"index-pattern","id":"dv","attributes":{"title":"logs-*-*","timeFieldName":"@timestamp"},"references":[],"coreMigrationVersion":"8.8.0","typeMigrationVersion":"8.0.0"}`
	search   = `{"type":"search","id":"s","attributes":{"title":"S","columns":["message"],"sort":[["@timestamp","asc"]],"kibanaSavedObjectMeta":{"searchSourceJSON":"{\"indexRefName\":\"kibanaSavedObjectMeta.searchSourceJSON.index\"}"}},"references":[{"type":"index-pattern","id":"dv","name":"kibanaSavedObjectMeta.searchSourceJSON.index"}],"coreMigrationVersion":"8.8.0","typeMigrationVersion":"8.0.0"}`
	lens     = `{"type":"lens","id":"l","attributes":{"title":"L","visualizationType":"lnsXY","state":{"datasourceStates":{"formBased":{"layers":{"a":{"columns":{"c":{"operationType":"count"}},"columnOrder":["c"]}}}}}},"references":[{"type":"index-pattern","id":"dv","name":"indexpattern-datasource-layer-a"}],"coreMigrationVersion":"8.8.0","typeMigrationVersion":"8.9.0"}`
	dash     = `{"type":"dashboard","id":"d","attributes":{"title":"D","panelsJSON":"[{\"type\":\"lens\",\"panelIndex\":\"1\",\"gridData\":{},\"panelRefName\":\"panel_1\"}]"},"references":[{"type":"lens","id":"l","name":"1:panel_1"}],"coreMigrationVersion":"8.8.0","typeMigrationVersion":"8.9.0"}`
)

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func errorsOf(r response) []map[string]any {
	var out []map[string]any
	list, _ := r.body["errors"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

func TestImportSucceeds(t *testing.T) {
	srv := kibanatest.New(t)
	file := lines(dataView, search, lens, dash, `{"exportedCount":4,"missingRefCount":0,"missingReferences":[]}`)
	r := post(t, srv, request{file: file})
	if r.status != 200 || r.body["success"] != true || r.body["successCount"] != 4.0 {
		t.Fatalf("got %d %v", r.status, r.body)
	}
	results := r.body["successResults"].([]any)
	first := results[0].(map[string]any)
	if first["type"] != "index-pattern" || first["id"] != "dv" || first["meta"].(map[string]any)["title"] != "logs-*-*" {
		t.Errorf("got first result %v", first)
	}
	if _, ok := first["overwrite"]; ok {
		t.Errorf("a new object is reported as overwritten: %v", first)
	}
	if srv.Count("default") != 4 {
		t.Errorf("got %d stored objects, want 4", srv.Count("default"))
	}
	// Again: each object overwritten.
	r = post(t, srv, request{file: file})
	for _, res := range r.body["successResults"].([]any) {
		if res.(map[string]any)["overwrite"] != true {
			t.Errorf("second import: %v not reported as overwrite", res)
		}
	}
	// Without overwrite: conflicts.
	r = post(t, srv, request{path: "/api/saved_objects/_import", file: lines(dataView)})
	if errs := errorsOf(r); len(errs) != 1 || errs[0]["error"].(map[string]any)["type"] != "conflict" {
		t.Errorf("import of an existing object without overwrite: got %v", r.body)
	}
}

func TestImportRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []kibanatest.Option
		req     request
		status  int
		message string // substring of the whole-request error message
	}{
		{"no kbn-xsrf", nil, request{file: lines(dataView), noXSRF: true}, 400, "kbn-xsrf"},
		{"no credentials", []kibanatest.Option{kibanatest.WithAPIKey("k")}, request{file: lines(dataView)}, 401, "authenticate"},
		{"wrong API key", []kibanatest.Option{kibanatest.WithAPIKey("k")}, request{file: lines(dataView), auth: "ApiKey x"}, 401, "authenticate"},
		{"wrong password", []kibanatest.Option{kibanatest.WithBasicAuth("u", "p")}, request{file: lines(dataView), auth: "Basic dTp4"}, 401, "authenticate"},
		{"malformed line", nil, request{file: lines(dataView, `{"type":"search",`)}, 400, "line 2"},
		{"not an object", nil, request{file: lines(`[1]`)}, 400, "line 1"},
		{"no id", nil, request{file: lines(`{"type":"search","attributes":{}}`)}, 400, "id"},
		{"duplicate", nil, request{file: lines(dataView, dataView)}, 400, "Non-unique"},
		{"newer typeMigrationVersion", nil, request{file: lines(strings.Replace(lens, `"8.9.0"`, `"8.14.0"`, 1))}, 400, "more recent version of Kibana [8.14.0] when the last known version is [8.9.0]"},
		{"newer coreMigrationVersion", nil, request{file: lines(strings.Replace(dataView, `"8.8.0"`, `"9.0.0"`, 1))}, 400, "more recent version"},
		{"invalid version", nil, request{file: lines(strings.Replace(dataView, `"8.0.0"`, `"8.x"`, 1))}, 400, "semver"},
		{"wrong extension", nil, request{file: lines(dataView), filename: "export.json"}, 400, "Invalid file extension .json"},
		{"unknown query parameter", nil, request{path: "/api/saved_objects/_import?force=true", file: lines(dataView)}, 400, "definition for this key is missing"},
		{"overwrite and createNewCopies", nil, request{path: "/api/saved_objects/_import?overwrite=true&createNewCopies=true", file: lines(dataView)}, 400, "createNewCopies"},
		{"unknown space", nil, request{path: "/s/nope/api/saved_objects/_import", file: lines(dataView)}, 404, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := kibanatest.New(t, tc.opts...)
			r := post(t, srv, tc.req)
			msg, _ := r.body["message"].(string)
			if r.status != tc.status || !strings.Contains(msg, tc.message) {
				t.Errorf("got %d %q, want %d with %q", r.status, msg, tc.status, tc.message)
			}
			if srv.Count("default") != 0 {
				t.Errorf("a refused import stored %d objects", srv.Count("default"))
			}
		})
	}
}

func TestImportObjectErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		errType string
		detail  string
	}{
		{"unknown type", lines(`{"type":"widget","id":"w","attributes":{"title":"W"},"references":[]}`), "unsupported_type", ""},
		{"missing reference", lines(search), "missing_references", "dv"},
		{"lens layer without its data view", lines(dataView, strings.Replace(lens, "indexpattern-datasource-layer-a", "other", 1)), "unknown", "layer"},
		{"panel naming no reference", lines(dataView, lens, strings.Replace(dash, `"1:panel_1"`, `"2:panel_2"`, 1)), "unknown", "panelRefName"},
		{"search without indexRefName", lines(dataView, strings.Replace(search, `indexRefName`, `x`, 1)), "unknown", "indexRefName"},
		{"data view without title", lines(strings.Replace(dataView, `"title":"logs-*-*",`, ``, 1)), "unknown", "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := kibanatest.New(t)
			r := post(t, srv, request{file: tc.file})
			errs := errorsOf(r)
			if r.status != 200 || r.body["success"] != false || len(errs) != 1 {
				t.Fatalf("got %d %v, want one object error", r.status, r.body)
			}
			e := errs[0]["error"].(map[string]any)
			b, _ := json.Marshal(e)
			if e["type"] != tc.errType || !strings.Contains(string(b), tc.detail) {
				t.Errorf("got error %s, want type %s mentioning %q", b, tc.errType, tc.detail)
			}
		})
	}
}

func TestReferenceToStoredObject(t *testing.T) {
	srv := kibanatest.New(t, kibanatest.WithSpaces("ops"))
	srv.Put("ops", kibanatest.Object{Type: "index-pattern", ID: "dv", Attributes: json.RawMessage(`{"title":"x"}`)})
	if r := post(t, srv, request{path: "/s/ops/api/saved_objects/_import", file: lines(search)}); r.body["success"] != true {
		t.Errorf("reference to an object stored in the space: got %v", r.body)
	}
	if r := post(t, srv, request{file: lines(search)}); r.body["success"] != false {
		t.Errorf("reference to an object stored in another space: got %v", r.body)
	}
	if _, ok := srv.Get("ops", "search", "s"); !ok {
		t.Error("the search is not stored in space ops")
	}
}

func TestWithoutTypes(t *testing.T) {
	srv := kibanatest.New(t, kibanatest.WithoutTypes("lens"))
	r := post(t, srv, request{file: lines(dataView, lens, dash)})
	errs := errorsOf(r)
	if r.body["successCount"] != 1.0 || len(errs) != 2 ||
		errs[0]["error"].(map[string]any)["type"] != "unsupported_type" ||
		errs[1]["error"].(map[string]any)["type"] != "missing_references" {
		t.Errorf("got %v, want the lens unsupported and the dashboard missing it", r.body)
	}
}

// A user without the privilege for a type in the file: the whole import
// is refused with 403, as Kibana's security does, and nothing is stored;
// a file without such a type is imported.
func TestWithoutPrivilege(t *testing.T) {
	srv := kibanatest.New(t, kibanatest.WithoutPrivilege("lens", "dashboard"))
	r := post(t, srv, request{file: lines(dataView, lens, dash)})
	if r.status != 403 || r.body["message"] != "Unable to bulk_create dashboard,lens" || r.body["error"] != "Forbidden" || r.body["statusCode"] != 403.0 {
		t.Errorf("got %d %v, want 403 Unable to bulk_create dashboard,lens", r.status, r.body)
	}
	if n := srv.Count("default"); n != 0 {
		t.Errorf("a refused import stored %d objects", n)
	}
	if r := post(t, srv, request{file: lines(dataView)}); r.status != 200 || r.body["successCount"] != 1.0 {
		t.Errorf("a data view alone: got %d %v", r.status, r.body)
	}
}
