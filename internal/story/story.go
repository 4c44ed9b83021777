package story

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

// Story is a request told from its documents: spans in trees grouped by
// trace, each log line under the span it was written in.
type Story struct {
	*Result
	// Start and End bound every span and log line.
	Start, End time.Time
	// Spans and Logs are every span and log line, by start time.
	Spans []*Span
	Logs  []*Log
	// Traces group the spans by trace ID, by start time.
	Traces []*Trace
	// Orphans are the log lines of no span found (logged outside a span,
	// or in a span that was not exported).
	Orphans []*Log
	// Services are the services involved, in the order they appear.
	Services []*Service
	// FirstError is the earliest error log line, else the earliest failed
	// span's: where to start reading. Nil when nothing failed.
	FirstError *Log
	FirstFail  *Span
	// Requests, when the documents belong to more than one request
	// (correlation ID), are the story of each, oldest first; nil when
	// they belong to one (see requests.go).
	Requests []*Story

	requestOf map[string]int // Doc.Key -> index in Requests
	sole      string         // the correlation ID of a story of one request
}

// Trace is one trace of the story.
type Trace struct {
	ID         string
	Roots      []*Span
	Start, End time.Time
}

// Span is one span document.
type Span struct {
	Doc                       Doc
	TraceID, SpanID, ParentID string
	Name, Kind, Service       string
	Start                     time.Time
	Duration                  time.Duration
	// Failed is set for event.outcome "failure" (status code error).
	Failed bool
	// Status is the HTTP status code or gRPC code name when the span has
	// one, else "ok", "error" or "".
	Status string
	// ErrorMessage is error.message of a failed span.
	ErrorMessage string

	Parent   *Span
	Children []*Span
	Depth    int
	Logs     []*Log
	// Critical is set on the spans of the critical path: the chain of
	// work that decided when the request finished.
	Critical bool
	// Self is the span's duration minus the time its children ran.
	Self time.Duration
	// MissingParent is set on a root whose parent.id names a span that
	// was not found.
	MissingParent bool
}

// End is when the span ended.
func (s *Span) End() time.Time { return s.Start.Add(s.Duration) }

// Log is one log document.
type Log struct {
	Doc                              Doc
	Time                             time.Time
	Level, Message, Service          string
	TraceID, SpanID, CorrelationID   string
	ErrorID, ErrorType, ErrorMessage string
	// Stack is error.stack_trace; Site its crash site (see
	// gostack.CrashSite), nil when the line has no stack or the stack no
	// frame of the application's code.
	Stack string
	Site  *gostack.Frame
	Span  *Span
}

// IsError reports whether the line is at error level or above.
func (l *Log) IsError() bool { return levelRank(l.Level) >= 3 }

// IsWarn reports whether the line is at warn level.
func (l *Log) IsWarn() bool { return levelRank(l.Level) == 2 }

func levelRank(level string) int {
	l := strings.ToLower(level)
	switch {
	case strings.HasPrefix(l, "warn"):
		return 2
	case strings.HasPrefix(l, "err"), l == "fatal", l == "critical", l == "crit", l == "panic", l == "alert", l == "emergency":
		return 3
	case strings.HasPrefix(l, "debug"), strings.HasPrefix(l, "trace"):
		return 0
	}
	return 1
}

// Service sums what one service did in the story.
type Service struct {
	Name                        string
	Spans, Failed, Logs, Errors int
	// Self is the sum of its spans' self time.
	Self time.Duration
}

// Build tells the story of the documents res holds, request by request
// when they belong to more than one (Requests).
func Build(res *Result) *Story { return build(res, true) }

func build(res *Result, split bool) *Story {
	s := &Story{Result: res}
	spanIndex := map[string]*Span{}
	for _, d := range res.Docs {
		if d.IsSpan() {
			sp := newSpan(d)
			key := sp.TraceID + "/" + sp.SpanID
			if spanIndex[key] != nil {
				continue // the same span exported twice
			}
			spanIndex[key] = sp
			s.Spans = append(s.Spans, sp)
			continue
		}
		s.Logs = append(s.Logs, newLog(d))
	}
	sort.SliceStable(s.Spans, func(i, j int) bool { return s.Spans[i].Start.Before(s.Spans[j].Start) })
	sort.SliceStable(s.Logs, func(i, j int) bool { return s.Logs[i].Time.Before(s.Logs[j].Time) })
	s.bounds()
	s.link(spanIndex)
	s.breakCycles()
	for _, tr := range s.Traces {
		for _, r := range tr.Roots {
			setDepth(r, 0)
			markCritical(r, r.End())
		}
	}
	for _, sp := range s.Spans {
		sp.Self = selfTime(sp)
	}
	s.summarise()
	if split {
		s.group()
	}
	return s
}

func newSpan(d Doc) *Span {
	sp := &Span{
		Doc:          d,
		TraceID:      strings.ToLower(d.Str("trace.id")),
		SpanID:       strings.ToLower(d.Str("span.id")),
		ParentID:     strings.ToLower(d.Str("parent.id")),
		Name:         d.Str("span.name"),
		Kind:         d.Str("span.kind"),
		Service:      d.Str("service.name"),
		ErrorMessage: d.Str("error.message"),
	}
	sp.Start, _ = d.Time()
	if n, ok := d.Int("event.duration"); ok && n > 0 {
		sp.Duration = time.Duration(n)
	}
	sp.Failed = d.Str("event.outcome") == "failure" || d.Str("span.status.code") == "error"
	sp.Status = spanStatus(d, sp.Failed)
	return sp
}

func newLog(d Doc) *Log {
	l := &Log{
		Doc:           d,
		Level:         d.Str("log.level"),
		Message:       d.Str("message"),
		Service:       d.Str("service.name"),
		TraceID:       strings.ToLower(d.Str("trace.id")),
		SpanID:        strings.ToLower(d.Str("span.id")),
		CorrelationID: d.Str("correlation.id"),
		ErrorID:       d.Str("error.id"),
		ErrorType:     d.Str("error.type"),
		ErrorMessage:  d.Str("error.message"),
		Stack:         d.Str("error.stack_trace"),
	}
	l.Time, _ = d.Time()
	if f, ok := gostack.CrashSite(l.Stack); ok {
		l.Site = &f
	}
	return l
}

// grpcCodes names the gRPC status codes.
var grpcCodes = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
	"OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func spanStatus(d Doc, failed bool) string {
	if c, ok := d.Int("http.response.status_code"); ok {
		return itoa(c)
	}
	if c, ok := d.Int("rpc.grpc.status_code"); ok {
		if c >= 0 && int(c) < len(grpcCodes) {
			return grpcCodes[c]
		}
		return itoa(c)
	}
	switch {
	case failed:
		return "error"
	case d.Str("event.outcome") == "success":
		return "ok"
	}
	return ""
}

// bounds sets Start and End over every span and log line.
func (s *Story) bounds() {
	widen := func(a, b time.Time) {
		if a.IsZero() {
			return
		}
		if s.Start.IsZero() || a.Before(s.Start) {
			s.Start = a
		}
		if b.After(s.End) {
			s.End = b
		}
	}
	for _, sp := range s.Spans {
		widen(sp.Start, sp.End())
	}
	for _, l := range s.Logs {
		widen(l.Time, l.Time)
	}
}

// Duration is End - Start.
func (s *Story) Duration() time.Duration { return s.End.Sub(s.Start) }

// link builds the span trees, the traces and the log-to-span links.
func (s *Story) link(index map[string]*Span) {
	traces := map[string]*Trace{}
	for _, sp := range s.Spans {
		tr := traces[sp.TraceID]
		if tr == nil {
			tr = &Trace{ID: sp.TraceID, Start: sp.Start, End: sp.End()}
			traces[sp.TraceID] = tr
			s.Traces = append(s.Traces, tr)
		}
		if sp.End().After(tr.End) {
			tr.End = sp.End()
		}
		if p := index[sp.TraceID+"/"+sp.ParentID]; sp.ParentID != "" && p != nil && p != sp {
			sp.Parent = p
			p.Children = append(p.Children, sp)
			continue
		}
		sp.MissingParent = sp.ParentID != ""
		tr.Roots = append(tr.Roots, sp)
	}
	for _, l := range s.Logs {
		sp := index[l.TraceID+"/"+l.SpanID]
		if sp == nil || l.SpanID == "" {
			s.Orphans = append(s.Orphans, l)
			continue
		}
		l.Span = sp
		sp.Logs = append(sp.Logs, l)
	}
}

// breakCycles makes a root of every span no root reaches: corrupt
// parent links that form a cycle would otherwise hide them.
func (s *Story) breakCycles() {
	seen := map[*Span]bool{}
	var walk func(*Span)
	walk = func(sp *Span) {
		seen[sp] = true
		for _, c := range sp.Children {
			walk(c)
		}
	}
	for _, tr := range s.Traces {
		for _, r := range tr.Roots {
			walk(r)
		}
	}
	for _, sp := range s.Spans {
		if seen[sp] {
			continue
		}
		p := sp.Parent
		kids := p.Children[:0]
		for _, c := range p.Children {
			if c != sp {
				kids = append(kids, c)
			}
		}
		p.Children = kids
		sp.Parent, sp.MissingParent = nil, true
		for _, tr := range s.Traces {
			if tr.ID == sp.TraceID {
				tr.Roots = append(tr.Roots, sp)
			}
		}
		walk(sp)
	}
}

func setDepth(sp *Span, d int) {
	sp.Depth = d
	for _, c := range sp.Children {
		setDepth(c, d+1)
	}
}

// markCritical marks sp and, walking back from until, the children that
// were running last: the latest-ending child that ended by until, then
// the latest-ending one that ended before that child started, and so on
// (children running in parallel with a critical one are not critical).
func markCritical(sp *Span, until time.Time) {
	sp.Critical = true
	kids := append([]*Span(nil), sp.Children...)
	sort.SliceStable(kids, func(i, j int) bool { return kids[i].End().After(kids[j].End()) })
	t := until
	if sp.End().Before(t) {
		t = sp.End()
	}
	for _, c := range kids {
		if c.End().After(t) || c.Start.Before(sp.Start) {
			continue
		}
		markCritical(c, t)
		t = c.Start
	}
}

// selfTime is the span's duration minus the union of its children's
// intervals (clipped to the span).
func selfTime(sp *Span) time.Duration {
	type iv struct{ a, b time.Time }
	var ivs []iv
	for _, c := range sp.Children {
		a, b := c.Start, c.End()
		if a.Before(sp.Start) {
			a = sp.Start
		}
		if b.After(sp.End()) {
			b = sp.End()
		}
		if b.After(a) {
			ivs = append(ivs, iv{a, b})
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].a.Before(ivs[j].a) })
	busy := time.Duration(0)
	var cur iv
	for i, v := range ivs {
		if i == 0 || v.a.After(cur.b) {
			if i > 0 {
				busy += cur.b.Sub(cur.a)
			}
			cur = v
			continue
		}
		if v.b.After(cur.b) {
			cur.b = v.b
		}
	}
	if len(ivs) > 0 {
		busy += cur.b.Sub(cur.a)
	}
	return max(sp.Duration-busy, 0)
}

// summarise fills Services and the first error.
func (s *Story) summarise() {
	byName := map[string]*Service{}
	get := func(name string) *Service {
		if byName[name] == nil {
			byName[name] = &Service{Name: name}
		}
		return byName[name]
	}
	type first struct {
		t    time.Time
		name string
	}
	var order []first
	for _, sp := range s.Spans {
		sv := get(sp.Service)
		sv.Spans++
		sv.Self += sp.Self
		if sp.Failed {
			sv.Failed++
			if s.FirstFail == nil {
				s.FirstFail = sp
			}
		}
		order = append(order, first{sp.Start, sp.Service})
	}
	for _, l := range s.Logs {
		sv := get(l.Service)
		sv.Logs++
		if l.IsError() {
			sv.Errors++
			if s.FirstError == nil {
				s.FirstError = l
			}
		}
		order = append(order, first{l.Time, l.Service})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].t.Before(order[j].t) })
	for _, o := range order {
		if sv := byName[o.name]; sv != nil {
			s.Services = append(s.Services, sv)
			delete(byName, o.name)
		}
	}
}

// FailedSpans counts the failed spans; ErrorLogs the error log lines.
func (s *Story) FailedSpans() (n int) {
	for _, sp := range s.Spans {
		if sp.Failed {
			n++
		}
	}
	return n
}

// ErrorLogs counts the log lines at error level or above.
func (s *Story) ErrorLogs() (n int) {
	for _, l := range s.Logs {
		if l.IsError() {
			n++
		}
	}
	return n
}

// Rows returns the spans in display order: trace by trace, each tree
// depth first, children by start time.
func (s *Story) Rows() []*Span {
	var out []*Span
	var walk func(*Span)
	walk = func(sp *Span) {
		out = append(out, sp)
		for _, c := range sp.Children {
			walk(c)
		}
	}
	for _, tr := range s.Traces {
		for _, r := range tr.Roots {
			walk(r)
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
