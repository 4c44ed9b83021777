package log

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// FuzzAppendJSON: for any value encoding/json takes, appendJSON writes
// valid JSON whose objects have safe, unique keys at every depth; when
// every key is already safe it replaces exactly the values under matching
// keys and changes nothing else.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"password":"x","a":{"token":[1,{"b":"}"}]},"c":"\"password\":"}`,
		`[{"Set-Cookie":{"k":"v"}},"{\"secret\":1}"]`, `"plain"`, `{"":null,"apiKey":true}`, `{"a\"b":{"pwd":-1.5e3}}`,
		`{"mp":{"":1," ":2,"\t":{"a..b":3,"a._.b":4}}}`, `{"\u001c":[{"x.":1,"x._":2}]}`, `{"0&0":{}}`} {
		f.Add([]byte(s))
	}
	r := NewRedactor()
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		st := getState(nil)
		defer putState(st)
		out := st.appendJSON([]byte(`{"v":`), v, r)
		out = append(out, '}')
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("invalid output %s: %v", out, err)
		}
		checkKeys(t, out)
		if !allSafe(v) {
			return
		}
		if want := redactValue(v, r); !reflect.DeepEqual(got["v"], want) {
			t.Fatalf("appendJSON(%s) = %s, want %v", in, out, want)
		}
		plain := append(st.appendJSON([]byte(`{"v":`), v, NewRedactorOnly()), '}')
		var back map[string]any
		if err := json.Unmarshal(plain, &back); err != nil || !reflect.DeepEqual(back["v"], v) {
			t.Fatalf("an empty redactor changed %s into %s", in, plain)
		}
	})
}

// checkKeys fails unless every object in the JSON document b has keys
// that are unique and that ecs.AppendSafeKey leaves as they are.
func checkKeys(t *testing.T, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func()
	walk = func() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, b)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, _ := dec.Token()
				k := kt.(string)
				if seen[k] {
					t.Fatalf("key %q repeated in %s", k, b)
				}
				seen[k] = true
				if !safe(k) {
					t.Fatalf("unsafe key %q in %s", k, b)
				}
				walk()
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				walk()
			}
			dec.Token()
		}
	}
	walk()
}

// safe reports whether the key k, as decoded from JSON, is its own safe
// form: ecs.AppendSafeKey writes it back unchanged.
func safe(k string) bool {
	var back string
	_ = json.Unmarshal(append(ecs.AppendSafeKey([]byte{'"'}, k), '"'), &back)
	return back == k
}

// allSafe reports whether every object key in v is its own safe form.
func allSafe(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !safe(k) || !allSafe(x) {
				return false
			}
		}
	case []any:
		for _, x := range v {
			if !allSafe(x) {
				return false
			}
		}
	}
	return true
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
