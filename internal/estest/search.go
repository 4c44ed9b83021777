package estest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) refresh(w http.ResponseWriter, expr string) {
	s.mu.Lock()
	n := 0
	for name, ix := range s.indices {
		if matchIndexPattern(expr, name) {
			ix.visible = len(ix.docs)
			n++
		}
	}
	s.mu.Unlock()
	if n == 0 && !containsWildcard(expr) {
		writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
		return
	}
	writeJSON(w, 200, map[string]any{"_shards": map[string]int{"total": n, "successful": n, "failed": 0}})
}

func containsWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == ',' {
			return true
		}
	}
	return false
}

// query is a parsed query: a predicate over a document.
type query func(ix *index, d *Doc) bool

func parseQuery(n *node) (query, error) {
	if n == nil {
		return func(*index, *Doc) bool { return true }, nil
	}
	if n.kind != 'o' || len(n.members) != 1 {
		return nil, fmt.Errorf("[_na] query malformed, must start with start_object")
	}
	name, body := n.members[0].key, n.members[0].val
	switch name {
	case "match_all":
		return func(*index, *Doc) bool { return true }, nil
	case "term", "terms":
		if body.kind != 'o' || len(body.members) != 1 {
			return nil, fmt.Errorf("[%s] query malformed", name)
		}
		field, v := body.members[0].key, body.members[0].val
		var values []*node
		switch {
		case name == "terms" && v.kind == 'a':
			values = v.elems
		case name == "term" && v.kind == 'o':
			if vv := v.get("value"); vv != nil {
				values = []*node{vv}
			}
		case name == "term":
			values = []*node{v}
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("[%s] query does not support a value of this shape", name)
		}
		return func(ix *index, d *Doc) bool {
			def, ok := ix.m.fields[field]
			if !ok {
				return false
			}
			for _, qv := range values {
				t, err := convert(def.typ, qv)
				if err != nil {
					continue
				}
				for _, have := range d.terms[field] {
					if have == t {
						return true
					}
				}
			}
			return false
		}, nil
	case "range":
		return parseRange(body)
	case "exists":
		field := ""
		if f := body.get("field"); f != nil {
			field = f.text()
		}
		return func(ix *index, d *Doc) bool { return len(d.terms[field]) > 0 }, nil
	case "bool":
		var must, should, not []query
		for _, mb := range body.members {
			var list *[]query
			switch mb.key {
			case "must", "filter":
				list = &must
			case "should":
				list = &should
			case "must_not":
				list = &not
			default:
				return nil, fmt.Errorf("[bool] query does not support [%s]", mb.key)
			}
			elems := mb.val.elems
			if mb.val.kind == 'o' {
				elems = []*node{mb.val}
			}
			for _, e := range elems {
				q, err := parseQuery(e)
				if err != nil {
					return nil, err
				}
				*list = append(*list, q)
			}
		}
		return func(ix *index, d *Doc) bool {
			for _, q := range must {
				if !q(ix, d) {
					return false
				}
			}
			for _, q := range not {
				if q(ix, d) {
					return false
				}
			}
			if len(should) > 0 && len(must) == 0 {
				for _, q := range should {
					if q(ix, d) {
						return true
					}
				}
				return false
			}
			return true
		}, nil
	}
	return nil, fmt.Errorf("unknown query [%s]", name)
}

// parseRange is the range query on a date, numeric or keyword field: gt,
// gte, lt, lte (format is accepted; dates are RFC 3339 or epoch
// milliseconds, without date math). A document matches when one of its
// values is within every bound; a value that cannot be converted to the
// field's type matches nothing.
func parseRange(body *node) (query, error) {
	if body.kind != 'o' || len(body.members) != 1 || body.members[0].val.kind != 'o' {
		return nil, fmt.Errorf("[range] query malformed, no start_object after query name")
	}
	field, spec := body.members[0].key, body.members[0].val
	for _, m := range spec.members {
		switch m.key {
		case "gt", "gte", "lt", "lte", "format", "time_zone", "boost":
		default:
			return nil, fmt.Errorf("[range] query does not support [%s]", m.key)
		}
	}
	return func(ix *index, d *Doc) bool {
		def, ok := ix.m.fields[field]
		if !ok {
			return false
		}
		for _, have := range d.terms[field] {
			in := true
			for _, m := range spec.members {
				if m.key != "gt" && m.key != "gte" && m.key != "lt" && m.key != "lte" {
					continue
				}
				want, err := convert(def.typ, m.val)
				if err != nil {
					return false
				}
				c := compareTerms(def.typ, have, want)
				in = in && map[string]bool{"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[m.key]
			}
			if in {
				return true
			}
		}
		return false
	}, nil
}

// compareTerms orders two indexed terms of a field of type typ.
func compareTerms(typ, a, b string) int {
	switch typ {
	case "date", "date_nanos":
		ta, _ := time.Parse(time.RFC3339Nano, a)
		tb, _ := time.Parse(time.RFC3339Nano, b)
		return ta.Compare(tb)
	case "long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float":
		fa, _ := strconv.ParseFloat(a, 64)
		fb, _ := strconv.ParseFloat(b, 64)
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(a, b)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, expr string, body []byte, count bool) {
	var req *node
	if len(body) > 0 {
		var err error
		if req, err = parseDoc(body); err != nil {
			writeError(w, 400, "parsing_exception", err.Error())
			return
		}
	}
	q, err := parseQuery(req.get("query"))
	if err != nil {
		writeError(w, 400, "parsing_exception", err.Error())
		return
	}
	size := 10
	if v := req.get("size"); v != nil {
		size, _ = strconv.Atoi(v.text())
	}
	if v := r.URL.Query().Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	s.mu.Lock()
	var hits []any
	total := 0
	matched := 0
	for _, name := range s.sortedIndexNames() {
		ix := s.indices[name]
		if !matchIndexPattern(expr, name) {
			continue
		}
		matched++
		for _, d := range ix.docs[:ix.visible] {
			if !q(ix, d) {
				continue
			}
			total++
			if len(hits) < size {
				hits = append(hits, map[string]any{"_index": ix.backing, "_id": d.ID, "_score": 1.0, "_source": json.RawMessage(d.Source)})
			}
		}
	}
	s.mu.Unlock()
	if matched == 0 && !containsWildcard(expr) {
		writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
		return
	}
	sh := map[string]int{"total": matched, "successful": matched, "skipped": 0, "failed": 0}
	if count {
		writeJSON(w, 200, map[string]any{"count": total, "_shards": sh})
		return
	}
	if hits == nil {
		hits = []any{}
	}
	writeJSON(w, 200, map[string]any{
		"took": 1, "timed_out": false, "_shards": sh,
		"hits": map[string]any{"total": map[string]any{"value": total, "relation": "eq"}, "max_score": 1.0, "hits": hits},
	})
}
