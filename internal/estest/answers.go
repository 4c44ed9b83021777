package estest

import (
	"encoding/json"
	"strings"
)

// Elasticsearch does not answer a GET of a template or policy with the
// body it was given: it answers with what it stored, normalised. The
// functions below shape the answers the same way, so that a client that
// compares what it would install with what is installed is tested
// against the answers a real cluster gives.

// storedTemplate is a component or index template as GET
// _component_template or GET _index_template shows it: settings nested
// under "index" with string values ({"index":{"lifecycle":{"name":"p"}}}
// for "index.lifecycle.name": "p"), and an index template's data_stream
// with its defaults filled in.
func storedTemplate(raw json.RawMessage, index bool) any {
	var v map[string]any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	if t, ok := v["template"].(map[string]any); ok {
		if n, _ := parseDoc(mustJSON(t["settings"])); n != nil && n.kind == 'o' {
			t["settings"] = nestSettings(flattenSettings(n))
		}
	}
	if ds, ok := v["data_stream"].(map[string]any); ok && index {
		for k, def := range map[string]any{"hidden": false, "allow_custom_routing": false} {
			if _, set := ds[k]; !set {
				ds[k] = def
			}
		}
	}
	return v
}

// storedPolicy is the "policy" of an ILM policy as GET _ilm/policy shows
// it: every phase has a min_age ("0ms" when none was given) and a delete
// action its delete_searchable_snapshot (true).
func storedPolicy(raw json.RawMessage) any {
	var v struct {
		Policy map[string]any `json:"policy"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	phases, _ := v.Policy["phases"].(map[string]any)
	for _, p := range phases {
		ph, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if _, ok := ph["min_age"]; !ok {
			ph["min_age"] = "0ms"
		}
		acts, _ := ph["actions"].(map[string]any)
		if del, ok := acts["delete"].(map[string]any); ok {
			if _, ok := del["delete_searchable_snapshot"]; !ok {
				del["delete_searchable_snapshot"] = true
			}
		}
	}
	return v.Policy
}

// nestSettings turns flat "index.a.b" -> "1" settings into nested objects.
func nestSettings(flat map[string]string) map[string]any {
	out := map[string]any{}
	for k, val := range flat {
		parts := strings.Split(k, ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = val
	}
	return out
}

// mustJSON re-encodes a decoded JSON value; nil for nil (or, which cannot
// happen to a decoded value, one that does not encode).
func mustJSON(v any) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}
