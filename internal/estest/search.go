package estest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
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
		return parseTerms(name, body)
	case "exists":
		field := ""
		if f := body.get("field"); f != nil {
			field = f.text()
		}
		return func(ix *index, d *Doc) bool { return len(d.terms[field]) > 0 }, nil
	case "range":
		return parseRange(body)
	case "bool":
		return parseBool(body)
	}
	return nil, fmt.Errorf("unknown query [%s]", name)
}

func parseTerms(name string, body *node) (query, error) {
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
	if len(values) == 0 && name == "term" {
		return nil, fmt.Errorf("[%s] query does not support a value of this shape", name)
	}
	if name == "terms" && v.kind != 'a' {
		return nil, fmt.Errorf("[terms] query does not support [%s]", field)
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
}

// parseRange is the range query over a date, numeric or keyword field:
// gt, gte, lt, lte (format is accepted; dates are RFC 3339 or epoch
// milliseconds).
func parseRange(body *node) (query, error) {
	if body.kind != 'o' || len(body.members) != 1 || body.members[0].val.kind != 'o' {
		return nil, fmt.Errorf("[range] query malformed, no start_object after query name")
	}
	field, spec := body.members[0].key, body.members[0].val
	type bound struct {
		op string
		v  *node
	}
	var bounds []bound
	for _, m := range spec.members {
		switch m.key {
		case "gt", "gte", "lt", "lte":
			bounds = append(bounds, bound{m.key, m.val})
		case "format", "time_zone", "boost":
		default:
			return nil, fmt.Errorf("[range] query does not support [%s]", m.key)
		}
	}
	return func(ix *index, d *Doc) bool {
		def, ok := ix.m.fields[field]
		if !ok || len(d.terms[field]) == 0 {
			return false
		}
		for _, have := range d.terms[field] {
			all := true
			for _, b := range bounds {
				want, err := convert(def.typ, b.v)
				if err != nil {
					return false
				}
				c := compareTerms(def.typ, have, want)
				switch b.op {
				case "gt":
					all = all && c > 0
				case "gte":
					all = all && c >= 0
				case "lt":
					all = all && c < 0
				case "lte":
					all = all && c <= 0
				}
			}
			if all {
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
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

func parseBool(body *node) (query, error) {
	var must, should, not []query
	msm := -1
	for _, mb := range body.members {
		var list *[]query
		switch mb.key {
		case "must", "filter":
			list = &must
		case "should":
			list = &should
		case "must_not":
			list = &not
		case "minimum_should_match":
			n, err := strconv.Atoi(mb.val.text())
			if err != nil || n < 0 {
				return nil, fmt.Errorf("[bool] minimum_should_match [%s] is not supported by the test server", mb.val.text())
			}
			msm = n
			continue
		case "boost":
			continue
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
	if msm < 0 { // Elasticsearch's default: one should clause when there is no must/filter
		msm = 0
		if len(must) == 0 && len(should) > 0 {
			msm = 1
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
		n := 0
		for _, q := range should {
			if n >= msm {
				break
			}
			if q(ix, d) {
				n++
			}
		}
		return n >= msm
	}, nil
}

// maxResultWindow is index.max_result_window: from + size may not pass it.
const maxResultWindow = 10000

// defaultTrackTotalHits is how far hits.total is counted exactly unless
// track_total_hits says otherwise.
const defaultTrackTotalHits = 10000

// searchRequest is a parsed _search body.
type searchRequest struct {
	q           query
	from, size  int
	sort        []sortKey
	after       []*node
	pit         string
	trackTotal  int // -1: do not track
	trackTotalB bool
}

type sortKey struct {
	field        string
	desc         bool
	unmappedType string
	nanos        bool // numeric_type date_nanos
}

// hit is a document that matched, with its sort values.
type hit struct {
	ix       *index
	d        *Doc
	shardDoc int64
	values   []any
}

func parseSearch(r *http.Request, body []byte) (*searchRequest, error) {
	var req *node
	if len(body) > 0 {
		var err error
		if req, err = parseDoc(body); err != nil {
			return nil, err
		}
	}
	q, err := parseQuery(req.get("query"))
	if err != nil {
		return nil, err
	}
	sr := &searchRequest{q: q, size: 10, trackTotal: defaultTrackTotalHits}
	if v := req.get("size"); v != nil {
		sr.size, _ = strconv.Atoi(v.text())
	}
	if v := r.URL.Query().Get("size"); v != "" {
		sr.size, _ = strconv.Atoi(v)
	}
	if v := req.get("from"); v != nil {
		sr.from, _ = strconv.Atoi(v.text())
	}
	if sr.size < 0 || sr.from < 0 {
		return nil, fmt.Errorf("[from] and [size] must be non-negative")
	}
	if sr.from+sr.size > maxResultWindow {
		return nil, fmt.Errorf("Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. "+
			"See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", maxResultWindow, sr.from+sr.size)
	}
	switch v := req.get("track_total_hits"); {
	case v == nil:
	case v.kind == 'b' && v.b:
		sr.trackTotal = int(^uint(0) >> 1)
	case v.kind == 'b':
		sr.trackTotal = -1
	default:
		sr.trackTotal, _ = strconv.Atoi(v.text())
	}
	if sr.sort, err = parseSort(req.get("sort")); err != nil {
		return nil, err
	}
	if p := req.get("pit"); p != nil {
		if sr.pit = p.get("id").text(); sr.pit == "" {
			return nil, fmt.Errorf("[pit] requires an [id]")
		}
	}
	if a := req.get("search_after"); a != nil {
		if a.kind != 'a' {
			return nil, fmt.Errorf("[search_after] must be an array")
		}
		sr.after = a.elems
	}
	return sr, nil
}

func parseSort(n *node) ([]sortKey, error) {
	if n == nil {
		return nil, nil
	}
	elems := n.elems
	if n.kind != 'a' {
		elems = []*node{n}
	}
	var keys []sortKey
	for _, e := range elems {
		switch e.kind {
		case 's':
			keys = append(keys, sortKey{field: e.str, desc: e.str == "_score"})
		case 'o':
			if len(e.members) != 1 {
				return nil, fmt.Errorf("[sort] malformed")
			}
			k := sortKey{field: e.members[0].key}
			opt := e.members[0].val
			if opt.kind == 's' {
				k.desc = opt.str == "desc"
			} else {
				k.desc = opt.get("order").text() == "desc"
				k.unmappedType = opt.get("unmapped_type").text()
				k.nanos = opt.get("numeric_type").text() == "date_nanos"
			}
			keys = append(keys, k)
		default:
			return nil, fmt.Errorf("[sort] malformed")
		}
	}
	return keys, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, expr string, body []byte, count bool) {
	sr, err := parseSearch(r, body)
	if err != nil {
		writeError(w, 400, "parsing_exception", err.Error())
		return
	}
	var targets []pitIndex
	switch {
	case sr.pit != "" && expr != "":
		writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;")
		return
	case sr.pit != "":
		p, ok := s.pits.get(sr.pit)
		if !ok {
			writeError(w, 404, "search_context_missing_exception", "No search context found for id ["+sr.pit+"]")
			return
		}
		targets = p.indices
	default:
		if expr == "" {
			expr = "_all"
		}
		targets = s.resolve(expr)
		if len(targets) == 0 && !containsWildcard(expr) && expr != "_all" {
			writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
			return
		}
	}
	if sr.pit != "" && len(sr.sort) > 0 && sr.sort[len(sr.sort)-1].field != "_shard_doc" {
		sr.sort = append(sr.sort, sortKey{field: "_shard_doc"})
	}
	s.mu.Lock()
	hits, total, err := s.match(sr, targets)
	s.mu.Unlock()
	if err != nil {
		writeError(w, 400, "search_phase_execution_exception", err.Error())
		return
	}
	sh := map[string]int{"total": len(targets), "successful": len(targets), "skipped": 0, "failed": 0}
	if count {
		writeJSON(w, 200, map[string]any{"count": total, "_shards": sh})
		return
	}
	writeJSON(w, 200, s.searchResponse(sr, hits, total, sh))
}

// match filters, sorts and pages the documents of targets (s.mu held).
func (s *Server) match(sr *searchRequest, targets []pitIndex) ([]hit, int, error) {
	for _, k := range sr.sort {
		if k.field == "_shard_doc" && sr.pit == "" {
			return nil, 0, fmt.Errorf("[_shard_doc] sort is only supported with point in time")
		}
		if k.field == "_shard_doc" || k.field == "_doc" || k.field == "_score" || k.unmappedType != "" {
			continue
		}
		mapped := false
		for _, t := range targets {
			_, ok := t.ix.m.fields[k.field]
			mapped = mapped || ok
		}
		if !mapped && len(targets) > 0 {
			return nil, 0, fmt.Errorf("No mapping found for [%s] in order to sort on", k.field)
		}
	}
	var all []hit
	for ord, t := range targets {
		for pos, d := range t.ix.docs[:t.visible] {
			if !sr.q(t.ix, d) {
				continue
			}
			h := hit{ix: t.ix, d: d, shardDoc: int64(ord)<<32 | int64(pos)}
			for _, k := range sr.sort {
				h.values = append(h.values, sortValue(k, t.ix, d, h.shardDoc))
			}
			all = append(all, h)
		}
	}
	total := len(all)
	if len(sr.sort) > 0 {
		sort.SliceStable(all, func(i, j int) bool { return compareHits(sr.sort, all[i].values, all[j].values) < 0 })
	}
	if len(sr.after) > 0 {
		if len(sr.after) != len(sr.sort) {
			return nil, 0, fmt.Errorf("search_after has %d value(s) but sort has %d", len(sr.after), len(sr.sort))
		}
		after := make([]any, len(sr.after))
		for i, v := range sr.after {
			after[i] = afterValue(v)
		}
		i := sort.Search(len(all), func(i int) bool { return compareHits(sr.sort, all[i].values, after) > 0 })
		all = all[i:]
	}
	if sr.from >= len(all) {
		return nil, total, nil
	}
	all = all[sr.from:]
	if len(all) > sr.size {
		all = all[:sr.size]
	}
	return all, total, nil
}

// sortValue is the value Elasticsearch returns in "sort" for the key:
// dates as epoch milliseconds (nanoseconds for date_nanos fields or with
// numeric_type date_nanos), numbers as numbers, keywords as strings, a
// missing value last (as Long.MAX_VALUE or null).
func sortValue(k sortKey, ix *index, d *Doc, shardDoc int64) any {
	switch k.field {
	case "_shard_doc", "_doc":
		return shardDoc
	case "_score":
		return 1.0
	}
	def := ix.m.fields[k.field]
	vals := d.terms[k.field]
	if len(vals) == 0 {
		if def.typ == "keyword" || def.typ == "" && k.unmappedType == "keyword" {
			return nil
		}
		if k.desc {
			return int64(-1 << 63)
		}
		return int64(1<<63 - 1)
	}
	v := vals[0]
	switch def.typ {
	case "date", "date_nanos":
		t, _ := time.Parse(time.RFC3339Nano, v)
		if def.typ == "date_nanos" || k.nanos {
			if def.typ == "date" {
				return t.Truncate(time.Millisecond).UnixNano()
			}
			return t.UnixNano()
		}
		return t.UnixMilli()
	case "long", "integer", "short", "byte", "unsigned_long":
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	case "double", "float", "half_float", "scaled_float":
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return v
}

// afterValue reads a search_after value as sortValue would have written it.
func afterValue(n *node) any {
	switch n.kind {
	case 'n':
		if i, err := strconv.ParseInt(n.str, 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(n.str, 64)
		return f
	case 'z':
		return nil
	}
	return n.text()
}

func compareHits(keys []sortKey, a, b []any) int {
	for i, k := range keys {
		c := compareValues(a[i], b[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, y)
		case float64:
			return cmpOrdered(float64(x), y)
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, float64(y))
		case float64:
			return cmpOrdered(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Server) searchResponse(sr *searchRequest, hits []hit, total int, sh map[string]int) map[string]any {
	out := make([]any, 0, len(hits))
	for _, h := range hits {
		m := map[string]any{"_index": h.ix.backing, "_id": h.d.ID, "_score": 1.0, "_source": json.RawMessage(h.d.Source)}
		if len(sr.sort) > 0 {
			m["_score"] = nil
			m["sort"] = h.values
		}
		out = append(out, m)
	}
	hm := map[string]any{"max_score": 1.0, "hits": out}
	if sr.trackTotal >= 0 {
		if total > sr.trackTotal {
			hm["total"] = map[string]any{"value": sr.trackTotal, "relation": "gte"}
		} else {
			hm["total"] = map[string]any{"value": total, "relation": "eq"}
		}
	}
	resp := map[string]any{"took": 1, "timed_out": false, "_shards": sh, "hits": hm}
	if sr.pit != "" {
		resp["pit_id"] = sr.pit
	}
	return resp
}

// pitIndex is one index as a search sees it: its documents up to visible.
type pitIndex struct {
	ix      *index
	visible int
}

// resolve lists the indices expr names, in name order, as they are now.
func (s *Server) resolve(expr string) []pitIndex {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []pitIndex
	for _, name := range s.sortedIndexNames() {
		if ix := s.indices[name]; matchIndexPattern(expr, name) {
			out = append(out, pitIndex{ix: ix, visible: ix.visible})
		}
	}
	return out
}

// pit is an open point in time: the indices and their searchable
// documents when it was opened.
type pit struct {
	indices []pitIndex
	expires time.Time
}

// pitTable holds the open points in time of a Server.
type pitTable struct {
	mu   sync.Mutex
	open map[string]*pit
}

func (t *pitTable) add(p *pit) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	t.mu.Lock()
	if t.open == nil {
		t.open = map[string]*pit{}
	}
	t.open[id] = p
	t.mu.Unlock()
	return id
}

func (t *pitTable) get(id string) (*pit, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.open[id]
	if ok && time.Now().After(p.expires) {
		delete(t.open, id)
		return nil, false
	}
	return p, ok
}

func (t *pitTable) remove(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.open[id]
	delete(t.open, id)
	return ok
}

// OpenPITs is how many points in time are open (not closed, not
// expired): a client that forgets to close its point in time leaks one.
func (s *Server) OpenPITs() int {
	s.pits.mu.Lock()
	defer s.pits.mu.Unlock()
	n := 0
	for _, p := range s.pits.open {
		if time.Now().Before(p.expires) {
			n++
		}
	}
	return n
}

// openPIT answers POST /<expr>/_pit?keep_alive=...: a snapshot of what is
// searchable now.
func (s *Server) openPIT(w http.ResponseWriter, r *http.Request, expr string) {
	ka := r.URL.Query().Get("keep_alive")
	if ka == "" {
		writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: [keep_alive] is missing;")
		return
	}
	d, err := parseKeepAlive(ka)
	if err != nil {
		writeError(w, 400, "parse_exception", err.Error())
		return
	}
	targets := s.resolve(expr)
	if len(targets) == 0 && !containsWildcard(expr) {
		writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
		return
	}
	id := s.pits.add(&pit{indices: targets, expires: time.Now().Add(d)})
	n := len(targets)
	writeJSON(w, 200, map[string]any{"id": id, "_shards": map[string]int{"total": n, "successful": n, "skipped": 0, "failed": 0}})
}

// closePIT answers DELETE /_pit {"id": ...}.
func (s *Server) closePIT(w http.ResponseWriter, body []byte) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.ID == "" {
		writeError(w, 400, "parse_exception", "request body or source parameter is required")
		return
	}
	if !s.pits.remove(req.ID) {
		writeJSON(w, 404, map[string]any{"succeeded": true, "num_freed": 0})
		return
	}
	writeJSON(w, 200, map[string]any{"succeeded": true, "num_freed": 1})
}

// parseKeepAlive reads an Elasticsearch time value: 30s, 1m, 2h, 1d.
func parseKeepAlive(s string) (time.Duration, error) {
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	for _, u := range []string{"ms", "s", "m", "h", "d"} {
		if n, ok := strings.CutSuffix(s, u); ok {
			if v, err := strconv.Atoi(n); err == nil && v > 0 {
				return time.Duration(v) * units[u], nil
			}
		}
	}
	return 0, fmt.Errorf("failed to parse setting [keep_alive] with value [%s] as a time value", s)
}
