package sentry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	sentrygo "github.com/getsentry/sentry-go"

	gberrors "github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// failure is what is being reported.
type failure struct {
	err      error // nil for a bare failing status
	req      *middleware.Request
	out      *middleware.Outcome
	panic    bool
	status   int
	grpcCode uint32
	explicit bool       // Report was called
	fromLog  bool       // an ERROR record
	ids      *trace.IDs // the record's IDs, for fromLog
}

// panicError is the exception of a panic whose value is not an error.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprint(p.value) }

// statusError is the exception of a failing status without an error.
type statusError struct{ msg string }

func (s *statusError) Error() string { return s.msg }

// capture builds the event with sentry-go's own exception building, adds
// what glassbox knows and sends it through the request's hub. It never
// panics.
func (r *Reporter) capture(ctx context.Context, st *reqState, f failure) (id string) {
	defer func() {
		if p := recover(); p != nil {
			r.handleError(fmt.Errorf("glassbox/sentry: building an event panicked: %v", p))
			id = ""
		}
	}()
	if f.req == nil && st != nil {
		f.req = st.req
	}
	if f.req != nil {
		// Method and route reach the message, transaction, tags and
		// fingerprint: sanitised once here.
		cp := *f.req
		cp.Method = sanitize(cp.Method, maxMethodLen)
		cp.Route = sanitize(cp.Route, maxValueLen)
		f.req = &cp
	}
	err := f.err
	synthetic := false
	if err == nil {
		err = &statusError{msg: statusMessage(f)}
		synthetic = true
	}
	level := sentrygo.LevelError
	if f.panic {
		level = sentrygo.LevelFatal
	}
	event := r.client.EventFromException(err, level)
	r.fixExceptions(event, err, f)
	ids := eventIDs(ctx, st, f)
	r.enrich(st, event, err, f, ids, synthetic)

	var hub *sentrygo.Hub
	if st != nil {
		hub = st.hub
	} else {
		hub = r.hub.Clone()
	}
	if ids.HasTrace() {
		// Without a Sentry span the scope's propagation context becomes
		// the event's trace context (and the envelope's trace header).
		hub.Scope().SetPropagationContext(sentrygo.PropagationContext{
			TraceID: sentrygo.TraceID(ids.TraceID), SpanID: sentrygo.SpanID(ids.SpanID),
		})
	}
	eid := hub.CaptureEvent(event)
	if eid == nil {
		r.c.sampledOut.Add(1)
		return ""
	}
	id = string(*eid)
	if st != nil {
		// The request's first event is its one event; an automatic report
		// that raced with another returns the first one's ID.
		if first := st.setEvent(id, f.err); !f.explicit {
			return first
		}
	}
	return id
}

func statusMessage(f failure) string {
	var b strings.Builder
	if f.grpcCode != 0 {
		b.WriteString("gRPC status ")
		b.WriteString(grpcCodeName(f.grpcCode))
	} else {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(f.status))
	}
	if f.req != nil {
		if f.req.Protocol != "grpc" && f.req.Method != "" {
			b.WriteString(" " + f.req.Method)
		}
		if f.req.Route != "" {
			b.WriteString(" " + f.req.Route)
		}
	}
	return b.String()
}

var grpcNames = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func grpcCodeName(c uint32) string {
	if int(c) < len(grpcNames) {
		return grpcNames[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// fixExceptions adjusts what sentry-go built: panic stacks and mechanism,
// readable types for our own wrappers, no meaningless reporting stacks,
// and in-app flags that know about module caches and glassbox itself.
func (r *Reporter) fixExceptions(event *sentrygo.Event, err error, f failure) {
	dropAttrLayers(event)
	n := len(event.Exception)
	if n == 0 {
		return
	}
	top := &event.Exception[n-1] // sentry-go puts the outermost error last
	ownStack := sentrygo.ExtractStacktrace(err) != nil
	switch {
	case f.panic:
		if !ownStack && f.out != nil && len(f.out.Stack) > 0 {
			if frames := parsePanicStack(f.out.Stack); len(frames) > 0 {
				top.Stacktrace = &sentrygo.Stacktrace{Frames: frames}
			}
		}
		if top.Mechanism == nil {
			top.Mechanism = &sentrygo.Mechanism{Type: "panic"}
		} else {
			top.Mechanism.Type = "panic"
		}
		top.Mechanism.SetUnhandled()
	case !ownStack && !f.explicit && !f.fromLog:
		// The stack sentry-go took is the middleware's, not the failure's.
		top.Stacktrace = nil
	}
	for i := range event.Exception {
		e := &event.Exception[i]
		switch e.Type {
		case "*sentry.panicError":
			e.Type = "panic"
		case "*sentry.statusError":
			if f.grpcCode != 0 {
				e.Type = "GRPCStatus"
			} else {
				e.Type = "HTTPStatus"
			}
		}
		if e.Stacktrace != nil {
			for j := range e.Stacktrace.Frames {
				fr := &e.Stacktrace.Frames[j]
				fr.InApp = inApp(fr)
			}
		}
	}
}

// attrLayerType is the type of errors.With's wrapper: same message as
// the error it wraps, no stack; it would only repeat a link of the chain.
const attrLayerType = "*errors.attrError"

// dropAttrLayers removes errors.With layers from the exception chain,
// renumbering the mechanism IDs so that the chain stays linked.
func dropAttrLayers(event *sentrygo.Event) {
	exc := event.Exception
	drop := false
	for _, e := range exc {
		if e.Type == attrLayerType && e.Mechanism != nil {
			drop = true
		}
	}
	if !drop || len(exc) < 2 {
		return
	}
	parent := map[int]*int{} // exception_id -> parent_id of dropped ones
	for _, e := range exc {
		if e.Type == attrLayerType && e.Mechanism != nil {
			parent[e.Mechanism.ExceptionID] = e.Mechanism.ParentID
		}
	}
	resolve := func(p *int) *int {
		for p != nil {
			q, dropped := parent[*p]
			if !dropped {
				return p
			}
			p = q
		}
		return nil
	}
	kept := exc[:0:0]
	for _, e := range exc {
		if e.Type == attrLayerType && e.Mechanism != nil {
			continue
		}
		if e.Mechanism != nil {
			e.Mechanism.ParentID = resolve(e.Mechanism.ParentID)
		}
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		return
	}
	// Renumber: IDs are positions in depth-first order, outermost 0.
	newID := map[int]int{}
	for i := range kept {
		if m := kept[i].Mechanism; m != nil {
			newID[m.ExceptionID] = len(kept) - 1 - i
		}
	}
	for i := range kept {
		m := kept[i].Mechanism
		if m == nil {
			continue
		}
		m.ExceptionID = newID[m.ExceptionID]
		if m.ParentID != nil {
			p := newID[*m.ParentID]
			m.ParentID = &p
		} else {
			m.Type = sentrygo.MechanismTypeGeneric
			m.Source = ""
		}
	}
	if len(kept) == 1 {
		kept[0].Mechanism = nil
	}
	event.Exception = kept
}

var goRoot = strings.ReplaceAll(build.Default.GOROOT, "\\", "/")

// glassboxPkgs are the packages whose frames are never the user's code.
var glassboxPkgs = []string{
	"github.com/glassbox-obs/glassbox/errors",
	"github.com/glassbox-obs/glassbox/log",
	"github.com/glassbox-obs/glassbox/trace",
	"github.com/glassbox-obs/glassbox/middleware",
	"github.com/glassbox-obs/glassbox/exporter/sentry",
}

func inApp(fr *sentrygo.Frame) bool {
	if fr.Module == "" && fr.Function == "" {
		return false
	}
	path := fr.AbsPath
	if path == "" {
		path = fr.Filename
	}
	if (goRoot != "" && strings.HasPrefix(path, goRoot)) || strings.Contains(path, "/pkg/mod/") || moduleVersionPath(path) ||
		strings.Contains(path, "/vendor/") || strings.HasPrefix(fr.Module, "github.com/getsentry/") {
		return false
	}
	if first, _, _ := strings.Cut(fr.Module, "/"); fr.AbsPath == "" && !strings.Contains(first, ".") &&
		fr.Module != "main" && fr.Module != "" {
		return false // the standard library in -trimpath builds ("net/http/server.go")
	}
	for _, p := range glassboxPkgs {
		if fr.Module == p || strings.HasPrefix(fr.Module, p+"/") {
			return false
		}
	}
	return true
}

// moduleVersionPath reports whether path contains "@v<digit>", the mark
// of a dependency's path in -trimpath builds ("example.com/lib@v1.2.0/x.go").
func moduleVersionPath(path string) bool {
	for i := strings.Index(path, "@v"); i >= 0; {
		if i+2 < len(path) && '0' <= path[i+2] && path[i+2] <= '9' {
			return true
		}
		j := strings.Index(path[i+2:], "@v")
		if j < 0 {
			return false
		}
		i += 2 + j
	}
	return false
}

// parsePanicStack turns runtime/debug.Stack output into Sentry frames,
// oldest first, keeping the frames below the panic.
func parsePanicStack(b []byte) []sentrygo.Frame {
	lines := strings.Split(string(b), "\n")
	var frames []runtime.Frame
	for i := 0; i+1 < len(lines); i++ {
		fn := lines[i]
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || strings.HasPrefix(fn, "\t") {
			continue
		}
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		loc := strings.TrimSpace(lines[i+1])
		if !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		i++
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		file, lineStr := loc, ""
		if j := strings.LastIndexByte(loc, ':'); j >= 0 {
			file, lineStr = loc[:j], loc[j+1:]
		}
		ln, _ := strconv.Atoi(lineStr)
		if strings.HasSuffix(fn, ")") {
			if j := strings.LastIndexByte(fn, '('); j > 0 {
				fn = fn[:j]
			}
		}
		if fn == "panic" || fn == "runtime.gopanic" {
			frames = frames[:0] // everything so far is the recovery machinery
			continue
		}
		frames = append(frames, runtime.Frame{Function: fn, File: file, Line: ln})
	}
	out := make([]sentrygo.Frame, 0, len(frames))
	for i := len(frames) - 1; i >= 0; i-- {
		out = append(out, sentrygo.NewFrame(frames[i]))
	}
	return out
}

// enrich adds tags, contexts, breadcrumbs, request data, the fingerprint
// and the Kibana link.
func eventIDs(ctx context.Context, st *reqState, f failure) trace.IDs {
	ids := trace.FromContext(ctx)
	if f.ids != nil && ids.CorrelationID == "" && !ids.HasTrace() {
		ids = *f.ids
	}
	if st != nil {
		if ids.CorrelationID == "" {
			ids.CorrelationID = st.ids.CorrelationID
		}
		if !ids.HasTrace() {
			ids.TraceID, ids.SpanID = st.ids.TraceID, st.ids.SpanID
		}
	}
	return ids
}

func (r *Reporter) enrich(st *reqState, event *sentrygo.Event, err error, f failure, ids trace.IDs, synthetic bool) {
	if event.Tags == nil {
		event.Tags = map[string]string{}
	}
	if event.Contexts == nil {
		event.Contexts = map[string]sentrygo.Context{}
	}
	if !trace.ValidCorrelationID(ids.CorrelationID) {
		ids.CorrelationID = "" // never stored or sent
	}
	if ids.CorrelationID != "" {
		event.Tags["correlation_id"] = ids.CorrelationID
	}
	if ids.HasTrace() {
		event.Tags["trace_id"] = ids.TraceID.String()
		tc := sentrygo.Context{"trace_id": ids.TraceID.String()}
		if ids.HasSpan() {
			tc["span_id"] = ids.SpanID.String()
		}
		event.Contexts["trace"] = tc
	}
	if r.cfg.service != "" {
		event.Tags["service"] = r.cfg.service
	}
	req := f.req
	if req != nil {
		if req.Protocol != "" {
			event.Tags["protocol"] = sanitize(req.Protocol, maxTagLen)
		}
		if req.Route == "" && req.HTTP != nil && req.HTTP.Pattern != "" {
			// Reported during the request: the route the mux matched.
			cp := *req
			cp.Route = sanitize(req.HTTP.Pattern, maxValueLen)
			if i := strings.IndexByte(cp.Route, ' '); i >= 0 {
				cp.Route = cp.Route[i+1:]
			}
			if i := strings.IndexByte(cp.Route, '/'); i > 0 {
				cp.Route = cp.Route[i:] // drop a host
			}
			req = &cp
		}
		if req.Route != "" {
			event.Tags["route"] = sanitize(req.Route, maxTagLen)
			if req.Protocol == "grpc" || req.Method == "" {
				event.Transaction = sanitize(req.Route, maxTagLen)
			} else {
				event.Transaction = sanitize(req.Method+" "+req.Route, maxTagLen)
			}
		}
		if req.HTTP != nil {
			event.Request = r.requestData(req.HTTP)
			if r.cfg.sendUserIP {
				if ip := remoteIP(req.HTTP); ip != "" {
					event.User.IPAddress = ip
				}
			}
		}
	}
	if f.status != 0 {
		event.Tags["http.status_code"] = strconv.Itoa(f.status)
	} else if f.out != nil && f.out.Status != 0 {
		event.Tags["http.status_code"] = strconv.Itoa(f.out.Status)
	}
	if f.grpcCode != 0 {
		event.Tags["rpc.grpc.status_code"] = grpcCodeName(f.grpcCode)
	} else if f.out != nil && f.req != nil && f.req.Protocol == "grpc" {
		event.Tags["rpc.grpc.status_code"] = grpcCodeName(f.out.GRPCCode)
	}
	if f.panic {
		event.Tags["panic"] = "true"
	}
	if attrs := gberrors.Attrs(err); len(attrs) > 0 {
		m := map[string]any{}
		for _, a := range attrs {
			m[a.Key] = attrJSON(a.Value)
		}
		event.Contexts["error"] = m
	}
	if ids.CorrelationID != "" {
		gb := sentrygo.Context{"correlation_id": ids.CorrelationID}
		if link := r.kibanaLink(ids.CorrelationID, time.Now()); link != "" {
			gb["kibana_discover"] = link
		}
		event.Contexts["logs"] = gb
	}
	if st != nil {
		event.Breadcrumbs = append(event.Breadcrumbs, breadcrumbs(st.snapshot())...)
	}
	event.Fingerprint = fingerprint(event, f, synthetic)
}

func attrJSON(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindBool:
		return v.Bool()
	case slog.KindGroup:
		m := map[string]any{}
		for _, a := range v.Group() {
			m[a.Key] = attrJSON(a.Value)
		}
		return m
	}
	return v.String()
}

// fingerprint groups by the root cause's type and the in-app frames of the
// innermost stack: the crash site with its line, then up to nine callers
// by function. Messages never take part, so IDs in them do not split
// groups. Failures without an in-app frame group by status and route.
func fingerprint(event *sentrygo.Event, f failure, synthetic bool) []string {
	var fp []string
	if !synthetic && len(event.Exception) > 0 {
		fp = append(fp, event.Exception[0].Type)
		for _, e := range event.Exception {
			if e.Stacktrace == nil {
				continue
			}
			frames := e.Stacktrace.Frames
			n := 0
			for i := len(frames) - 1; i >= 0 && n < 10; i-- {
				fr := frames[i]
				if !fr.InApp {
					continue
				}
				s := fr.Module + "." + fr.Function
				if n == 0 {
					s += ":" + strconv.Itoa(fr.Lineno)
				}
				fp = append(fp, s)
				n++
			}
			if n > 0 {
				return fp
			}
		}
	}
	// No in-app frame: group by what failed where.
	fp = []string{"glassbox"}
	if synthetic || len(event.Exception) == 0 {
		fp = append(fp, "status")
	} else {
		fp = append(fp, event.Exception[0].Type)
	}
	switch {
	case f.grpcCode != 0:
		fp = append(fp, "grpc", grpcCodeName(f.grpcCode))
	case f.status != 0:
		fp = append(fp, "http", strconv.Itoa(f.status))
	case f.panic:
		fp = append(fp, "panic")
	}
	if f.req != nil {
		fp = append(fp, f.req.Method, f.req.Route)
	}
	return fp
}

// ecsCommon are the document fields every record has; breadcrumbs leave
// them out.
var ecsCommon = map[string]bool{
	"@timestamp": true, "log.level": true, "message": true, "ecs.version": true,
	"service.name": true, "service.version": true, "service.environment": true,
	"host.name": true, "event.dataset": true, "data_stream.type": true,
	"data_stream.dataset": true, "data_stream.namespace": true, "log.logger": true,
	"correlation.id": true, "trace.id": true, "span.id": true,
	"error.stack_trace": true, // the exception carries the stack
}

func breadcrumbs(cs []crumb) []*sentrygo.Breadcrumb {
	out := make([]*sentrygo.Breadcrumb, 0, len(cs))
	for _, c := range cs {
		b := &sentrygo.Breadcrumb{
			Type: "default", Category: "log", Message: c.msg,
			Level: sentryLevel(c.level), Timestamp: c.t,
		}
		if c.level >= slog.LevelError {
			b.Type = "error"
		}
		if len(c.doc) > 0 {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(c.doc))
			dec.UseNumber()
			if dec.Decode(&m) == nil {
				for k := range m {
					if ecsCommon[k] {
						delete(m, k)
					}
				}
				if len(m) > 0 {
					b.Data = m
				}
			}
		}
		out = append(out, b)
	}
	return out
}

func sentryLevel(l slog.Level) sentrygo.Level {
	switch {
	case l >= slog.LevelError:
		return sentrygo.LevelError
	case l >= slog.LevelWarn:
		return sentrygo.LevelWarning
	case l >= slog.LevelInfo:
		return sentrygo.LevelInfo
	}
	return sentrygo.LevelDebug
}

// kibanaLink returns a Discover URL showing the logs of the correlation ID
// from an hour before t to fifteen minutes after, or "".
func (r *Reporter) kibanaLink(id string, t time.Time) string {
	base := strings.TrimRight(r.cfg.kibanaURL, "/")
	if base == "" || !trace.ValidCorrelationID(id) {
		return ""
	}
	from := t.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := t.Add(15 * time.Minute).UTC().Format(time.RFC3339)
	g := "(time:(from:'" + from + "',to:'" + to + "'))"
	a := "(query:(language:kuery,query:'correlation.id:\"" + id + "\"'))"
	return base + "/app/discover#/?_g=" + risonEscape(g) + "&_a=" + risonEscape(a)
}

// risonEscape percent-encodes what may not appear raw in a URL fragment,
// keeping rison's punctuation readable.
func risonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~()':,!*", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func remoteIP(h *http.Request) string {
	host, _, err := net.SplitHostPort(h.RemoteAddr)
	if err != nil {
		host = h.RemoteAddr
	}
	if net.ParseIP(host) == nil {
		return ""
	}
	return host
}

// beforeSend scrubs every event the client sends, also the ones users
// capture themselves and whatever sentry-go added.
func (r *Reporter) beforeSend(event *sentrygo.Event, _ *sentrygo.EventHint) *sentrygo.Event {
	defer func() {
		if p := recover(); p != nil {
			r.handleError(fmt.Errorf("glassbox/sentry: scrubbing an event panicked: %v", p))
		}
	}()
	if event == nil {
		return nil
	}
	// Scrub copies: scopes share breadcrumbs, contexts and requests
	// between events that may be marshalled concurrently.
	if event.Request != nil {
		req := *event.Request
		req.Headers = maps.Clone(req.Headers)
		req.Env = maps.Clone(req.Env)
		r.scrubRequest(&req)
		event.Request = &req
	}
	event.Transaction = sanitize(event.Transaction, maxTagLen)
	if !r.cfg.sendUserIP {
		event.User.IPAddress = ""
	}
	event.User.Data = r.scrubStringMap(maps.Clone(event.User.Data))
	if len(event.Tags) > 0 {
		tags := maps.Clone(event.Tags)
		for k, v := range tags {
			if r.cfg.redactor.Match(k) {
				tags[k] = log.Redacted
			} else {
				tags[k] = sanitize(v, maxTagLen)
			}
		}
		event.Tags = tags
	}
	if len(event.Contexts) > 0 {
		ctxs := make(map[string]sentrygo.Context, len(event.Contexts))
		for k, c := range event.Contexts {
			if k == "trace" {
				ctxs[k] = c
				continue
			}
			ctxs[k], _ = r.scrubCopy(map[string]any(c), 0).(map[string]any)
		}
		event.Contexts = ctxs
	}
	if len(event.Breadcrumbs) > 0 {
		crumbs := make([]*sentrygo.Breadcrumb, 0, len(event.Breadcrumbs))
		for _, b := range event.Breadcrumbs {
			if b == nil {
				continue
			}
			cp := *b
			if cp.Data != nil {
				cp.Data, _ = r.scrubCopy(cp.Data, 0).(map[string]any)
			}
			crumbs = append(crumbs, &cp)
		}
		event.Breadcrumbs = crumbs
	}
	return event
}

// scrubCopy returns a copy of v with the values of listed keys redacted.
func (r *Reporter) scrubCopy(v any, depth int) any {
	if depth > 20 {
		return log.Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			if r.cfg.redactor.Match(k) {
				m[k] = log.Redacted
				continue
			}
			m[k] = r.scrubCopy(e, depth+1)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.scrubCopy(e, depth+1)
		}
		return out
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if r.cfg.redactor.Match(k) {
				m[k] = log.Redacted
			} else {
				m[k] = e
			}
		}
		return m
	}
	return v
}

func (r *Reporter) scrubStringMap(m map[string]string) map[string]string {
	for k := range m {
		if r.cfg.redactor.Match(k) {
			m[k] = log.Redacted
		}
	}
	return m
}
