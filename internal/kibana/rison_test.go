package kibana

import (
	"reflect"
	"strings"
	"testing"
)

func TestRisonEncode(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, "!n"},
		{true, "!t"},
		{false, "!f"},
		{"", "''"},
		{"abc", "abc"},
		{"service.name", "service.name"},
		{"@timestamp", "'@timestamp'"},
		{"-x", "'-x'"},
		{"1x", "'1x'"},
		{"a b", "'a b'"},
		{"it's", "'it!'s'"},
		{"wow!", "'wow!!'"},
		{"a:b", "'a:b'"},
		{"(x)", "'(x)'"},
		{`q"uote`, `'q"uote'`},
		{42, "42"},
		{-1.5, "-1.5"},
		{1e21, "1e21"},
		{[]any{}, "!()"},
		{[]string{"a", "b c"}, "!(a,'b c')"},
		{map[string]any{}, "()"},
		{map[string]any{"b": 1, "a": "x"}, "(a:x,b:1)"},
		{risonObject{{"z", 1}, {"@a", []any{true}}}, "('@a':!(!t),z:1)"},
	} {
		got, err := risonEncode(tc.in)
		if err != nil {
			t.Errorf("risonEncode(%#v): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("risonEncode(%#v): got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRisonDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"!n", nil},
		{"!t", true},
		{"abc", "abc"},
		{"''", ""},
		{"'it!'s !!'", "it's !"},
		{"-12.5e2", -1250.0},
		{"!(1,a,'b c',!())", []any{1.0, "a", "b c", []any{}}},
		{"(a:(b:!f),'c d':x)", map[string]any{"a": map[string]any{"b": false}, "c d": "x"}},
	} {
		got, err := risonDecode(tc.in)
		if err != nil {
			t.Errorf("risonDecode(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("risonDecode(%q): got %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestRisonDecodeRejects(t *testing.T) {
	for _, in := range []string{
		"", "(", "(a", "(a:", "(a:1", "(a:1,", "!(", "!(1", "!x", "!", "'abc", "'a!b'",
		"(a:1)x", "1-2", "(:1)", "(a:1,a:2)", ")", ",", strings.Repeat("!(", 200) + strings.Repeat(")", 200),
	} {
		if v, err := risonDecode(in); err == nil {
			t.Errorf("risonDecode(%q): got %#v, want an error", in, v)
		}
	}
}

// hostile are strings that exercise every rison and URL special.
var hostile = []string{
	"", "'", "!", "!!", "''", "!'", "a'b!c:d e", "(a:b)", "!(x)", "*", "@", "$", ",", ":",
	`"`, `\`, `\"`, "%", "%25", "+", "&", "=", "#", "?", "/", "\x00", "\n\r\t", "ünï©ødé",
	"\xff\xfe", "-1", "0", "1e5", "!t", "!n", strings.Repeat("'!", 100),
}

func TestRisonRoundTrip(t *testing.T) {
	for _, s := range hostile {
		checkRisonRoundTrip(t, s)
	}
}

func checkRisonRoundTrip(t *testing.T, s string) {
	t.Helper()
	v := map[string]any{
		s:      s,
		"list": []any{s, map[string]any{"k": s}, 1.25, true, nil},
	}
	enc, err := risonEncode(v)
	if err != nil {
		t.Fatalf("risonEncode: %v", err)
	}
	dec, err := risonDecode(enc)
	if err != nil {
		t.Fatalf("risonDecode(%q) of %q: %v", enc, s, err)
	}
	if !reflect.DeepEqual(dec, v) {
		t.Fatalf("round trip of %q through %q: got %#v, want %#v", s, enc, dec, v)
	}
}

func FuzzRisonRoundTrip(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRisonRoundTrip(t, s)
	})
}

// FuzzRisonDecode feeds the decoder arbitrary text: it returns a value or
// an error, never panics, and what it decodes re-encodes to text that
// decodes to the same value.
func FuzzRisonDecode(f *testing.F) {
	for _, s := range []string{"(a:!(1,'x!'y'),b:!t)", "!(!n)", "''", "-0.5e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := risonDecode(s)
		if err != nil {
			return
		}
		enc, err := risonEncode(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		again, err := risonDecode(enc)
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("%q decoded to %#v, re-encoded to %q, decoded to %#v (%v)", s, v, enc, again, err)
		}
	})
}
