package estest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	es "github.com/elastic/go-elasticsearch/v8"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, s *Server, method, path, contentType string, body []byte, gz bool) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			body = b.Bytes()
		}
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func bulk(t *testing.T, s *Server, lines ...string) resp {
	t.Helper()
	return do(t, s, "POST", "/_bulk", "application/x-ndjson", []byte(strings.Join(lines, "\n")+"\n"), false)
}

// item returns the first item's result object.
func item(t *testing.T, r resp, i int) map[string]any {
	t.Helper()
	items, _ := r.body["items"].([]any)
	if len(items) <= i {
		t.Fatalf("response has %d items, want > %d: %s", len(items), i, r.raw)
	}
	for _, v := range items[i].(map[string]any) {
		return v.(map[string]any)
	}
	return nil
}

func errType(m map[string]any) (string, string) {
	e, _ := m["error"].(map[string]any)
	typ, _ := e["type"].(string)
	reason, _ := e["reason"].(string)
	return typ, reason
}

const create = `{"create":{"_index":"logs-app-default","_id":"%s"}}`

func c(id string) string { return strings.Replace(create, "%s", id, 1) }

func TestBulkItemResults(t *testing.T) {
	cases := []struct {
		name       string
		setup      []string // bulk lines sent first
		lines      []string
		status     float64
		errType    string
		reasonPart string
	}{
		{"created", nil, []string{c("1"), `{"@timestamp":"2026-01-01T00:00:00Z","message":"m"}`}, 201, "", ""},
		{"seen _id", []string{c("1"), `{"@timestamp":"2026-01-01T00:00:00Z"}`}, []string{c("1"), `{"@timestamp":"2026-01-01T00:00:00Z"}`}, 409, "version_conflict_engine_exception", "document already exists"},
		{"index op with _id into a data stream", nil, []string{`{"index":{"_index":"logs-app-default","_id":"x"}}`, `{"@timestamp":"2026-01-01T00:00:00Z"}`}, 400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams"},
		{"missing @timestamp", nil, []string{c("2"), `{"message":"m"}`}, 400, "document_parsing_exception", "data stream timestamp field [@timestamp] is missing"},
		{"string then object prefix", []string{c("3"), `{"@timestamp":"2026-01-01T00:00:00Z","http":"x"}`}, []string{c("4"), `{"@timestamp":"2026-01-01T00:00:00Z","http.request.method":"GET"}`}, 400, "document_parsing_exception", "Existing mapping for [http] must be of type object but found [keyword]"},
		{"long then string", []string{c("5"), `{"@timestamp":"2026-01-01T00:00:00Z","n":1}`}, []string{c("6"), `{"@timestamp":"2026-01-01T00:00:00Z","n":"abc"}`}, 400, "document_parsing_exception", "failed to parse field [n] of type [long]"},
		{"object then value", []string{c("7"), `{"@timestamp":"2026-01-01T00:00:00Z","user":{"id":1}}`}, []string{c("8"), `{"@timestamp":"2026-01-01T00:00:00Z","user":"x"}`}, 400, "document_parsing_exception", "object mapping for [user] tried to parse field [user] as object, but found a concrete value"},
		{"duplicate key", nil, []string{c("9"), `{"@timestamp":"2026-01-01T00:00:00Z","a":1,"a":2}`}, 400, "document_parsing_exception", "Duplicate field 'a'"},
		{"metadata field", nil, []string{c("m"), `{"@timestamp":"2026-01-01T00:00:00Z","_id":"x"}`}, 400, "document_parsing_exception", "Field [_id] is a metadata field and cannot be added inside a document"},
		{"uppercase index", nil, []string{`{"create":{"_index":"Logs-App-default","_id":"1"}}`, `{"@timestamp":"2026-01-01T00:00:00Z"}`}, 400, "invalid_index_name_exception", "must be lowercase"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New(t)
			if tc.setup != nil {
				if r := bulk(t, s, tc.setup...); r.body["errors"] != false {
					t.Fatalf("setup failed: %s", r.raw)
				}
			}
			r := bulk(t, s, tc.lines...)
			if r.status != 200 {
				t.Fatalf("got HTTP %d, want 200: %s", r.status, r.raw)
			}
			if got := r.header.Get("X-Elastic-Product"); got != "Elasticsearch" {
				t.Errorf("got X-Elastic-Product %q, want Elasticsearch", got)
			}
			it := item(t, r, 0)
			if it["status"] != tc.status {
				t.Fatalf("got item status %v, want %v: %s", it["status"], tc.status, r.raw)
			}
			typ, reason := errType(it)
			if typ != tc.errType || !strings.Contains(reason, tc.reasonPart) {
				t.Errorf("got error %q %q, want %q containing %q", typ, reason, tc.errType, tc.reasonPart)
			}
			if r.body["errors"] != (tc.errType != "") {
				t.Errorf("got errors %v, want %v", r.body["errors"], tc.errType != "")
			}
			if tc.status == 201 && !strings.HasPrefix(it["_index"].(string), ".ds-logs-app-default-") {
				t.Errorf("got _index %v, want the data stream's backing index", it["_index"])
			}
		})
	}
}

func TestBulkRequestErrors(t *testing.T) {
	s := New(t)
	cases := []struct {
		name, ct, body string
		gz             bool
		status         int
		want           string
	}{
		{"no trailing newline", "application/x-ndjson", c("1") + "\n" + `{"@timestamp":"2026-01-01T00:00:00Z"}`, false, 400, "must be terminated by a newline"},
		{"wrong content type", "text/plain", c("1") + "\n{}\n", false, 406, "not supported"},
		{"malformed action", "application/x-ndjson", "[1]\n{}\n", false, 400, "Malformed action/metadata line [1]"},
		{"empty", "application/x-ndjson", "", false, 400, "no requests added"},
		{"gzip", "application/x-ndjson", c("g") + "\n" + `{"@timestamp":"2026-01-01T00:00:00Z"}` + "\n", true, 200, `"status":201`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, "POST", "/_bulk", tc.ct, []byte(tc.body), tc.gz)
			if r.status != tc.status || !strings.Contains(r.raw, tc.want) {
				t.Fatalf("got HTTP %d %s, want %d containing %q", r.status, r.raw, tc.status, tc.want)
			}
			if r.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Errorf("error response lacks the product header")
			}
		})
	}
}

func TestSearchSeesRefreshedDocumentsOnly(t *testing.T) {
	s := New(t)
	bulk(t, s, c("1"), `{"@timestamp":"2026-01-01T00:00:00Z","correlation":{"id":"abc"}}`, c("2"), `{"@timestamp":"2026-01-01T00:00:00Z","correlation.id":"zzz"}`)
	q := []byte(`{"query":{"term":{"correlation.id":"abc"}}}`)
	if r := do(t, s, "POST", "/logs-app-default/_search", "application/json", q, false); r.raw == "" || hits(r) != 0 {
		t.Fatalf("got %d hits before refresh, want 0", hits(r))
	}
	do(t, s, "POST", "/logs-*/_refresh", "", nil, false)
	if r := do(t, s, "POST", "/logs-*/_search", "application/json", q, false); hits(r) != 1 {
		t.Fatalf("got %d hits after refresh, want 1: %s", hits(r), r.raw)
	}
	if r := do(t, s, "POST", "/nope/_search", "application/json", q, false); r.status != 404 {
		t.Fatalf("search of a missing index: got HTTP %d, want 404", r.status)
	}
}

func hits(r resp) int {
	h, _ := r.body["hits"].(map[string]any)
	tot, _ := h["total"].(map[string]any)
	v, _ := tot["value"].(float64)
	return int(v)
}

func TestTemplatesAreValidated(t *testing.T) {
	s := New(t)
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"missing component", "/_index_template/x", `{"index_patterns":["x-*"],"composed_of":["nope"]}`, 400, "that do not exist"},
		{"unknown setting", "/_component_template/x", `{"template":{"settings":{"index.bogus":1}}}`, 400, "unknown setting [index.bogus]"},
		{"unknown type", "/_component_template/x", `{"template":{"mappings":{"properties":{"a":{"type":"strnig"}}}}}`, 400, "No handler for type [strnig]"},
		{"no patterns", "/_index_template/x", `{"priority":1}`, 400, "index patterns are missing"},
		{"bad ILM phase", "/_ilm/policy/p", `{"policy":{"phases":{"lukewarm":{}}}}`, 400, "does not support phase [lukewarm]"},
		{"good", "/_component_template/ok", `{"template":{"mappings":{"subobjects":false,"properties":{"a.b":{"type":"keyword"}}}},"version":1}`, 200, "acknowledged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, "PUT", tc.path, "application/json", []byte(tc.body), false)
			if r.status != tc.status || !strings.Contains(r.raw, tc.want) {
				t.Fatalf("got HTTP %d %s, want %d containing %q", r.status, r.raw, tc.status, tc.want)
			}
		})
	}
	if r := do(t, s, "GET", "/_index_template/missing", "", nil, false); r.status != 404 {
		t.Errorf("GET of a missing template: got HTTP %d, want 404", r.status)
	}
}

func TestSubobjectsFalseStoresConflicts(t *testing.T) {
	s := New(t)
	do(t, s, "PUT", "/_component_template/m", "application/json", []byte(`{"template":{"mappings":{"subobjects":false,"dynamic_templates":[{"s":{"match_mapping_type":"string","mapping":{"type":"keyword"}}},{"l":{"match_mapping_type":"long","mapping":{"type":"keyword"}}}]}}}`), false)
	if r := do(t, s, "PUT", "/_index_template/t", "application/json", []byte(`{"index_patterns":["logs-*-*"],"priority":200,"data_stream":{},"composed_of":["m"]}`), false); r.status != 200 {
		t.Fatal(r.raw)
	}
	r := bulk(t, s,
		c("1"), `{"@timestamp":"2026-01-01T00:00:00Z","http":"x","http.request.method":"GET"}`,
		c("2"), `{"@timestamp":"2026-01-01T00:00:00Z","n":1}`,
		c("3"), `{"@timestamp":"2026-01-01T00:00:00Z","n":"abc","n.x":{"deep":"y"}}`,
		c("4"), `{"@timestamp":"2026-01-01T00:00:00Z","n":{"z":1}}`,
	)
	if r.body["errors"] != false {
		t.Fatalf("got errors with subobjects:false: %s", r.raw)
	}
	m := s.Mapping("logs-app-default")
	for _, f := range []string{"http", "http.request.method", "n", "n.x.deep", "n.z"} {
		if m[f] != "keyword" {
			t.Errorf("got %s mapped as %q, want keyword", f, m[f])
		}
	}
}

func TestFaults(t *testing.T) {
	s := New(t)
	line := []string{c("1"), `{"@timestamp":"2026-01-01T00:00:00Z"}`}
	s.Inject(Fault{Status: 429})
	if r := bulk(t, s, line...); r.status != 429 || !strings.Contains(r.raw, "es_rejected_execution_exception") {
		t.Fatalf("got HTTP %d %s, want 429 es_rejected_execution_exception", r.status, r.raw)
	}
	s.Inject(Fault{Status: 413})
	if r := bulk(t, s, line...); r.status != 413 {
		t.Fatalf("got HTTP %d, want 413", r.status)
	}
	s.Inject(Fault{Malformed: true})
	if r := bulk(t, s, line...); r.status != 200 || json.Valid([]byte(r.raw)) {
		t.Fatalf("got HTTP %d valid=%v, want 200 with a malformed body", r.status, json.Valid([]byte(r.raw)))
	}
	s.FailItems(1, 503)
	if it := item(t, bulk(t, s, line...), 0); it["status"] != float64(503) {
		t.Fatalf("got item status %v, want 503", it["status"])
	}
	if err := s.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	_, err := http.Get(s.URL() + "/")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v while refused, want connection refused", err)
	}
	if err := s.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	if it := item(t, bulk(t, s, line...), 0); it["status"] != float64(201) {
		t.Fatalf("after the outage: got item status %v, want 201", it["status"])
	}
}

func TestProductCheckOfTheRealClient(t *testing.T) {
	s := New(t)
	client, err := es.NewClient(es.Config{Addresses: []string{s.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetProductHeader(false)
	if _, err := client.Info(); err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Fatalf("got %v without the product header, want the client's unknown-product error", err)
	}
	s.SetProductHeader(true)
	res, err := client.Info()
	if err != nil {
		t.Fatalf("got %v with the product header, want success", err)
	}
	res.Body.Close()
}
