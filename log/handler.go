package log

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
	"github.com/glassbox-obs/glassbox/internal/parallel"
	"github.com/glassbox-obs/glassbox/trace"
)

// ECSVersion is the ECS version the documents follow.
const ECSVersion = ecs.Version

// Handler is an slog.Handler that encodes each record once as an ECS JSON
// document and hands the bytes to every configured Sink.
//
// Every document carries @timestamp, log.level, message, ecs.version, the
// service fields, and the correlation.id, trace.id and span.id found in the
// record's context. User attributes follow; see the package documentation
// for how values are written, redacted and kept safe for Elasticsearch.
//
// A Handler is safe for concurrent use. Handlers derived with WithAttrs and
// WithGroup share the sinks of their parent.
type Handler struct {
	core   *core
	levels []groupLevel // levels[0] is the top level; levels[i>0] are groups
}

// groupLevel is one nesting level: a group name (empty for the top level)
// and the attributes pre-encoded into it by WithAttrs.
type groupLevel struct {
	name string
	pre  []byte       // `"k":v,"k2":v2` without leading or trailing comma
	keys []ecs.KeyRef // the keys in pre (offsets into pre), for duplicate detection
}

// core is what all Handlers derived from one NewHandler call share.
type core struct {
	level        slog.Leveler
	sinks        []Sink
	static       []byte // `,"ecs.version":...` service fields
	redactor     *Redactor
	keys         keyCache // verdicts on attribute keys, under redactor
	addSource    bool
	errorHandler otel.ErrorHandler
	flight       *FlightRecorder // nil unless WithFlightRecorder
	shutdownOnce sync.Once
	shutdownErr  error
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler configured by opts. With no sink configured it
// writes JSON lines to os.Stdout.
func NewHandler(opts ...Option) *Handler {
	c := handlerConfig{level: slog.LevelInfo}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	if c.redactor == nil && !c.noRedact {
		c.redactor = NewRedactor()
	}
	if len(c.sinks) == 0 {
		c.sinks = []Sink{NewWriterSink(os.Stdout, FormatJSON)}
	}
	return &Handler{
		core: &core{
			level:        c.level,
			sinks:        c.sinks,
			static:       appendStatic(nil, c.service, c.loggerName),
			redactor:     c.redactor,
			addSource:    c.addSource,
			errorHandler: c.errorHandler,
			flight:       c.flight,
		},
		levels: []groupLevel{{}},
	}
}

func appendStatic(b []byte, s Service, logger string) []byte {
	field := func(k, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = jsonenc.AppendString(b, v)
		}
	}
	field(ecs.ECSVersion, ECSVersion)
	field(ecs.LogLogger, logger)
	field(ecs.ServiceName, s.Name)
	field(ecs.ServiceVersion, s.Version)
	field(ecs.ServiceEnvironment, s.Environment)
	field(ecs.HostName, s.HostName)
	field(ecs.EventDataset, s.Dataset)
	if s.Dataset != "" {
		field(ecs.DataStreamType, "logs")
		field(ecs.DataStreamDataset, s.Dataset)
		field(ecs.DataStreamNamespace, s.Namespace)
	}
	return b
}

// Enabled reports whether records at level l are handled: at the level
// and above, and, with WithFlightRecorder, below it for the context of an
// open Flight.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	if l >= h.core.level.Level() {
		return true
	}
	return h.core.flight != nil && h.core.flight.wants(ctx, l)
}

// WithAttrs returns a Handler whose documents include attrs, encoded once
// now, inside the current group.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := h.clone()
	lv := &h2.levels[len(h2.levels)-1]
	st := getState(h.core)
	defer putState(st)
	st.top = len(h2.levels) == 1
	b := append([]byte(nil), lv.pre...)
	st.keys.Reset()
	for _, k := range lv.keys {
		st.keys.Add(b, k)
	}
	for _, a := range attrs {
		b = st.appendAttr(b, h.core, a)
	}
	lv.pre = b
	lv.keys = append([]ecs.KeyRef(nil), st.keys.Refs()...)
	return h2
}

// WithGroup returns a Handler that nests the attributes that follow under
// name. An empty name returns h unchanged.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.levels = append(h2.levels, groupLevel{name: name})
	return h2
}

func (h *Handler) clone() *Handler {
	lv := make([]groupLevel, len(h.levels), len(h.levels)+1)
	copy(lv, h.levels)
	return &Handler{core: h.core, levels: lv}
}

// Handle encodes r and writes it to every sink. It returns an error only
// when every sink failed; the error handler sees each failure. With
// WithFlightRecorder, a record below the level goes to its context's
// Flight instead (see FlightRecorder).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if f := h.core.flight; f != nil && f.intercept(h, ctx, &r) {
		return nil
	}
	return h.handle(ctx, r, false)
}

// handle encodes r and writes it to every sink; replayed marks a record
// the flight recorder kept (see FlightRecorder).
func (h *Handler) handle(ctx context.Context, r slog.Record, replayed bool) error {
	c := h.core
	st := getState(c)
	defer putState(st)

	ids := trace.FromContext(ctx)
	// @timestamp is always written, and always one date_nanos can hold:
	// a record without a time (slog's zero Time) or with one outside the
	// range gets the time it is handled; the latter keeps its own time in
	// event.start. See Entry.
	t, orig := r.Time, time.Time{}
	if t.IsZero() || !ecs.InTimestampRange(t) {
		orig, t = t, ecs.ClampTimestamp(time.Now())
	}
	b := append(st.buf[:0], `{"`+ecs.Timestamp+`":"`...)
	b = st.ts.AppendTimeContent(b, t)
	b = append(b, `","`+ecs.LogLevel+`":"`...)
	b = append(b, levelString(r.Level)...)
	b = append(b, `","`+ecs.Message+`":`...)
	b = jsonenc.AppendString(b, r.Message)
	b = append(b, c.static...)
	if replayed {
		b = append(b, `,"`+ecs.GlassboxReplayed+`":true`...)
	}
	if !orig.IsZero() {
		b = append(b, `,"`+ecs.EventStart+`":`...)
		b = jsonenc.AppendTime(b, orig)
	}
	if ids.CorrelationID != "" {
		// Valid IDs need no escaping (see trace.ValidCorrelationID).
		b = append(b, `,"`+ecs.CorrelationID+`":"`...)
		b = append(b, ids.CorrelationID...)
		b = append(b, '"')
	}
	if ids.HasTrace() {
		b = append(b, `,"`+ecs.TraceID+`":`...)
		b = jsonenc.AppendHex(b, ids.TraceID[:])
	}
	if ids.HasSpan() {
		b = append(b, `,"`+ecs.SpanID+`":`...)
		b = jsonenc.AppendHex(b, ids.SpanID[:])
	}
	if c.addSource && r.PC != 0 {
		b = appendSource(b, r.PC)
	}

	// User attributes: the top level, then each group, then the record's.
	st.err, st.ecs = nil, false
	st.top = true
	st.keys.Reset()
	b = st.appendPre(b, &h.levels[0])
	marks := st.marks[:0]
	for i := 1; i < len(h.levels); i++ {
		lv := &h.levels[i]
		marks = append(marks, len(b))
		b = st.appendKey(b, lv.name) // in the enclosing object
		st.top = false
		b = append(b, '{')
		st.keys.Open() // closed with the document
		b = st.appendPre(b, lv)
	}
	if r.NumAttrs() > 0 {
		top := len(h.levels) == 1
		r.Attrs(func(a slog.Attr) bool {
			if top && idKeyLen(a.Key) && ownID(a, &ids) {
				return true // see contextids.go
			}
			b = st.appendAttr(b, c, a)
			return true
		})
	}
	// Close the groups, dropping the ones that stayed empty.
	for i := len(marks) - 1; i >= 0; i-- {
		if b[len(b)-1] == '{' {
			b = b[:marks[i]]
		} else {
			b = append(b, '}')
		}
	}
	st.marks = marks
	b = append(b, '}', '\n')
	st.buf = b

	e := &st.entry
	*e = Entry{Time: t, Untimed: r.Time.IsZero(), Level: r.Level, Message: r.Message, IDs: ids, Err: st.err, Doc: b}
	var failed int
	var first error
	for _, s := range c.sinks {
		if err := s.Write(ctx, e); err != nil {
			failed++
			if first == nil {
				first = err
			}
			c.handleError(err)
		}
	}
	*e = Entry{}
	if failed == len(c.sinks) && first != nil {
		return first
	}
	return nil
}

// appendPre copies a level's pre-encoded attributes into b and registers
// their keys, rebased, in the current scope.
func (st *state) appendPre(b []byte, lv *groupLevel) []byte {
	if len(lv.pre) == 0 {
		return b
	}
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	base := int32(len(b))
	b = append(b, lv.pre...)
	for _, k := range lv.keys {
		k.Off += base
		st.keys.Add(b, k)
	}
	return b
}

func appendSource(b []byte, pc uintptr) []byte {
	fs := runtime.CallersFrames([]uintptr{pc})
	f, _ := fs.Next()
	if f.File == "" {
		return b
	}
	b = append(b, `,"`+ecs.LogOriginFileName+`":`...)
	b = jsonenc.AppendString(b, f.File)
	b = append(b, `,"`+ecs.LogOriginFileLine+`":`...)
	b = jsonenc.AppendInt(b, int64(f.Line))
	b = append(b, `,"`+ecs.LogOriginFunction+`":`...)
	return jsonenc.AppendString(b, f.Function)
}

func (c *core) handleError(err error) {
	if c.errorHandler != nil {
		c.errorHandler.Handle(err)
		return
	}
	otel.Handle(err)
}

// Flush asks every sink that buffers (implements Flusher) to deliver what
// it holds, by ctx's deadline. The sinks flush side by side, so a sink
// whose backend hangs cannot use up the others' time.
func (h *Handler) Flush(ctx context.Context) error {
	return h.core.eachSink(func(s Sink) error {
		if f, ok := s.(Flusher); ok {
			return f.Flush(ctx)
		}
		return nil
	})
}

// Shutdown shuts every sink down, by ctx's deadline, side by side (as
// Flush). Later calls return the first call's result. Records handled
// after Shutdown go nowhere.
func (h *Handler) Shutdown(ctx context.Context) error {
	c := h.core
	c.shutdownOnce.Do(func() {
		c.shutdownErr = c.eachSink(func(s Sink) error { return s.Shutdown(ctx) })
	})
	return c.shutdownErr
}

// eachSink calls f for every sink, side by side, and joins the errors in
// the sinks' order.
func (c *core) eachSink(f func(Sink) error) error {
	return parallel.Do(len(c.sinks), func(i int) error { return f(c.sinks[i]) })
}
