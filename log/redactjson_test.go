package log

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzRedactJSON: for any JSON value, redactJSON keeps the document valid,
// replaces exactly the values under matching keys, and changes nothing else.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{`{"password":"x","a":{"token":[1,{"b":"}"}]},"c":"\"password\":"}`,
		`[{"Set-Cookie":{"k":"v"}},"{\"secret\":1}"]`, `"plain"`, `{"":null,"apiKey":true}`, `{"a\"b":{"pwd":-1.5e3}}`} {
		f.Add([]byte(s))
	}
	r := NewRedactor()
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		compact, _ := json.Marshal(v) // the form json.Marshal hands to redactJSON
		out := redactJSON(nil, compact, r)
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("invalid output %s from %s: %v", out, compact, err)
		}
		if want := redactValue(v, r); !reflect.DeepEqual(got, want) {
			t.Fatalf("redactJSON(%s) = %s, want %v", compact, out, want)
		}
		if !bytes.Equal(redactJSON(nil, compact, NewRedactorOnly()), compact) {
			t.Fatalf("an empty redactor changed %s", compact)
		}
	})
}

// redactValue is the reference: the same redaction on decoded values.
func redactValue(v any, r *Redactor) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if r.Match(k) {
				out[k] = Redacted
			} else {
				out[k] = redactValue(x, r)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = redactValue(x, r)
		}
		return out
	}
	return v
}
