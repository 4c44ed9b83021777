package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The content glassbox owns in what it installs, and how an installed
// object of the current TemplateVersion is compared with it:
//
//   - the ILM policy: the delete phase's min_age, that is the retention
//     (compared as a duration: "30d" and "720h" are the same). The other
//     phases and actions may be tuned in Kibana and are kept.
//   - a component or index template: its body. Every field glassbox sets
//     must be installed with glassbox's value, compared as Elasticsearch
//     stores it (settings nested or dotted, values as strings); fields
//     only the installed object has (defaults Elasticsearch adds, such as
//     data_stream.hidden) are not glassbox's and do not count.
//
// drift returns "" when the installed object holds glassbox's content,
// else what differs, for people.
func drift(kind string, installed, want json.RawMessage) string {
	have, ok1 := decode(installed)
	wantV, ok2 := decode(want)
	if !ok1 || !ok2 {
		return "the installed body does not parse"
	}
	if kind == "ilm_policy" {
		// want is {"policy":{...}}; installed is the stored "policy".
		w, _ := wantV.(map[string]any)
		return retentionDrift(have, w["policy"])
	}
	if !contains(wantV, have) {
		return "the installed body differs from glassbox's"
	}
	return ""
}

// retentionDrift compares the delete phase's min_age of two policies.
func retentionDrift(have, want any) string {
	h, w := deleteMinAge(have), deleteMinAge(want)
	hd, herr := parseTimeValue(h)
	wd, werr := parseTimeValue(w)
	switch {
	case h == "":
		return "the installed policy deletes nothing, glassbox's after " + w
	case herr != nil || werr != nil:
		if h != w {
			return "retention " + h + " to " + w
		}
	case hd != wd:
		return "retention " + h + " to " + w
	}
	return ""
}

// deleteMinAge is policy.phases.delete.min_age, or "".
func deleteMinAge(policy any) string {
	p, _ := policy.(map[string]any)
	phases, _ := p["phases"].(map[string]any)
	del, _ := phases["delete"].(map[string]any)
	s, _ := del["min_age"].(string)
	return s
}

// parseTimeValue parses an Elasticsearch time value: an integer with one
// of the units d, h, m, s, ms, micros, nanos.
func parseTimeValue(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"micros", time.Microsecond}, {"nanos", time.Nanosecond}, {"ms", time.Millisecond},
		{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil || v < 0 {
				break
			}
			return time.Duration(v) * u.unit, nil
		}
	}
	return 0, fmt.Errorf("%q is not a time value", s)
}

// contains reports whether have holds every field of want with want's
// value: objects field by field (have may hold more), arrays element by
// element, scalars by their text (5000 and "5000", true and "true" are
// equal, as Elasticsearch stores setting values as strings); objects
// named "settings" compared as flat "index."-prefixed keys.
func contains(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				return false
			}
			if k == "settings" {
				wv, hv = flatSettings(wv), flatSettings(hv)
			}
			if !contains(wv, hv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(w[i], h[i]) {
				return false
			}
		}
		return true
	}
	if _, ok := have.(map[string]any); ok {
		return false
	}
	if _, ok := have.([]any); ok {
		return false
	}
	return fmt.Sprint(want) == fmt.Sprint(have)
}

// flatSettings turns nested or dotted index settings into one object of
// "index."-prefixed dotted keys.
func flatSettings(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			key := prefix + k
			if !strings.HasPrefix(key, "index.") {
				key = "index." + key
			}
			out[key] = v
		}
	}
	walk("", m)
	return out
}

// decode decodes JSON keeping numbers as written.
func decode(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}
