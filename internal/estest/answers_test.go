package estest

import (
	"encoding/json"
	"testing"
)

// GET answers show what Elasticsearch stored, not the body it was given:
// settings nested with string values, an index template's data_stream
// with its defaults, every policy phase with a min_age, a delete action
// with delete_searchable_snapshot, the policy version counting PUTs.
func TestGetAnswersAsElasticsearchStores(t *testing.T) {
	s := New(t)
	put := func(path, body string) {
		t.Helper()
		if r := do(t, s, "PUT", path, "application/json", []byte(body), false); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", path, r.status, r.raw)
		}
	}
	put("/_component_template/c", `{"template":{"settings":{"index.mapping.total_fields.limit":5000,"lifecycle.name":"p"}}}`)
	put("/_index_template/i", `{"index_patterns":["x-*"],"data_stream":{},"composed_of":["c"]}`)
	put("/_ilm/policy/p", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}},"delete":{"min_age":"7d","actions":{"delete":{}}}}}}`)
	put("/_ilm/policy/p", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}},"delete":{"min_age":"7d","actions":{"delete":{}}}}}}`)

	for path, want := range map[string]string{
		"/_component_template/c": `{"component_templates":[{"component_template":{"template":{"settings":{"index":{"lifecycle":{"name":"p"},"mapping":{"total_fields":{"limit":"5000"}}}}}},"name":"c"}]}`,
		"/_index_template/i":     `{"index_templates":[{"index_template":{"composed_of":["c"],"data_stream":{"allow_custom_routing":false,"hidden":false},"index_patterns":["x-*"]},"name":"i"}]}`,
	} {
		if got := do(t, s, "GET", path, "", nil, false).raw; !sameJSON(t, got, want) {
			t.Errorf("GET %s:\n got %s\nwant %s", path, got, want)
		}
	}
	var p map[string]map[string]any
	if err := json.Unmarshal([]byte(do(t, s, "GET", "/_ilm/policy/p", "", nil, false).raw), &p); err != nil {
		t.Fatal(err)
	}
	want := `{"phases":{"delete":{"actions":{"delete":{"delete_searchable_snapshot":true}},"min_age":"7d"},"hot":{"actions":{"rollover":{"max_age":"1d"}},"min_age":"0ms"}}}`
	if got, _ := json.Marshal(p["p"]["policy"]); !sameJSON(t, string(got), want) || p["p"]["version"] != float64(2) {
		t.Errorf("GET _ilm/policy/p: got version %v policy %s, want version 2 and %s", p["p"]["version"], got, want)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
