package estest

import (
	"net/http"
	"testing"
)

// Forbid answers a refused action with Elasticsearch's 403 envelope and
// reason; a wildcard search finds nothing instead of failing; other
// actions go through, and Forbid without actions lifts the restriction.
func TestForbid(t *testing.T) {
	s := New(t)
	bulk := "{\"create\":{\"_index\":\"logs-a-b\"}}\n{\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n"
	if r := do(t, s, "POST", "/_bulk?refresh=true", "application/x-ndjson", []byte(bulk), false); r.status != 200 || r.body["errors"] != false {
		t.Fatalf("seed: %d %s", r.status, r.raw)
	}
	do(t, s, "POST", "/logs-a-b/_refresh", "", nil, false)
	if r := do(t, s, "POST", "/logs-*/_search", "application/json", []byte(`{}`), false); len(r.body["hits"].(map[string]any)["hits"].([]any)) != 1 {
		t.Fatalf("seed not found: %s", r.raw)
	}
	s.Forbid("oncall", "viewer", ActionSearch, ActionPutILMPolicy)

	r := do(t, s, "PUT", "/_ilm/policy/p", "application/json", []byte(`{"policy":{"phases":{}}}`), false)
	errObj, _ := r.body["error"].(map[string]any)
	rc, _ := errObj["root_cause"].([]any)
	want := "action [cluster:admin/ilm/put] is unauthorized for user [oncall] with effective roles [viewer], this action is granted by the cluster privileges [manage_ilm,manage,all]"
	if r.status != http.StatusForbidden || r.body["status"] != 403.0 || errObj["type"] != "security_exception" || errObj["reason"] != want || len(rc) != 1 {
		t.Errorf("PUT policy: got %d %s", r.status, r.raw)
	}

	r = do(t, s, "POST", "/logs-a-b,traces-*/_search", "application/json", []byte(`{}`), false)
	want = "action [indices:data/read/search] is unauthorized for user [oncall] with effective roles [viewer] on indices [logs-a-b], this action is granted by the index privileges [read,all]"
	if errObj, _ = r.body["error"].(map[string]any); r.status != http.StatusForbidden || errObj["reason"] != want {
		t.Errorf("search of a named index: got %d %s", r.status, r.raw)
	}
	r = do(t, s, "POST", "/logs-*/_search", "application/json", []byte(`{}`), false)
	if hits, _ := r.body["hits"].(map[string]any); r.status != 200 || len(hits["hits"].([]any)) != 0 {
		t.Errorf("search of a wildcard: got %d %s, want 200 and no hit", r.status, r.raw)
	}
	if r := do(t, s, "GET", "/_index_template/x", "", nil, false); r.status == http.StatusForbidden {
		t.Errorf("an action not forbidden was refused: %s", r.raw)
	}
	s.Forbid("", "")
	if r := do(t, s, "PUT", "/_ilm/policy/p", "application/json", []byte(`{"policy":{"phases":{}}}`), false); r.status != 200 {
		t.Errorf("after lifting: got %d %s", r.status, r.raw)
	}
}
