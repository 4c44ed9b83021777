package estest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// bulkDocs indexes n documents into logs-app-default, the i-th with
// correlation.id "c<i%mod>", and refreshes. Timestamps repeat in runs of
// three, so that paging must break ties.
func bulkDocs(t *testing.T, s *Server, n, mod int) {
	t.Helper()
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, c(fmt.Sprint(i)), fmt.Sprintf(`{"@timestamp":"2026-01-01T00:00:%02d.%09dZ","correlation.id":"c%d","seq":%d}`, (i/3)/1000%60, (i/3)%1000, i%mod, i))
	}
	bulk(t, s, lines...)
	do(t, s, "POST", "/logs-*/_refresh", "", nil, false)
}

func openPIT(t *testing.T, s *Server, expr string) string {
	t.Helper()
	r := do(t, s, "POST", "/"+expr+"/_pit?keep_alive=1m", "", nil, false)
	id, _ := r.body["id"].(string)
	if r.status != 200 || id == "" {
		t.Fatalf("open PIT: HTTP %d %s", r.status, r.raw)
	}
	return id
}

// TestPITSearchAfterPagesEveryDocumentOnce: sorted by @timestamp with the
// point in time's _shard_doc tiebreaker, search_after visits every match
// once, in order, though timestamps repeat across page boundaries; what
// is indexed after the PIT opened is not seen.
func TestPITSearchAfterPagesEveryDocumentOnce(t *testing.T) {
	s := New(t)
	bulkDocs(t, s, 100, 2)
	id := openPIT(t, s, "logs-*")
	bulk(t, s, c("late"), `{"@timestamp":"2026-01-01T00:00:00Z","correlation.id":"c0"}`)
	do(t, s, "POST", "/logs-*/_refresh", "", nil, false)

	var seen []int
	var after json.RawMessage
	for page := 0; page < 100; page++ {
		body := `{"size":7,"pit":{"id":"` + id + `","keep_alive":"1m"},"track_total_hits":false,` +
			`"query":{"bool":{"filter":[{"bool":{"should":[{"terms":{"correlation.id":["c0"]}}],"minimum_should_match":1}}]}},` +
			`"sort":[{"@timestamp":{"order":"asc","numeric_type":"date_nanos","unmapped_type":"date_nanos"}}]`
		if after != nil {
			body += `,"search_after":` + string(after)
		}
		r := do(t, s, "POST", "/_search", "application/json", []byte(body+"}"), false)
		if r.status != 200 {
			t.Fatalf("HTTP %d: %s", r.status, r.raw)
		}
		if r.body["pit_id"] != id {
			t.Errorf("pit_id %v, want %s", r.body["pit_id"], id)
		}
		hm := r.body["hits"].(map[string]any)
		if _, ok := hm["total"]; ok {
			t.Error("hits.total present with track_total_hits false")
		}
		hits := hm["hits"].([]any)
		for _, h := range hits {
			src := h.(map[string]any)["_source"].(map[string]any)
			seq, ok := src["seq"].(float64)
			if !ok {
				t.Fatalf("a document indexed after the PIT opened was returned: %v", src)
			}
			seen = append(seen, int(seq))
			sv := h.(map[string]any)["sort"].([]any)
			if len(sv) != 2 {
				t.Fatalf("sort values %v, want [timestamp, _shard_doc]", sv)
			}
			after, _ = json.Marshal(sv)
		}
		if len(hits) < 7 {
			break
		}
	}
	if len(seen) != 50 {
		t.Fatalf("got %d documents, want the 50 with c0: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("out of order or repeated at %d: %v", i, seen)
		}
	}
	if r := do(t, s, "DELETE", "/_pit", "application/json", []byte(`{"id":"`+id+`"}`), false); r.status != 200 || s.OpenPITs() != 0 {
		t.Errorf("close PIT: HTTP %d, %d still open", r.status, s.OpenPITs())
	}
	r := do(t, s, "POST", "/_search", "application/json", []byte(`{"pit":{"id":"`+id+`"}}`), false)
	if r.status != 404 || !strings.Contains(r.raw, "search_context_missing_exception") {
		t.Errorf("search with a closed PIT: HTTP %d %s, want 404", r.status, r.raw)
	}
}

// TestSearchIsAsStrictAsElasticsearch: the limits a client must respect.
func TestSearchIsAsStrictAsElasticsearch(t *testing.T) {
	s := New(t)
	bulkDocs(t, s, 30, 3)
	id := openPIT(t, s, "logs-*")
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"result window", "/logs-*/_search", `{"size":10001}`, 400, "Result window is too large"},
		{"from plus size", "/logs-*/_search", `{"from":9000,"size":1001}`, 400, "Result window is too large"},
		{"index with PIT", "/logs-*/_search", `{"pit":{"id":"` + id + `"}}`, 400, "cannot be used with point in time"},
		{"sort on an unmapped field", "/logs-*/_search", `{"sort":[{"nope":"asc"}]}`, 400, "No mapping found for [nope]"},
		{"_shard_doc without PIT", "/logs-*/_search", `{"sort":["_shard_doc"]}`, 400, "only supported with point in time"},
		{"search_after of the wrong length", "/_search", `{"pit":{"id":"` + id + `"},"sort":[{"@timestamp":"asc"}],"search_after":[1]}`, 400, "search_after has 1 value(s) but sort has 2"},
		{"unknown PIT", "/_search", `{"pit":{"id":"nope"}}`, 404, "No search context found"},
		{"PIT without keep_alive", "/logs-*/_pit", ``, 400, "[keep_alive] is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := do(t, s, method, tc.path, "application/json", body, false)
			if r.status != tc.status || !strings.Contains(r.raw, tc.want) {
				t.Errorf("HTTP %d %s; want %d with %q", r.status, r.raw, tc.status, tc.want)
			}
		})
	}
}

func TestTotalHitsAndRange(t *testing.T) {
	s := New(t)
	bulkDocs(t, s, 12000, 1) // all c0
	r := do(t, s, "POST", "/logs-*/_search", "application/json", []byte(`{"size":0}`), false)
	tot := r.body["hits"].(map[string]any)["total"].(map[string]any)
	if tot["value"].(float64) != 10000 || tot["relation"] != "gte" {
		t.Errorf("default total %v, want 10000 gte", tot)
	}
	r = do(t, s, "POST", "/logs-*/_search", "application/json", []byte(`{"size":0,"track_total_hits":true}`), false)
	if hits(r) != 12000 {
		t.Errorf("track_total_hits true: total %d, want 12000", hits(r))
	}
	// Documents i have @timestamp second (i/3)/1000, so seconds 0..3.
	q := `{"size":0,"track_total_hits":true,"query":{"range":{"@timestamp":{"gte":"2026-01-01T00:00:01Z","lt":"2026-01-01T00:00:02Z","format":"strict_date_optional_time_nanos"}}}}`
	if r := do(t, s, "POST", "/logs-*/_search", "application/json", []byte(q), false); hits(r) != 3000 {
		t.Errorf("range: %d hits, want 3000: %s", hits(r), r.raw)
	}
	q = `{"size":0,"track_total_hits":true,"query":{"bool":{"should":[{"term":{"seq":1}},{"term":{"seq":2}}],"minimum_should_match":2}}}`
	if r := do(t, s, "POST", "/logs-*/_search", "application/json", []byte(q), false); hits(r) != 0 {
		t.Errorf("minimum_should_match 2 of two exclusive terms: %d hits, want 0", hits(r))
	}
}
