package sentry

import (
	"github.com/glassbox-obs/glassbox/log"
)

// Caps for what events carry besides the request: strings in contexts
// and breadcrumb data, and the depth of nested values.
const (
	maxDataStringLen = 4 << 10
	maxDataDepth     = 20
)

// scrubData returns a copy of v, a decoded JSON value or an attribute
// value, with the values of keys on the redaction list redacted, strings
// sanitised and capped, and nesting bounded.
func (r *Reporter) scrubData(v any, depth int) any {
	if depth > maxDataDepth {
		return log.Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			k = sanitize(k, maxTagLen)
			if r.cfg.redactor.Match(k) {
				m[k] = log.Redacted
				continue
			}
			m[k] = r.scrubData(e, depth+1)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.scrubData(e, depth+1)
		}
		return out
	case string:
		return sanitize(x, maxDataStringLen)
	}
	return v
}

// setTag sets a tag, sanitised and cut to Sentry's limit; a tag whose
// name is on the redaction list is sent as the marker.
func (r *Reporter) setTag(ev *event, k, v string) {
	if r.cfg.redactor.Match(k) {
		v = log.Redacted
	}
	ev.Tags[k] = sanitize(v, maxTagLen)
}
