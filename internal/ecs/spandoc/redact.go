package spandoc

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/log"
)

// Redacted returns s as an exporter that sends spans rather than span
// documents (OTLP) may send it: the value of every span, span event and
// link attribute whose key r matches is the string log.Redacted, the
// decision Append makes for a document, and whether any was. It returns
// s itself and false when no key matches (or r is nil), so a span without
// secrets costs one key scan.
func Redacted(s sdktrace.ReadOnlySpan, r *log.Redactor) (sdktrace.ReadOnlySpan, bool) {
	if r == nil {
		return s, false
	}
	attrs, changed := redactAttrs(s.Attributes(), r)
	events, copied := s.Events(), false
	for i := range events {
		if a, ok := redactAttrs(events[i].Attributes, r); ok {
			if !copied {
				events, copied = slices.Clone(events), true
			}
			events[i].Attributes, changed = a, true
		}
	}
	links, copied := s.Links(), false
	for i := range links {
		if a, ok := redactAttrs(links[i].Attributes, r); ok {
			if !copied {
				links, copied = slices.Clone(links), true
			}
			links[i].Attributes, changed = a, true
		}
	}
	if !changed {
		return s, false
	}
	return &redactedSpan{ReadOnlySpan: s, attrs: attrs, events: events, links: links}, true
}

// redactAttrs returns attrs with the values under keys r matches
// replaced, and whether any was: a copy then, attrs itself otherwise.
func redactAttrs(attrs []attribute.KeyValue, r *log.Redactor) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i, kv := range attrs {
		if !r.Match(string(kv.Key)) {
			continue
		}
		if out == nil {
			out = append([]attribute.KeyValue(nil), attrs...)
		}
		out[i] = attribute.String(string(kv.Key), log.Redacted)
	}
	if out == nil {
		return attrs, false
	}
	return out, true
}

// redactedSpan is a span with its attributes, events and links replaced.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
}

func (s *redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (s *redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s *redactedSpan) Links() []sdktrace.Link           { return s.links }
