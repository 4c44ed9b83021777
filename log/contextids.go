package log

import (
	"context"
	"log/slog"
	"slices"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// The ID fields a context carries: the handler writes them itself.
const (
	keyCorrelationID = trace.CorrelationAttribute
	keyTraceID       = "trace.id"
	keySpanID        = "span.id"
)

// ownID reports whether the top-level attribute a is one of the ID fields
// of the record's context with the context's own value (as a string of
// lowercase hex for trace.id and span.id, or an OTel TraceID or SpanID).
// The handler writes those fields itself: such an attribute, added by a
// wrapper of the handler (a multi-handler, NewContextIDHandler, another
// library's), is the same field again and is dropped rather than written
// as correlation.id_2.
func ownID(a slog.Attr, ids *trace.IDs) bool {
	switch a.Key {
	case keyCorrelationID:
		return ids.CorrelationID != "" && a.Value.Kind() == slog.KindString && a.Value.String() == ids.CorrelationID
	case keyTraceID:
		return ids.HasTrace() && sameID(a.Value, ids.TraceID[:])
	case keySpanID:
		return ids.HasSpan() && sameID(a.Value, ids.SpanID[:])
	}
	return false
}

// idKeyLen reports whether key is as long as one of the ID fields: a
// check cheap enough to make on every attribute before ownID.
func idKeyLen(key string) bool {
	n := len(key)
	return n == len(keyCorrelationID) || n == len(keyTraceID) || n == len(keySpanID)
}

// sameID reports whether v is id, as lowercase hex or as an OTel ID.
func sameID(v slog.Value, id []byte) bool {
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if len(s) != 2*len(id) {
			return false
		}
		const hex = "0123456789abcdef"
		for i, b := range id {
			if s[2*i] != hex[b>>4] || s[2*i+1] != hex[b&0x0f] {
				return false
			}
		}
		return true
	case slog.KindAny:
		switch x := v.Any().(type) {
		case oteltrace.TraceID:
			return string(x[:]) == string(id)
		case oteltrace.SpanID:
			return string(x[:]) == string(id)
		}
	}
	return false
}

// NewContextIDHandler returns a handler that adds the correlation.id,
// trace.id and span.id of each record's context (see trace.FromContext) to
// the record, at its top level, before passing it to next. It is for
// logging through a handler other than glassbox's, which reads them from
// the context itself: slog.NewJSONHandler, a handler of another library,
// or a slog.NewMultiHandler that has glassbox's among others (glassbox's
// drops the fields it gets twice). A field the record already has at its
// top level is not added again.
//
// Groups opened with WithGroup do not take the IDs in: they stay at the
// top level. The handler is safe for concurrent use if next is.
func NewContextIDHandler(next slog.Handler) slog.Handler { return &idHandler{next: next} }

type idHandler struct {
	next slog.Handler
	// goas are the WithGroup and WithAttrs calls made since the first
	// WithGroup: Handle nests the record's attributes in them, after the
	// IDs. Calls before the first WithGroup go to next.
	goas []groupOrAttrs
}

type groupOrAttrs struct {
	group string // a WithGroup name, or "" for attrs
	attrs []slog.Attr
}

func (h *idHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *idHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.goas) == 0 {
		return &idHandler{next: h.next.WithAttrs(attrs)}
	}
	return &idHandler{next: h.next, goas: append(slices.Clip(h.goas), groupOrAttrs{attrs: slices.Clone(attrs)})}
}

func (h *idHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &idHandler{next: h.next, goas: append(slices.Clip(h.goas), groupOrAttrs{group: name})}
}

func (h *idHandler) Handle(ctx context.Context, r slog.Record) error {
	ids := trace.FromContext(ctx)
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	var has [3]bool // the record has correlation.id, trace.id, span.id at its top level
	if len(h.goas) == 0 {
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case keyCorrelationID:
				has[0] = true
			case keyTraceID:
				has[1] = true
			case keySpanID:
				has[2] = true
			}
			return true
		})
	}
	if ids.CorrelationID != "" && !has[0] {
		out.AddAttrs(slog.String(keyCorrelationID, ids.CorrelationID))
	}
	if ids.HasTrace() && !has[1] {
		out.AddAttrs(slog.String(keyTraceID, ids.TraceID.String()))
	}
	if ids.HasSpan() && !has[2] {
		out.AddAttrs(slog.String(keySpanID, ids.SpanID.String()))
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	for i := len(h.goas) - 1; i >= 0; i-- {
		if g := h.goas[i]; g.group != "" {
			attrs = []slog.Attr{{Key: g.group, Value: slog.GroupValue(attrs...)}}
		} else {
			attrs = append(slices.Clone(g.attrs), attrs...)
		}
	}
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}
