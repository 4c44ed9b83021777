package story

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Doc is one stored document as a source returns it.
type Doc struct {
	// Key identifies the document within its source, so that one found
	// twice (by two IDs, in two rounds) counts once: "<index>/<_id>" in
	// Elasticsearch, "<file>:<line>" in files.
	Key string
	// Raw is the document as stored: one JSON object.
	Raw json.RawMessage

	m map[string]any
}

// newDoc parses raw; it fails when raw is not one JSON object.
func newDoc(key string, raw []byte) (Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Doc{}, err
	}
	if m == nil {
		return Doc{}, errNotObject
	}
	return Doc{Key: key, Raw: json.RawMessage(bytes.TrimSpace(raw)), m: m}, nil
}

var errNotObject = errors.New("not a JSON object")

// Field returns the value of an ECS field, written either with dotted keys
// at the top level ("trace.id", as glassbox writes it) or as nested objects
// ({"trace":{"id":...}}, as other ECS producers do), or any mix.
func (d Doc) Field(key string) (any, bool) { return lookup(d.m, key) }

func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for i := 0; i < len(key); i++ {
		if key[i] != '.' {
			continue
		}
		if sub, ok := m[key[:i]].(map[string]any); ok {
			if v, ok := lookup(sub, key[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// Str returns a field as a string: strings as they are, numbers and
// booleans in JSON form, anything else "".
func (d Doc) Str(key string) string {
	v, _ := d.Field(key)
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// Int returns a numeric field (or a string holding a number), and whether
// it had one.
func (d Doc) Int(key string) (int64, bool) {
	v, _ := d.Field(key)
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// Time returns @timestamp: an RFC 3339 string, or a number of
// milliseconds since the epoch (Elasticsearch's other date form).
func (d Doc) Time() (time.Time, bool) {
	v, _ := d.Field("@timestamp")
	switch v := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case json.Number:
		ms, err := v.Int64()
		return time.UnixMilli(ms).UTC(), err == nil
	}
	return time.Time{}, false
}

// IsSpan reports whether the document is a span (glassbox writes
// processor.event "span"; other producers put spans in traces-* streams).
func (d Doc) IsSpan() bool {
	return d.Str("processor.event") == "span" || (d.Str("data_stream.type") == "traces" && d.Str("span.id") != "")
}

// IDs returns the document's correlation and trace IDs.
func (d Doc) IDs() (correlation, traceID string) {
	return d.Str("correlation.id"), strings.ToLower(d.Str("trace.id"))
}
