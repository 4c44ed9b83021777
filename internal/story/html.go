package story

import (
	"crypto/sha256"
	_ "embed" // the page template
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// HTMLOptions shape the page.
type HTMLOptions struct {
	// KibanaURL, when set, adds a Kibana Discover link per correlation ID.
	KibanaURL string
}

//go:embed page.html.tmpl
var pageTemplate string

//go:embed page.js
var pageScript string

//go:embed page.css
var pageStyle string

// pageTmpl is parsed on first use, not at init.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageTemplate))
})

// ServiceColors are the per-service bar colours of the page, in order of
// appearance (the page's CSS classes s0, s1, ...).
var ServiceColors = [...]string{"#2b7bb9", "#e07b00", "#2e9e4f", "#8e44ad", "#16a2b8", "#b8860b", "#d35d9b", "#5d6d7e", "#7a9e00", "#a0522d"}

// WriteHTML writes s as one self-contained page: inline CSS and
// JavaScript only, no request to any server, readable without
// JavaScript (span details are <details> elements). Every value from the
// documents goes through html/template's contextual escaping, and a
// Content-Security-Policy allows only the page's own script.
func WriteHTML(w io.Writer, s *Story, o HTMLOptions) error {
	return pageTmpl().Execute(w, newPage(s, o))
}

// page is what the template renders.
type page struct {
	CSP                      string
	Style                    template.CSS
	Script                   template.JS
	ServiceCSS               template.CSS
	ID, Kind, Source, Window string
	Started, Duration, Found string
	FirstError               string
	FirstErrorSite           string // the first error's crash site, or ""
	Correlation              string
	Kibana                   []link
	Truncated                string
	Requests                 string // Story.RequestsNote
	Services                 []pageService
	Groups                   []pageGroup
	Legend                   bool
}

// pageGroup is the waterfall of one request: the whole story, or, when
// the ID stands for several requests, one of them, on its own timeline.
type pageGroup struct {
	// Title and Summary name the request; empty for a story of one.
	Title, Summary             string
	FirstError, FirstErrorSite string
	Axis                       []tick
	Traces                     []pageTrace
	Orphans                    []pageLog
}

type link struct{ Text, URL string }

type tick struct {
	Left  string
	Label string
}

type pageService struct {
	Name, Class                 string
	Spans, Failed, Logs, Errors int
	Self, Share                 string
}

type pageTrace struct {
	ID, Offset, Duration string
	Rows                 []pageRow
}

type pageRow struct {
	SpanID, Name, Kind, Service, Class string
	Indent                             string
	Left, Width                        string
	Start, Duration, Status            string
	Failed, Critical, Missing          bool
	Fields                             []field
	Logs                               []pageLog
	// Stacks are the stack traces of the span's log lines, shown with
	// its fields when the span is opened.
	Stacks []pageStack
}

type pageLog struct {
	Offset, Level, LevelClass, Message string
	Service, Class                     string
	Error, ErrorID                     string
	// Site is the crash site ("at <function> (<file>:<line>)"), shown
	// under the line; Stack the whole trace, for a line outside any span
	// (a span's lines show theirs in the span's details).
	Site, Stack string
	Fields      []field
}

type pageStack struct{ Title, Stack string }

type field struct{ Key, Value string }

func newPage(s *Story, o HTMLOptions) *page {
	p := &page{
		Style: template.CSS(pageStyle), Script: template.JS(pageScript),
		ID: clean(s.ID), Kind: s.Kind.Label(), Source: clean(s.Source),
		Started:  s.Start.UTC().Format("2006-01-02 15:04:05.000000 MST"),
		Duration: FormatDuration(s.Duration()),
		Found:    foundText(s),
		Requests: s.RequestsNote(),
	}
	sum := sha256.Sum256([]byte(pageScript))
	p.CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !s.Since.IsZero() || !s.Until.IsZero() {
		p.Window = window(s.Since, s.Until)
	}
	if s.Truncated {
		p.Truncated = fmt.Sprintf("Only the first %d documents are shown: raise --limit to see them all.", s.Limit)
	}
	if len(s.CorrelationIDs) > 0 && (s.Kind != KindCorrelation || len(s.CorrelationIDs) > 1) {
		p.Correlation = clean(strings.Join(s.CorrelationIDs, ", "))
	}
	t := &textWriter{s: s}
	p.FirstError = t.firstError()
	if l := s.FirstError; l != nil && l.Site != nil {
		p.FirstErrorSite = siteText(l.Site)
	}
	if o.KibanaURL != "" {
		for _, id := range s.CorrelationIDs {
			if u := discoverURL(o.KibanaURL, id, s.Start, s.End); u != "" {
				p.Kibana = append(p.Kibana, link{Text: "Kibana Discover: correlation.id " + id, URL: u})
			}
		}
	}
	class := map[string]string{}
	var css strings.Builder
	var total float64
	for _, sv := range s.Services {
		total += float64(sv.Self)
	}
	for i, sv := range s.Services {
		c := fmt.Sprintf("s%d", i%len(ServiceColors))
		class[sv.Name] = c
		share := 0.0
		if total > 0 {
			share = float64(sv.Self) / total
		}
		p.Services = append(p.Services, pageService{Name: clean(sv.Name), Class: c, Spans: sv.Spans, Failed: sv.Failed,
			Logs: sv.Logs, Errors: sv.Errors, Self: FormatDuration(sv.Self), Share: fmt.Sprintf("%.1f%%", 100*share)})
	}
	for i, col := range ServiceColors {
		fmt.Fprintf(&css, ".s%d{--c:%s}", i, col)
	}
	p.ServiceCSS = template.CSS(css.String())
	p.Legend = len(s.Spans) > 0
	if len(s.Requests) < 2 {
		p.Groups = []pageGroup{newGroup(s, class)}
		return p
	}
	for i, r := range s.Requests {
		g := newGroup(r, class)
		g.Title = fmt.Sprintf("Request %d of %d", i+1, len(s.Requests))
		if len(r.CorrelationIDs) > 0 {
			g.Title += " · correlation " + clean(r.CorrelationIDs[0])
		}
		g.Summary = "started " + r.Start.UTC().Format("2006-01-02 15:04:05.000000 MST") + ", lasted " + FormatDuration(r.Duration()) + " · " + foundText(r)
		t := &textWriter{s: r}
		g.FirstError = t.firstError()
		if l := r.FirstError; l != nil && l.Site != nil {
			g.FirstErrorSite = siteText(l.Site)
		}
		p.Groups = append(p.Groups, g)
	}
	return p
}

// newGroup lays out the waterfall of s on its own timeline.
func newGroup(s *Story, class map[string]string) pageGroup {
	var g pageGroup
	for i := 0; i <= 4; i++ {
		g.Axis = append(g.Axis, tick{Left: pct(float64(i) / 4), Label: FormatDuration(s.Duration() * time.Duration(i) / 4)})
	}
	for _, tr := range s.Traces {
		pt := pageTrace{ID: clean(tr.ID), Offset: offset(s, tr.Start), Duration: FormatDuration(tr.End.Sub(tr.Start))}
		var walk func(*Span)
		walk = func(sp *Span) {
			pt.Rows = append(pt.Rows, newRow(s, sp, class))
			for _, c := range sp.Children {
				walk(c)
			}
		}
		for _, r := range tr.Roots {
			walk(r)
		}
		g.Traces = append(g.Traces, pt)
	}
	for _, l := range s.Orphans {
		g.Orphans = append(g.Orphans, newPageLog(s, l, class))
	}
	return g
}

func newRow(s *Story, sp *Span, class map[string]string) pageRow {
	total := float64(s.Duration())
	if total <= 0 {
		total = 1
	}
	left := float64(sp.Start.Sub(s.Start)) / total
	width := float64(sp.Duration) / total
	r := pageRow{
		SpanID: clean(sp.SpanID), Name: clean(sp.Name), Kind: sp.Kind, Service: clean(sp.Service), Class: class[sp.Service],
		Indent: fmt.Sprintf("%.1f", 1.2*float64(min(sp.Depth, 12))),
		Left:   pct(left), Width: pct(math.Min(width, 1-left)),
		Start: offset(s, sp.Start), Duration: FormatDuration(sp.Duration),
		Status: clean(sp.Status), Failed: sp.Failed, Critical: sp.Critical, Missing: sp.MissingParent,
		Fields: fields(sp.Doc),
	}
	for _, l := range sp.Logs {
		pl := newPageLog(s, l, class)
		if pl.Stack != "" {
			r.Stacks = append(r.Stacks, pageStack{Title: "stack of “" + pl.Message + "” at " + pl.Offset, Stack: pl.Stack})
			pl.Stack = ""
		}
		r.Logs = append(r.Logs, pl)
	}
	return r
}

func newPageLog(s *Story, l *Log, class map[string]string) pageLog {
	pl := pageLog{Offset: offset(s, l.Time), Level: clean(strings.ToUpper(l.Level)), Message: clean(l.Message),
		Service: clean(l.Service), Class: class[l.Service], ErrorID: clean(l.ErrorID), Fields: fields(l.Doc)}
	switch {
	case l.IsError():
		pl.LevelClass = "error"
	case l.IsWarn():
		pl.LevelClass = "warn"
	default:
		pl.LevelClass = "info"
	}
	if l.ErrorMessage != "" && l.ErrorMessage != l.Message {
		pl.Error = clean(l.ErrorMessage)
		if l.ErrorType != "" {
			pl.Error = clean(l.ErrorType) + ": " + pl.Error
		}
	}
	if l.Site != nil {
		pl.Site = siteText(l.Site)
	}
	if l.Stack != "" {
		pl.Stack = cleanMultiline(strings.TrimRight(l.Stack, "\n"))
	}
	return pl
}

// cleanMultiline is clean for values whose line breaks matter (a stack
// trace): each line is cleaned, the breaks kept, a tab made four spaces;
// the page shows them with white-space: pre-wrap.
func cleanMultiline(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(strings.ReplaceAll(strings.TrimSuffix(l, "\r"), "\t", "    "))
	}
	return strings.Join(lines, "\n")
}

// pct writes a fraction as a CSS percentage number (without the sign).
func pct(f float64) string {
	f = math.Max(0, math.Min(1, f))
	return fmt.Sprintf("%.3f", 100*f)
}

// fields flattens a document into sorted key/value pairs for its
// details table.
func fields(d Doc) []field {
	var out []field
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, x)
			}
		case string:
			out = append(out, field{clean(prefix), cleanMultiline(v)})
		default:
			b, _ := json.Marshal(v)
			out = append(out, field{clean(prefix), clean(string(b))})
		}
	}
	walk("", d.m)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
