package estest

import (
	"fmt"
	"testing"
)

// The range query as glassbox doctor sends it: a _count of the documents
// since a time, on a date field, with the bounds Elasticsearch takes.
func TestCountRange(t *testing.T) {
	s := New(t)
	bulk(t, s,
		c("old"), `{"@timestamp":"2026-01-01T10:00:00Z","n":1}`,
		c("mid"), `{"@timestamp":"2026-01-01T11:00:00.5Z","n":5}`,
		c("new"), `{"@timestamp":"2026-01-01T12:00:00Z","n":9}`)
	do(t, s, "POST", "/logs-*/_refresh", "", nil, false)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{`{"range":{"@timestamp":{"gte":"2026-01-01T11:00:00.5Z"}}}`, 2},
		{`{"range":{"@timestamp":{"gt":"2026-01-01T11:00:00.5Z"}}}`, 1},
		{`{"range":{"@timestamp":{"gte":"2026-01-01T10:30:00Z","lt":"2026-01-01T12:00:00Z"}}}`, 1},
		{`{"range":{"@timestamp":{"lte":"2026-01-01T12:00:00Z","format":"strict_date_optional_time"}}}`, 3},
		{`{"range":{"@timestamp":{"gte":"2027-01-01T00:00:00Z"}}}`, 0},
		{`{"range":{"n":{"gt":1,"lte":5}}}`, 1},
		{`{"range":{"missing":{"gte":1}}}`, 0},
	} {
		r := do(t, s, "POST", "/logs-*-*/_count", "application/json", []byte(`{"query":`+tc.query+`}`), false)
		if got, _ := r.body["count"].(float64); r.status != 200 || int(got) != tc.want {
			t.Errorf("%s: got HTTP %d count %v, want %d: %s", tc.query, r.status, r.body["count"], tc.want, r.raw)
		}
	}
	for _, bad := range []string{`{"range":{"@timestamp":{"from":"x"}}}`, `{"range":{"@timestamp":"x"}}`} {
		if r := do(t, s, "POST", "/logs-*-*/_count", "application/json", []byte(fmt.Sprintf(`{"query":%s}`, bad)), false); r.status != 400 {
			t.Errorf("%s: got HTTP %d, want 400", bad, r.status)
		}
	}
}
