package story

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// TextOptions shape the terminal rendering.
type TextOptions struct {
	// Width is the number of columns; below 60 the duration bars are left
	// out, below 40 it is taken as 40.
	Width int
	// Color adds ANSI colours (callers honour NO_COLOR and non-terminals).
	Color bool
	// KibanaURL, when set, adds a Kibana Discover link per correlation ID.
	KibanaURL string
}

// ANSI styles.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiYel   = "\x1b[33m"
)

// serviceANSI are the service colours, in order of appearance.
var serviceANSI = []string{"\x1b[36m", "\x1b[35m", "\x1b[34m", "\x1b[32m", "\x1b[33m", "\x1b[96m", "\x1b[95m", "\x1b[94m", "\x1b[92m", "\x1b[93m"}

// Bar characters: on and off the critical path.
const (
	barCritical = "█"
	barOther    = "░"
)

type textWriter struct {
	b   strings.Builder
	s   *Story
	o   TextOptions
	l   layout
	svc map[string]string // service -> colour
}

// WriteText renders s for a terminal: a header, the waterfall with each
// log line under its span, the log lines outside any span, and the time
// each service spent.
func WriteText(w io.Writer, s *Story, o TextOptions) error {
	o.Width = max(o.Width, 40)
	t := &textWriter{s: s, o: o, svc: map[string]string{}}
	for i, sv := range s.Services {
		t.svc[sv.Name] = serviceANSI[i%len(serviceANSI)]
	}
	t.l = newLayout(s, o.Width)
	t.header()
	if len(s.Requests) > 1 {
		t.requests()
	} else {
		t.waterfall()
		t.orphans()
	}
	t.services()
	_, err := io.WriteString(w, t.b.String())
	return err
}

// requests writes the waterfall and the lines outside any span of each
// request, under a heading that names it, each on its own timeline.
func (t *textWriter) requests() {
	n := len(t.s.Requests)
	for i, r := range t.s.Requests {
		corr := "no correlation ID"
		if len(r.CorrelationIDs) > 0 {
			corr = "correlation " + clean(r.CorrelationIDs[0])
		}
		head := fmt.Sprintf("REQUEST %d OF %d", i+1, n)
		for j, ln := range wrap(head+"  "+corr, t.o.Width) {
			if j == 0 {
				ln = t.paint(ansiBold, head) + strings.TrimPrefix(ln, head)
			}
			t.line(ln)
		}
		t.field("started", r.Start.UTC().Format("2006-01-02 15:04:05.000000 MST")+", lasted "+FormatDuration(r.Duration()))
		t.field("found", foundText(r))
		sub := &textWriter{s: r, o: t.o, svc: t.svc, l: newLayout(r, t.o.Width)}
		sub.firstErrorField()
		sub.line()
		sub.waterfall()
		sub.orphans()
		t.b.WriteString(sub.b.String())
	}
}

// foundText counts what a story holds: "2 traces · 5 spans, 3 failed · 8
// log lines, 5 errors".
func foundText(s *Story) string {
	return fmt.Sprintf("%d %s · %d %s, %d failed · %d log %s, %d %s",
		len(s.Traces), plural(len(s.Traces), "trace"), len(s.Spans), plural(len(s.Spans), "span"), s.FailedSpans(),
		len(s.Logs), plural(len(s.Logs), "line"), s.ErrorLogs(), plural(s.ErrorLogs(), "error"))
}

func (t *textWriter) paint(style, s string) string {
	if !t.o.Color || style == "" || s == "" {
		return s
	}
	return style + s + ansiReset
}

func (t *textWriter) line(parts ...string) {
	t.b.WriteString(strings.TrimRight(strings.Join(parts, ""), " "))
	t.b.WriteByte('\n')
}

// field writes one "  key   value" line of the header; a value too long
// for the width wraps at spaces onto indented lines (a long word, such as
// a URL, is never cut).
func (t *textWriter) field(key, value string) {
	t.fieldStyled(key, value, "")
}

func (t *textWriter) fieldStyled(key, value, style string) {
	const indent = 14
	room := max(t.o.Width-indent, 20)
	first := true
	for _, ln := range wrap(value, room) {
		k := ""
		if first {
			k = key
		}
		t.line("  ", t.paint(ansiDim, fit(k, indent-3)), " ", t.paint(style, ln))
		first = false
	}
}

// wrap splits s into lines of at most w columns at spaces.
func wrap(s string, w int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Split(s, " ") {
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	return append(lines, cur)
}

func (t *textWriter) header() {
	s := t.s
	// The ID is never cut; its kind goes to a line of its own when both
	// do not fit.
	title, kind := "Story of "+clean(s.ID), "("+s.Kind.Label()+")"
	if width(title)+1+width(kind) <= t.o.Width {
		t.line(t.paint(ansiBold, title), " ", t.paint(ansiDim, kind))
	} else {
		t.line(t.paint(ansiBold, title))
		t.line("  ", t.paint(ansiDim, kind))
	}
	t.field("source", clean(s.Source))
	if !s.Since.IsZero() || !s.Until.IsZero() {
		t.field("searched", window(s.Since, s.Until))
	}
	t.field("started", s.Start.UTC().Format("2006-01-02 15:04:05.000000 MST")+", lasted "+FormatDuration(s.Duration()))
	var names []string
	for _, sv := range s.Services {
		names = append(names, t.paint(t.svc[sv.Name], clean(sv.Name)))
	}
	if t.o.Color {
		t.line("  ", t.paint(ansiDim, fit("services", 11)), " ", strings.Join(names, ", "))
	} else {
		t.field("services", strings.Join(names, ", "))
	}
	t.field("found", foundText(s))
	if len(s.CorrelationIDs) > 0 && (s.Kind != KindCorrelation || len(s.CorrelationIDs) > 1) {
		t.field("correlation", clean(strings.Join(s.CorrelationIDs, ", ")))
	}
	if note := s.RequestsNote(); note != "" {
		t.fieldStyled("requests", note, ansiYel)
	}
	t.firstErrorField()
	if t.o.KibanaURL != "" {
		for _, id := range s.CorrelationIDs {
			if u := discoverURL(t.o.KibanaURL, id, s.Start, s.End); u != "" {
				t.field("kibana", u)
			}
		}
	}
	if s.Truncated {
		t.fieldStyled("truncated", fmt.Sprintf("only the first %d documents are shown: raise --limit to see them all", s.Limit), ansiYel)
	}
	t.line()
}

// firstErrorField writes the "first error" line of a header, with the
// error's crash site under it.
func (t *textWriter) firstErrorField() {
	e := t.firstError()
	if e == "" {
		return
	}
	t.fieldStyled("first error", e, ansiRed)
	if l := t.s.FirstError; l != nil && l.Site != nil {
		for _, ln := range siteLines(l.Site, max(t.o.Width-14, 20)) {
			t.indented(14, ln, "")
		}
	}
}

// firstError describes where to start reading: the earliest error log
// line (with its Sentry event), else the earliest failed span.
func (t *textWriter) firstError() string {
	s := t.s
	if l := s.FirstError; l != nil {
		msg := clean(l.Message)
		if l.ErrorMessage != "" && l.ErrorMessage != l.Message {
			msg += ": " + clean(l.ErrorMessage)
		}
		e := offset(s, l.Time) + " " + clean(l.Service) + ": " + msg
		if i := s.RequestOf(l); i >= 0 {
			// Offsets count from the start of the request's own story.
			e = fmt.Sprintf("request %d, %s %s: %s", i+1, offset(s.Requests[i], l.Time), clean(l.Service), msg)
		}
		if l.ErrorID != "" {
			e += " (sentry " + clean(l.ErrorID) + ")"
		}
		return e
	}
	if sp := s.FirstFail; sp != nil {
		e := offset(s, sp.Start) + " " + clean(sp.Service) + ": " + clean(sp.Name) + " failed"
		if i := s.requestOfSpan(sp); i >= 0 {
			e = fmt.Sprintf("request %d, %s %s: %s failed", i+1, offset(s.Requests[i], sp.Start), clean(sp.Service), clean(sp.Name))
		}
		if sp.ErrorMessage != "" {
			e += ": " + clean(sp.ErrorMessage)
		}
		return e
	}
	return ""
}

func window(since, until time.Time) string {
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format("2006-01-02 15:04:05 MST")
	}
	return f(since, "the beginning") + " to " + f(until, "now")
}

// layout is the column widths of the waterfall. Below stackedWidth
// columns a span takes two lines (service and name; then its times and
// status) instead of one row of columns.
type layout struct {
	svc, name, start, dur, bar, status int
	stacked                            bool
}

const stackedWidth = 60

func newLayout(s *Story, w int) layout {
	l := layout{svc: len("SERVICE"), name: len("SPAN"), start: len("START"), dur: len("DURATION"), status: len("STATUS")}
	nameMax := l.name
	for _, sp := range s.Spans {
		l.svc = max(l.svc, width(clean(sp.Service)))
		l.start = max(l.start, width(offset(s, sp.Start)))
		l.dur = max(l.dur, width(FormatDuration(sp.Duration)))
		l.status = max(l.status, width(statusCell(sp)))
		nameMax = max(nameMax, 2*sp.Depth+width(spanLabel(sp)))
	}
	l.svc = min(l.svc, 14)
	l.status = min(l.status, 16)
	if w < stackedWidth {
		l.stacked = true
		l.name = w - l.svc - 2
		return l
	}
	rest := w - l.svc - l.start - l.dur - l.status - 2*5
	if rest >= 16+12 {
		l.name = min(nameMax, max(16, rest/2))
		l.bar = rest - l.name
		return l
	}
	l.name = max(rest+2, 8) // no bar column, and one gap less
	return l
}

// spanLabel is the span's name, with an arrow for outgoing calls.
func spanLabel(sp *Span) string {
	switch sp.Kind {
	case "client", "producer":
		return "→ " + clean(sp.Name)
	}
	return clean(sp.Name)
}

func statusCell(sp *Span) string {
	st := clean(sp.Status)
	if sp.Failed {
		return "✗ " + st
	}
	return st
}

func (t *textWriter) waterfall() {
	s, l := t.s, t.l
	if len(s.Spans) == 0 {
		return
	}
	legend := "WATERFALL  " + barCritical + " critical path  " + barOther + " other span  ✗ failed"
	if l.stacked || l.bar == 0 {
		legend = "WATERFALL  ✗ failed"
	}
	for i, ln := range wrap(legend, t.o.Width) {
		if i == 0 {
			ln = t.paint(ansiBold, "WATERFALL") + strings.TrimPrefix(ln, "WATERFALL")
		}
		t.line(ln)
	}
	if l.stacked {
		t.line(fit("SERVICE", l.svc), "  ", "SPAN")
		t.line(strings.Repeat(" ", l.svc+2), "START · DURATION · STATUS")
	}
	head := []string{fit("SERVICE", l.svc), "  ", fit("SPAN", l.name), "  ", rfit("START", l.start), "  ", rfit("DURATION", l.dur), "  "}
	if l.bar > 0 {
		total := FormatDuration(s.Duration())
		head = append(head, "0"+rfit(total, l.bar-1), "  ")
	}
	if !l.stacked {
		t.line(append(head, "STATUS")...)
	}
	for _, tr := range s.Traces {
		for _, ln := range wrap("trace "+clean(tr.ID)+"  "+offset(s, tr.Start)+", "+FormatDuration(tr.End.Sub(tr.Start)), t.o.Width) {
			t.line(t.paint(ansiDim, ln))
		}
		for _, r := range tr.Roots {
			t.spanTree(r)
		}
	}
	t.line()
}

func (t *textWriter) spanTree(sp *Span) {
	t.spanRow(sp)
	indent := min(t.l.svc+2+2*(sp.Depth+1), max(t.o.Width-29, 0))
	for _, lg := range sp.Logs {
		t.logLine(lg, indent, "")
	}
	for _, c := range sp.Children {
		t.spanTree(c)
	}
}

func (t *textWriter) spanRow(sp *Span) {
	s, l := t.s, t.l
	name := strings.Repeat("  ", min(sp.Depth, 8)) + spanLabel(sp)
	if sp.MissingParent {
		name += " (parent not found)"
	}
	st := cut(statusCell(sp), l.status)
	if sp.Failed {
		st = t.paint(ansiRed+ansiBold, st)
	}
	if l.stacked {
		t.line(t.paint(t.svc[sp.Service], fit(clean(sp.Service), l.svc)), "  ", t.paint(map[bool]string{true: ansiRed}[sp.Failed], cut(name, l.name)))
		t.line(strings.Repeat(" ", l.svc+2), offset(s, sp.Start), " · ", FormatDuration(sp.Duration), " · ", st)
		return
	}
	parts := []string{
		t.paint(t.svc[sp.Service], fit(clean(sp.Service), l.svc)), "  ",
		t.paint(map[bool]string{true: ansiRed}[sp.Failed], fit(name, l.name)), "  ",
		rfit(offset(s, sp.Start), l.start), "  ",
		rfit(FormatDuration(sp.Duration), l.dur), "  ",
	}
	if l.bar > 0 {
		parts = append(parts, t.bar(sp), "  ")
	}
	t.line(append(parts, st)...)
}

// bar draws the span's place on the story's timeline in l.bar cells:
// at least one cell, the critical path solid.
func (t *textWriter) bar(sp *Span) string {
	n, total := t.l.bar, float64(t.s.Duration())
	if total <= 0 {
		total = 1
	}
	from := int(math.Floor(float64(sp.Start.Sub(t.s.Start)) / total * float64(n)))
	to := int(math.Ceil(float64(sp.End().Sub(t.s.Start)) / total * float64(n)))
	from = min(max(from, 0), n-1)
	to = min(max(to, from+1), n)
	ch := barOther
	if sp.Critical {
		ch = barCritical
	}
	style := t.svc[sp.Service]
	if sp.Critical {
		style += ansiBold
	}
	return strings.Repeat(" ", from) + t.paint(style, strings.Repeat(ch, to-from)) + strings.Repeat(" ", n-to)
}

// logLine writes a log line indented by indent columns; with a service
// prefix (for lines outside any span) when svc is set.
func (t *textWriter) logLine(lg *Log, indent int, svc string) {
	s := t.s
	level := strings.ToUpper(clean(lg.Level))
	style := ansiDim
	switch {
	case lg.IsError():
		style = ansiRed + ansiBold
	case lg.IsWarn():
		style = ansiYel
	}
	head := strings.Repeat(" ", indent) + svc + fit(offset(s, lg.Time), 9) + " " + fit(level, 5) + "  "
	room := t.o.Width - width(head)
	msg := cut(clean(lg.Message), max(room, 10))
	if lg.IsError() {
		msg = t.paint(ansiRed, msg)
	}
	pre := strings.Repeat(" ", indent) + svc
	t.line(pre, t.paint(ansiDim, fit(offset(s, lg.Time), 9)), " ", t.paint(style, fit(level, 5)), "  ", msg)
	cont := strings.Repeat(" ", width(head))
	if lg.ErrorMessage != "" && lg.ErrorMessage != lg.Message {
		e := "error: " + clean(lg.ErrorMessage)
		if lg.ErrorType != "" {
			e = "error: " + clean(lg.ErrorType) + ": " + clean(lg.ErrorMessage)
		}
		lines := wrap(e, max(room, 10))
		if len(lines) > 3 {
			lines = append(lines[:2], cut(strings.Join(lines[2:], " "), max(room, 10)))
		}
		for _, ln := range lines {
			t.line(cont, t.paint(ansiRed, cut(ln, max(room, 10))))
		}
	}
	if lg.Site != nil {
		for _, ln := range siteLines(lg.Site, max(room, 10)) {
			t.indented(width(cont), ln, "")
		}
	}
	if lg.ErrorID != "" {
		// The Sentry event ID is what one copies: never cut, moved left
		// when the line is too narrow for it.
		id := "sentry event " + clean(lg.ErrorID)
		if width(id) > t.o.Width {
			t.line(cont, t.paint(ansiRed+ansiBold, "sentry event"))
			id = clean(lg.ErrorID)
		}
		t.indented(width(cont), id, ansiRed+ansiBold)
	}
}

// indented writes s indented by indent columns, or by fewer when the
// line would be wider than the terminal: text that must not be cut (a
// Sentry event ID, a crash site's file:line) moves left instead.
func (t *textWriter) indented(indent int, s, style string) {
	pad := min(indent, max(t.o.Width-width(s), 0))
	t.line(strings.Repeat(" ", pad), t.paint(style, s))
}

func (t *textWriter) orphans() {
	if len(t.s.Orphans) == 0 {
		return
	}
	t.line(t.paint(ansiBold, "LOG LINES OUTSIDE ANY SPAN"))
	for _, lg := range t.s.Orphans {
		t.logLine(lg, 0, t.paint(t.svc[lg.Service], fit(clean(lg.Service), t.l.svc))+"  ")
	}
	t.line()
}

func (t *textWriter) services() {
	s := t.s
	if len(s.Services) == 0 {
		return
	}
	var total time.Duration
	for _, sv := range s.Services {
		total += sv.Self
	}
	for i, ln := range wrap("TIME BY SERVICE  self time: a span's duration minus the time its child spans ran", t.o.Width) {
		if i == 0 {
			ln = t.paint(ansiBold, "TIME BY SERVICE") + t.paint(ansiDim, strings.TrimPrefix(ln, "TIME BY SERVICE"))
		} else {
			ln = t.paint(ansiDim, ln)
		}
		t.line(ln)
	}
	// Columns: all of them when they fit, else the essentials.
	type col struct {
		head string
		w    int
		val  func(*Service, float64) string
	}
	cols := []col{
		{"SPANS", 5, func(sv *Service, _ float64) string { return itoa(int64(sv.Spans)) }},
		{"FAILED", 6, func(sv *Service, _ float64) string { return itoa(int64(sv.Failed)) }},
		{"LOGS", 5, func(sv *Service, _ float64) string { return itoa(int64(sv.Logs)) }},
		{"ERRORS", 6, func(sv *Service, _ float64) string { return itoa(int64(sv.Errors)) }},
		{"SELF TIME", 9, func(sv *Service, _ float64) string { return FormatDuration(sv.Self) }},
		{"SHARE", 6, func(_ *Service, share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }},
	}
	w := t.l.svc
	used := func() int {
		n := w
		for _, c := range cols {
			n += 2 + c.w
		}
		return n
	}
	if used() > t.o.Width {
		cols = append(cols[:1], cols[4:]...) // SPANS, SELF TIME, SHARE
	}
	barW := t.o.Width - used() - 2
	head := []string{fit("SERVICE", w)}
	for _, c := range cols {
		head = append(head, "  ", rfit(c.head, c.w))
	}
	t.line(head...)
	for _, sv := range s.Services {
		share := 0.0
		if total > 0 {
			share = float64(sv.Self) / float64(total)
		}
		parts := []string{t.paint(t.svc[sv.Name], fit(clean(sv.Name), w))}
		for _, c := range cols {
			parts = append(parts, "  ", rfit(c.val(sv, share), c.w))
		}
		if barW >= 5 {
			parts = append(parts, "  ", t.paint(t.svc[sv.Name], strings.Repeat(barCritical, int(math.Round(share*float64(barW))))))
		}
		t.line(parts...)
	}
}
