package story

import (
	"encoding/json"
	"io"
	"time"
)

// JSON is the shape of `glassbox trace --json`: the documents as stored,
// and the tree that ties them together by index.
type JSON struct {
	// ID is the ID asked for; Kind the field it matched.
	ID   string `json:"id"`
	Kind IDKind `json:"kind"`
	// Source names what was searched; Since and Until the window, when
	// there was one.
	Source string     `json:"source"`
	Since  *time.Time `json:"since,omitempty"`
	Until  *time.Time `json:"until,omitempty"`
	// Truncated is true when --limit stopped the search.
	Truncated bool `json:"truncated"`
	// Start and End bound every document; DurationNS is End - Start.
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	DurationNS int64     `json:"duration_ns"`
	// CorrelationIDs and TraceIDs are every ID the documents carry.
	CorrelationIDs []string `json:"correlation_ids"`
	TraceIDs       []string `json:"trace_ids"`
	// Counts sums up the documents.
	Counts JSONCounts `json:"counts"`
	// Services are the services in order of appearance.
	Services []JSONService `json:"services"`
	// Spans (by start time) and Logs (by time) are the documents exactly
	// as stored.
	Spans []json.RawMessage `json:"spans"`
	Logs  []json.RawMessage `json:"logs"`
	// Tree holds the span trees, trace by trace.
	Tree []JSONTrace `json:"tree"`
	// OrphanLogs are the indices in Logs of lines outside any span found.
	OrphanLogs []int `json:"orphan_logs"`
	// Requests are the requests the documents belong to, one per
	// correlation ID, oldest first: one for most IDs; several when the ID
	// stands for more than one request (a Sentry event ID whose repeats
	// were aggregated, a trace shared by requests).
	Requests []JSONRequest `json:"requests"`
}

// JSONRequest is one request of a story: its documents by index in
// JSON.Spans and JSON.Logs, its own time bounds and counts.
type JSONRequest struct {
	// CorrelationID is the request's correlation ID ("" for documents
	// that carry none).
	CorrelationID string     `json:"correlation.id"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	DurationNS    int64      `json:"duration_ns"`
	TraceIDs      []string   `json:"trace_ids"`
	Counts        JSONCounts `json:"counts"`
	Spans         []int      `json:"spans"`
	Logs          []int      `json:"logs"`
}

// JSONCounts sums up the documents of a story.
type JSONCounts struct {
	Traces      int `json:"traces"`
	Spans       int `json:"spans"`
	FailedSpans int `json:"failed_spans"`
	Logs        int `json:"logs"`
	ErrorLogs   int `json:"error_logs"`
}

// JSONService is one service's share of the story.
type JSONService struct {
	Name        string `json:"service.name"`
	Spans       int    `json:"spans"`
	FailedSpans int    `json:"failed_spans"`
	Logs        int    `json:"logs"`
	ErrorLogs   int    `json:"error_logs"`
	SelfNS      int64  `json:"self_ns"`
}

// JSONTrace is one trace's span trees.
type JSONTrace struct {
	TraceID    string     `json:"trace.id"`
	OffsetNS   int64      `json:"offset_ns"`
	DurationNS int64      `json:"duration_ns"`
	Roots      []JSONNode `json:"roots"`
}

// JSONNode is one span in the tree. Span and Logs are indices in
// JSON.Spans and JSON.Logs.
type JSONNode struct {
	Span          int        `json:"span"`
	SpanID        string     `json:"span.id"`
	Service       string     `json:"service.name"`
	Name          string     `json:"span.name"`
	OffsetNS      int64      `json:"offset_ns"`
	DurationNS    int64      `json:"duration_ns"`
	SelfNS        int64      `json:"self_ns"`
	Failed        bool       `json:"failed"`
	Status        string     `json:"status,omitempty"`
	Critical      bool       `json:"critical"`
	MissingParent bool       `json:"missing_parent,omitempty"`
	Logs          []int      `json:"logs"`
	Children      []JSONNode `json:"children"`
}

// ToJSON builds the --json document of s.
func ToJSON(s *Story) *JSON {
	j := &JSON{
		ID: s.ID, Kind: s.Kind, Source: s.Source, Truncated: s.Truncated,
		Start: s.Start, End: s.End, DurationNS: int64(s.Duration()),
		CorrelationIDs: nonNil(s.CorrelationIDs), TraceIDs: nonNil(s.TraceIDs),
		Counts:   JSONCounts{Traces: len(s.Traces), Spans: len(s.Spans), FailedSpans: s.FailedSpans(), Logs: len(s.Logs), ErrorLogs: s.ErrorLogs()},
		Services: []JSONService{}, Spans: []json.RawMessage{}, Logs: []json.RawMessage{}, Tree: []JSONTrace{}, OrphanLogs: []int{},
	}
	if !s.Since.IsZero() {
		j.Since = &s.Since
	}
	if !s.Until.IsZero() {
		j.Until = &s.Until
	}
	for _, sv := range s.Services {
		j.Services = append(j.Services, JSONService{Name: sv.Name, Spans: sv.Spans, FailedSpans: sv.Failed, Logs: sv.Logs, ErrorLogs: sv.Errors, SelfNS: int64(sv.Self)})
	}
	spanIdx, logIdx := map[*Span]int{}, map[*Log]int{}
	for i, sp := range s.Spans {
		spanIdx[sp] = i
		j.Spans = append(j.Spans, sp.Doc.Raw)
	}
	for i, l := range s.Logs {
		logIdx[l] = i
		j.Logs = append(j.Logs, l.Doc.Raw)
	}
	for _, l := range s.Orphans {
		j.OrphanLogs = append(j.OrphanLogs, logIdx[l])
	}
	var node func(sp *Span) JSONNode
	node = func(sp *Span) JSONNode {
		n := JSONNode{
			Span: spanIdx[sp], SpanID: sp.SpanID, Service: sp.Service, Name: sp.Name,
			OffsetNS: int64(sp.Start.Sub(s.Start)), DurationNS: int64(sp.Duration), SelfNS: int64(sp.Self),
			Failed: sp.Failed, Status: sp.Status, Critical: sp.Critical, MissingParent: sp.MissingParent,
			Logs: []int{}, Children: []JSONNode{},
		}
		for _, l := range sp.Logs {
			n.Logs = append(n.Logs, logIdx[l])
		}
		for _, c := range sp.Children {
			n.Children = append(n.Children, node(c))
		}
		return n
	}
	j.Requests = jsonRequests(s)
	for _, tr := range s.Traces {
		jt := JSONTrace{TraceID: tr.ID, OffsetNS: int64(tr.Start.Sub(s.Start)), DurationNS: int64(tr.End.Sub(tr.Start)), Roots: []JSONNode{}}
		for _, r := range tr.Roots {
			jt.Roots = append(jt.Roots, node(r))
		}
		j.Tree = append(j.Tree, jt)
	}
	return j
}

// jsonRequests lists the requests of s, their documents by index in the
// top-level spans and logs.
func jsonRequests(s *Story) []JSONRequest {
	parts := s.Requests
	if len(parts) == 0 {
		parts = []*Story{s}
	}
	spanIdx, logIdx := map[string]int{}, map[string]int{}
	for i, sp := range s.Spans {
		spanIdx[sp.Doc.Key] = i
	}
	for i, l := range s.Logs {
		logIdx[l.Doc.Key] = i
	}
	var out []JSONRequest
	for _, r := range parts {
		jr := JSONRequest{
			Start: r.Start, End: r.End, DurationNS: int64(r.Duration()), TraceIDs: nonNil(r.TraceIDs),
			Counts: JSONCounts{Traces: len(r.Traces), Spans: len(r.Spans), FailedSpans: r.FailedSpans(), Logs: len(r.Logs), ErrorLogs: r.ErrorLogs()},
			Spans:  []int{}, Logs: []int{},
		}
		if len(s.Requests) == 0 {
			jr.CorrelationID = s.sole
		} else if len(r.CorrelationIDs) > 0 {
			jr.CorrelationID = r.CorrelationIDs[0]
		}
		for _, sp := range r.Spans {
			jr.Spans = append(jr.Spans, spanIdx[sp.Doc.Key])
		}
		for _, l := range r.Logs {
			jr.Logs = append(jr.Logs, logIdx[l.Doc.Key])
		}
		out = append(out, jr)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes the --json document of s, indented, with a final
// newline.
func WriteJSON(w io.Writer, s *Story) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(ToJSON(s))
}
