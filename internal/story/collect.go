package story

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Query asks a Source for the documents whose correlation.id, trace.id or
// error.id is one of the given values, within [Since, Until] (a zero
// bound is open).
type Query struct {
	CorrelationIDs []string
	TraceIDs       []string
	ErrorIDs       []string
	Since, Until   time.Time
}

// Source is where documents are searched: local files or Elasticsearch.
//
// Search calls fn for every document matching q, in any order, and stops
// early when fn returns false. Errors are *Error values where the cause is
// known (unreachable, unauthorised, no data).
type Source interface {
	Search(ctx context.Context, q Query, fn func(Doc) bool) error
	// Describe names what is searched, for messages ("3 files in ./data").
	Describe() string
}

// IDKind is what an ID turned out to be.
type IDKind string

// The kinds of ID Collect recognises, named by the field that matched.
const (
	KindCorrelation IDKind = "correlation.id"
	KindTrace       IDKind = "trace.id"
	KindError       IDKind = "error.id"
)

// Label is how the kind reads in a sentence: "correlation ID".
func (k IDKind) Label() string {
	switch k {
	case KindCorrelation:
		return "correlation ID"
	case KindTrace:
		return "trace ID"
	case KindError:
		return "Sentry event ID"
	}
	return "ID"
}

// Request is what Collect looks for.
type Request struct {
	// ID is a correlation ID, a trace ID or a Sentry event ID.
	ID string
	// Since and Until bound the search by @timestamp; zero is open.
	Since, Until time.Time
	// Limit caps the number of documents; 0 means no cap.
	Limit int
}

// Result is what Collect found.
type Result struct {
	Request
	// Kind is what the ID matched ("" when nothing did).
	Kind IDKind
	// Source is Source.Describe().
	Source string
	// Docs are the documents, each once.
	Docs []Doc
	// CorrelationIDs and TraceIDs are every ID the documents carry, sorted.
	CorrelationIDs, TraceIDs []string
	// Truncated is set when Limit stopped the search.
	Truncated bool
}

// maxRounds bounds the expansion: ID → correlation IDs and traces → their
// other IDs → ...; a request rarely needs more than two.
const maxRounds = 4

// Collect finds every document of the request that ID names: first the
// documents carrying it as correlation.id, trace.id or error.id, then, in
// rounds, every document sharing a correlation ID or a trace ID with what
// was found, until no new ID appears.
func Collect(ctx context.Context, src Source, req Request) (*Result, error) {
	res := &Result{Request: req, Source: src.Describe()}
	seen := map[string]bool{}
	corrs, traces := map[string]bool{}, map[string]bool{}
	corrQ, hexQ := idTerms(req.ID)
	q := Query{CorrelationIDs: corrQ, TraceIDs: hexQ, ErrorIDs: hexQ, Since: req.Since, Until: req.Until}
	for round := 0; round < maxRounds && !res.Truncated; round++ {
		var newCorr, newTrace []string
		err := src.Search(ctx, q, func(d Doc) bool {
			if seen[d.Key] {
				return true
			}
			if req.Limit > 0 && len(res.Docs) >= req.Limit {
				res.Truncated = true
				return false
			}
			seen[d.Key] = true
			res.Docs = append(res.Docs, d)
			c, tr := d.IDs()
			if c != "" && !corrs[c] {
				corrs[c] = true
				newCorr = append(newCorr, c)
			}
			if tr != "" && !traces[tr] {
				traces[tr] = true
				newTrace = append(newTrace, tr)
			}
			res.Kind = strongerKind(res.Kind, matchKind(d, req.ID, hexQ))
			return true
		})
		if err != nil {
			return nil, err
		}
		// Ask again only for IDs not queried yet.
		newCorr = without(newCorr, q.CorrelationIDs, round == 0)
		newTrace = without(newTrace, q.TraceIDs, round == 0)
		if len(newCorr) == 0 && len(newTrace) == 0 {
			break
		}
		q = Query{CorrelationIDs: newCorr, TraceIDs: newTrace, Since: req.Since, Until: req.Until}
	}
	res.CorrelationIDs, res.TraceIDs = keys(corrs), keys(traces)
	return res, nil
}

// without drops from ids the ones queried in round 0 (the others were
// new by construction).
func without(ids, queried []string, first bool) []string {
	if !first {
		return ids
	}
	out := ids[:0]
	for _, id := range ids {
		if !contains(queried, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matchKind says which field of d carries the ID.
func matchKind(d Doc, id string, hex []string) IDKind {
	switch {
	case d.Str("correlation.id") == id:
		return KindCorrelation
	case len(hex) > 0 && strings.ToLower(d.Str("trace.id")) == hex[0]:
		return KindTrace
	case len(hex) > 0 && strings.ToLower(d.Str("error.id")) == hex[0]:
		return KindError
	}
	return ""
}

// strongerKind prefers correlation over trace over error: a correlation
// ID that is also the trace ID (the default when none was sent) is named
// a correlation ID.
func strongerKind(a, b IDKind) IDKind {
	rank := map[IDKind]int{"": 0, KindError: 1, KindTrace: 2, KindCorrelation: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// idTerms returns the values to query: the ID itself for correlation.id
// (case-sensitive), and, when it is 32 hex digits or a UUID, its lowercase
// undashed form for trace.id and error.id.
func idTerms(id string) (corr, hex []string) {
	corr = []string{id}
	h := strings.ToLower(id)
	if len(h) == 36 && h[8] == '-' && h[13] == '-' && h[18] == '-' && h[23] == '-' {
		h = strings.ReplaceAll(h, "-", "")
	}
	if len(h) != 32 {
		return corr, nil
	}
	for i := 0; i < len(h); i++ {
		if !('0' <= h[i] && h[i] <= '9' || 'a' <= h[i] && h[i] <= 'f') {
			return corr, nil
		}
	}
	return corr, []string{h}
}

// matches reports whether d answers q (the rule every source applies;
// Elasticsearch applies it server-side with the same fields).
func (q Query) matches(d Doc) bool {
	if t, ok := d.Time(); ok {
		if (!q.Since.IsZero() && t.Before(q.Since)) || (!q.Until.IsZero() && t.After(q.Until)) {
			return false
		}
	}
	c, tr := d.IDs()
	return (c != "" && contains(q.CorrelationIDs, c)) ||
		(tr != "" && contains(q.TraceIDs, tr)) ||
		(len(q.ErrorIDs) > 0 && contains(q.ErrorIDs, strings.ToLower(d.Str("error.id"))))
}

// terms are the strings one of which a matching document's line must
// contain: a cheap filter before JSON decoding. Hex IDs are matched in
// either case.
func (q Query) terms() [][]byte {
	var out [][]byte
	for _, id := range q.CorrelationIDs {
		out = append(out, []byte(id))
	}
	for _, id := range append(append([]string(nil), q.TraceIDs...), q.ErrorIDs...) {
		out = append(out, []byte(id), []byte(strings.ToUpper(id)))
	}
	return out
}
