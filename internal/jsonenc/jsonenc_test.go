package jsonenc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", "quote\"back\\slash", "crlf\r\nnul\x00", "esc\x1b[31mred", "line\u2028para\u2029",
		"bad\xffutf8\xc3", "tab\tdel\x7f", "日本語", strings.Repeat("x", 300),
	} {
		got := AppendString(nil, s)
		if !utf8.Valid(got) || strings.ContainsAny(string(got), "\n\r\u2028\u2029\x1b\x00") {
			t.Errorf("AppendString(%q) = %s: not one safe line", s, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: invalid JSON: %v", s, got, err)
		}
		if want := viaEncodingJSON(s); back != want {
			t.Errorf("round trip of %q: got %q, want %q", s, back, want)
		}
	}
}

// viaEncodingJSON is the reference: what encoding/json round-trips s to
// (each invalid UTF-8 byte becomes U+FFFD).
func viaEncodingJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "\x00", "\u2028", "\x1b[0m", "\xff\xfe", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("invalid JSON %s: %v", got, err)
		}
		if want := viaEncodingJSON(s); back != want {
			t.Fatalf("round trip: got %q, want %q", back, want)
		}
		if strings.ContainsAny(string(got), "\n\r\u2028\u2029") {
			t.Fatalf("line break in %s", got)
		}
	})
}

func TestAppendTimeMatchesTimeFormat(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000000000Z07:00"
	cases := []time.Time{
		time.Unix(0, 0), time.Date(2026, 11, 22, 1, 2, 3, 456789, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.FixedZone("x", -7*3600)),
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for d := int64(-800000); d < 3000000; d += 997 {
		cases = append(cases, time.Unix(d*86400+d%86400, d))
	}
	for _, tm := range cases {
		got := string(AppendTimeContent(nil, tm))
		if want := tm.UTC().Format(layout); got != want {
			t.Fatalf("AppendTimeContent(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1.5, 129.95, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for f, want := range map[float64]string{math.NaN(): `"NaN"`, math.Inf(1): `"+Inf"`, math.Inf(-1): `"-Inf"`} {
		if got := AppendFloat(nil, f); string(got) != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestAppendBytesAsString(t *testing.T) {
	if got := string(AppendBytesAsString(nil, []byte("héllo\n"))); got != `"héllo\n"` {
		t.Errorf("valid UTF-8: got %s", got)
	}
	if got := string(AppendBytesAsString(nil, []byte{0xff, 0x00})); got != `"/wA="` {
		t.Errorf("binary: got %s, want base64", got)
	}
}

// Strings that decode to the same text must encode to the same bytes:
// Elasticsearch compares decoded keys, the encoders compare bytes.
func TestAppendStringIsCanonical(t *testing.T) {
	for _, pair := range [][2]string{
		{"bad\xff", "bad\uFFFD"},
		{"\xfe\xff", "\uFFFD\uFFFD"},
		{"a\xc3", "a\uFFFD"},
	} {
		a, b := AppendString(nil, pair[0]), AppendString(nil, pair[1])
		if string(a) != string(b) {
			t.Errorf("%q and %q decode alike but encode as %s and %s", pair[0], pair[1], a, b)
		}
	}
}

func FuzzAppendStringIsCanonical(f *testing.F) {
	f.Add("bad\xff", "bad\uFFFD")
	f.Fuzz(func(t *testing.T, x, y string) {
		if viaEncodingJSON(x) != viaEncodingJSON(y) {
			return
		}
		if a, b := AppendString(nil, x), AppendString(nil, y); string(a) != string(b) {
			t.Fatalf("%q and %q decode alike but encode as %s and %s", x, y, a, b)
		}
	})
}
