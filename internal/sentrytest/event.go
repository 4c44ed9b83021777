package sentrytest

import (
	"errors"
	"fmt"
	"time"
)

// Limits Relay enforces on event fields (values beyond them are refused
// here, where Relay would trim them into the event's _meta).
const (
	maxTagKey   = 200
	maxTagValue = 200
	maxTxn      = 200
)

var levels = map[string]bool{"fatal": true, "error": true, "warning": true, "info": true, "debug": true}

// validateEvent checks the shape of an event payload: the types of the
// fields Sentry's event schema defines, the tag limits, the event ID
// (matching the envelope's), levels, exceptions, frames, breadcrumbs and
// the request's headers. Unknown fields are allowed.
func validateEvent(ev map[string]any, envelopeID string) error {
	if id, ok := ev["event_id"]; ok {
		s, ok := id.(string)
		if !ok || !validEventID(s) {
			return fmt.Errorf("invalid event_id %v", id)
		}
		if envelopeID != "" && normID(s) != normID(envelopeID) {
			return fmt.Errorf("event_id %s does not match the envelope's %s", s, envelopeID)
		}
	}
	if ts, ok := ev["timestamp"]; ok && !validTime(ts) {
		return fmt.Errorf("invalid timestamp %v", ts)
	}
	for _, k := range []string{"platform", "release", "environment", "server_name", "message", "logger"} {
		if v, ok := ev[k]; ok {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("%s is not a string: %v", k, v)
			}
		}
	}
	if l, ok := ev["level"]; ok {
		if s, _ := l.(string); !levels[s] {
			return fmt.Errorf("invalid level %v", l)
		}
	}
	if t, ok := ev["transaction"]; ok {
		if s, ok := t.(string); !ok || len(s) > maxTxn {
			return fmt.Errorf("invalid transaction %.40v", t)
		}
	}
	if err := validateTags(ev["tags"]); err != nil {
		return err
	}
	if fp, ok := ev["fingerprint"]; ok {
		list, ok := fp.([]any)
		if !ok {
			return errors.New("fingerprint is not a list")
		}
		for _, p := range list {
			if _, ok := p.(string); !ok {
				return fmt.Errorf("fingerprint part %v is not a string", p)
			}
		}
	}
	if c, ok := ev["contexts"]; ok {
		m, ok := c.(map[string]any)
		if !ok {
			return errors.New("contexts is not an object")
		}
		for k, v := range m {
			if _, ok := v.(map[string]any); !ok {
				return fmt.Errorf("context %q is not an object", k)
			}
		}
	}
	if err := validateExceptions(ev["exception"]); err != nil {
		return err
	}
	if err := validateBreadcrumbs(ev["breadcrumbs"]); err != nil {
		return err
	}
	return validateRequest(ev["request"])
}

func validateTags(v any) error {
	check := func(k string, val any) error {
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("tag %q is not a string: %v", k, val)
		}
		if k == "" || len(k) > maxTagKey || len(s) > maxTagValue {
			return fmt.Errorf("tag %.40q=%.40q exceeds Sentry's limits", k, s)
		}
		return nil
	}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, val := range x {
			if err := check(k, val); err != nil {
				return err
			}
		}
	case []any:
		for _, p := range x {
			pair, ok := p.([]any)
			if !ok || len(pair) != 2 {
				return fmt.Errorf("tag %v is not a [key, value] pair", p)
			}
			k, _ := pair[0].(string)
			if err := check(k, pair[1]); err != nil {
				return err
			}
		}
	default:
		return errors.New("tags is neither an object nor a list of pairs")
	}
	return nil
}

// values returns the list of a field that is either a list or an object
// with "values".
func values(v any, field string) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case map[string]any:
		list, ok := x["values"].([]any)
		if !ok {
			return nil, fmt.Errorf("%s.values is not a list", field)
		}
		return list, nil
	}
	return nil, fmt.Errorf("%s is neither a list nor {\"values\": [...]}", field)
}

func validateExceptions(v any) error {
	list, err := values(v, "exception")
	if err != nil {
		return err
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("exception %d is not an object", i)
		}
		typ, _ := m["type"].(string)
		val, _ := m["value"].(string)
		if typ == "" && val == "" {
			return fmt.Errorf("exception %d has neither type nor value", i)
		}
		if mech, ok := m["mechanism"]; ok && mech != nil {
			mm, ok := mech.(map[string]any)
			if t, _ := mm["type"].(string); !ok || t == "" {
				return fmt.Errorf("exception %d: mechanism without type", i)
			}
		}
		if st, ok := m["stacktrace"]; ok && st != nil {
			sm, ok := st.(map[string]any)
			frames, ok2 := sm["frames"].([]any)
			if !ok || !ok2 {
				return fmt.Errorf("exception %d: stacktrace without frames", i)
			}
			for j, f := range frames {
				fm, ok := f.(map[string]any)
				if !ok {
					return fmt.Errorf("exception %d frame %d is not an object", i, j)
				}
				if l, ok := fm["lineno"]; ok {
					if n, ok := l.(float64); !ok || n < 0 {
						return fmt.Errorf("exception %d frame %d: invalid lineno %v", i, j, l)
					}
				}
			}
		}
	}
	return nil
}

func validateBreadcrumbs(v any) error {
	list, err := values(v, "breadcrumbs")
	if err != nil {
		return err
	}
	for i, b := range list {
		m, ok := b.(map[string]any)
		if !ok {
			return fmt.Errorf("breadcrumb %d is not an object", i)
		}
		if ts, ok := m["timestamp"]; ok && !validTime(ts) {
			return fmt.Errorf("breadcrumb %d: invalid timestamp %v", i, ts)
		}
		if l, ok := m["level"]; ok {
			if s, _ := l.(string); !levels[s] {
				return fmt.Errorf("breadcrumb %d: invalid level %v", i, l)
			}
		}
		if d, ok := m["data"]; ok && d != nil {
			if _, ok := d.(map[string]any); !ok {
				return fmt.Errorf("breadcrumb %d: data is not an object", i)
			}
		}
	}
	return nil
}

func validateRequest(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("request is not an object")
	}
	for _, k := range []string{"url", "method", "query_string", "cookies"} {
		if x, ok := m[k]; ok {
			if _, ok := x.(string); !ok && k != "query_string" && k != "cookies" {
				return fmt.Errorf("request.%s is not a string", k)
			}
		}
	}
	if h, ok := m["headers"]; ok && h != nil {
		hm, ok := h.(map[string]any)
		if !ok {
			return errors.New("request.headers is not an object")
		}
		for k, x := range hm {
			if _, ok := x.(string); !ok {
				return fmt.Errorf("request header %q is not a string", k)
			}
		}
	}
	return nil
}

// validTime accepts what Sentry accepts: an RFC 3339 string or a number
// of seconds since the epoch.
func validTime(v any) bool {
	switch x := v.(type) {
	case float64:
		return x >= 0
	case string:
		_, err := time.Parse(time.RFC3339Nano, x)
		return err == nil
	}
	return false
}

func normID(s string) string {
	b := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '-' {
			if 'A' <= c && c <= 'F' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	return string(b)
}
