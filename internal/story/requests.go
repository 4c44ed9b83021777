package story

import (
	"sort"
	"time"
)

// An ID may stand for several requests: within the Sentry exporter's
// aggregation window, repeats of one failure report the first event's ID,
// so the records of every repeat carry the same error.id; a trace may be
// shared by requests too. When the documents found belong to more than
// one correlation ID, the story is told request by request: Requests
// holds one story per correlation ID, oldest first (the first is the
// request the Sentry event was first reported for; the repeats follow in
// the order they happened).
//
// A trace belongs, whole, to the correlation ID of its earliest span that
// carries one (else of its earliest log line that does), so that a span
// tree is never cut; a document outside any trace found belongs to its
// own correlation ID; one with neither to the request "" (no correlation
// ID).

// group splits the documents of s by request and, when there is more
// than one, fills s.Requests.
func (s *Story) group() {
	owner := traceOwners(s)
	byCorr := map[string][]Doc{}
	var order []string
	for _, d := range s.Docs {
		c, tr := d.IDs()
		if o, ok := owner[tr]; ok && tr != "" {
			c = o
		}
		if _, ok := byCorr[c]; !ok {
			order = append(order, c)
		}
		byCorr[c] = append(byCorr[c], d)
	}
	if len(order) < 2 {
		if len(order) == 1 {
			s.sole = order[0]
		}
		return
	}
	for _, c := range order {
		res := &Result{Request: s.Request, Kind: s.Kind, Source: s.Source, Docs: byCorr[c]}
		ids := map[string]bool{}
		for _, d := range res.Docs {
			if _, tr := d.IDs(); tr != "" {
				ids[tr] = true
			}
		}
		res.TraceIDs = keys(ids)
		if c != "" {
			res.CorrelationIDs = []string{c}
		}
		s.Requests = append(s.Requests, build(res, false))
	}
	sort.SliceStable(s.Requests, func(i, j int) bool { return s.Requests[i].Start.Before(s.Requests[j].Start) })
	s.requestOf = map[string]int{}
	for i, r := range s.Requests {
		for _, d := range r.Docs {
			s.requestOf[d.Key] = i
		}
	}
}

// traceOwners maps each trace ID to the correlation ID its earliest span
// carrying one has (else its earliest log line carrying one).
func traceOwners(s *Story) map[string]string {
	type first struct {
		t    time.Time
		corr string
		span bool
	}
	best := map[string]first{}
	consider := func(tr, corr string, t time.Time, span bool) {
		if tr == "" || corr == "" {
			return
		}
		b, ok := best[tr]
		if !ok || (span && !b.span) || (span == b.span && t.Before(b.t)) {
			best[tr] = first{t, corr, span}
		}
	}
	for _, sp := range s.Spans {
		consider(sp.TraceID, sp.Doc.Str("correlation.id"), sp.Start, true)
	}
	for _, l := range s.Logs {
		consider(l.TraceID, l.CorrelationID, l.Time, false)
	}
	out := map[string]string{}
	for tr, b := range best {
		out[tr] = b.corr
	}
	return out
}

// RequestOf returns the index in Requests of the request a log line
// belongs to, or -1 when the story is not split by request.
func (s *Story) RequestOf(l *Log) int {
	if i, ok := s.requestOf[l.Doc.Key]; ok {
		return i
	}
	return -1
}

func (s *Story) requestOfSpan(sp *Span) int {
	if i, ok := s.requestOf[sp.Doc.Key]; ok {
		return i
	}
	return -1
}

// RequestsNote says, when the ID stands for several requests, how many
// and why, for the header; "" otherwise.
func (s *Story) RequestsNote() string {
	n := len(s.Requests)
	if n < 2 {
		return ""
	}
	note := "this " + s.Kind.Label() + " stands for " + itoa(int64(n)) + " requests, shown one by one, oldest first"
	if s.Kind == KindError {
		note = "this Sentry event stands for " + itoa(int64(n)) + " requests: the Sentry exporter reports repeats of " +
			"a failure within its aggregation window with the first event's ID. Shown one by one, oldest first " +
			"(the first is the event's own request)"
	}
	return note
}
