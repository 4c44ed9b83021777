package jsonenc

import (
	hexpkg "encoding/hex"
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

// needsWork, which checks eight bytes at once, agrees with the byte
// table for every byte value at every position, among neighbours next to
// the edges of the classes (so that a borrow or carry would show).
func TestNeedsWorkMatchesSafe(t *testing.T) {
	isSafe := func(c byte) bool { return c < utf8.RuneSelf && safe[c] }
	for _, fill := range []byte{'a', ' ', '!', '#', '[', ']', '~', 0x1f, 0x7f, 0x80, 0xff, '"', '\\'} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := false
				for _, x := range w {
					want = want || !isSafe(x)
				}
				if got := needsWork(load64(string(w[:]), 0)); got != want {
					t.Fatalf("needsWork(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}

// TimeCache writes what AppendTimeContent writes, whether the second is
// the one it holds or not, for times in and out of its fast range.
func TestTimeCacheMatchesAppendTimeContent(t *testing.T) {
	var c TimeCache
	base := time.Date(2026, 11, 22, 23, 59, 58, 999999999, time.UTC)
	times := []time.Time{
		time.Unix(0, 0), base, base.Add(1), base.Add(time.Nanosecond * 5), base.Add(time.Second),
		base.Add(-time.Second), time.Date(2026, 1, 1, 0, 0, 0, 7, time.FixedZone("x", -3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 123456789, time.UTC), base, base.Add(12345),
	}
	for i, tm := range times {
		got, want := string(c.AppendTimeContent([]byte("x"), tm)), string(AppendTimeContent([]byte("x"), tm))
		if got != want {
			t.Errorf("%d: TimeCache wrote %s for %v, want %s", i, got, tm, want)
		}
	}
}

func TestAppendHex(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0x0f, 0xf0}, {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}} {
		got := string(AppendHex([]byte("x"), b))
		if want := `x"` + hexpkg.EncodeToString(b) + `"`; got != want {
			t.Errorf("AppendHex(%x) = %s, want %s", b, got, want)
		}
	}
}
