package log_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gblog "github.com/glassbox-obs/glassbox/log"
)

// FuzzValues writes one record holding a value of every slog kind (and
// the common types of slog.Any: []byte, maps, slices, errors) made from
// the fuzzer's input, once as record attributes and once pre-encoded with
// WithAttrs inside a group. Whatever the values, the document is one line
// of valid UTF-8 JSON with no control character, U+2028 or U+2029 left
// raw; each value reads back as what it was (integers exactly, finite
// floats bit for bit, NaN and infinities as the strings "NaN", "+Inf",
// "-Inf", durations as nanoseconds, times in RFC 3339 with nanoseconds,
// bytes as a string when they are UTF-8 and base64 otherwise, strings as a
// JSON round trip makes them); and the strict test server stores the
// document under the shipped templates. The seed corpus is in
// testdata/fuzz/FuzzValues.
func FuzzValues(f *testing.F) {
	f.Add("plain", int64(42), uint64(math.MaxUint64), 1.5, true, []byte("bytes"), int64(1767225600))
	f.Add("ctl\x00\x1b\u2028\xff", int64(math.MinInt64), uint64(0), math.NaN(), false, []byte{0xff, 0x00}, int64(-62135596800))
	f.Add("", int64(-1), uint64(1<<53+1), math.Inf(-1), false, []byte{}, int64(253402300800))
	f.Add("e", int64(0), uint64(7), 1e-7, true, []byte("\u2028"), int64(-2208988800))
	srv := shippedServer(f)
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64, b bool, raw []byte, sec int64) {
		tm := time.Unix(sec, i&0x3fffffff%1e9).UTC()
		attrs := []slog.Attr{
			slog.String("vs", s), slog.Int64("vi", i), slog.Uint64("vu", u), slog.Float64("vf", fl),
			slog.Bool("vb", b), slog.Duration("vd", time.Duration(i)), slog.Time("vt", tm),
			slog.Any("vraw", raw), slog.Any("verr", errors.New(s)),
			slog.Any("vm", map[string]any{"k": s, "n": i}), slog.Any("vl", []any{s, b}),
		}
		var out bytes.Buffer
		docs := &docSink{}
		h := gblog.NewHandler(gblog.WithWriter(&out), gblog.WithSink(docs), gblog.WithRedactor(nil))
		r := slog.NewRecord(time.Unix(1767225600, 0), slog.LevelInfo, "values", 0)
		r.AddAttrs(attrs...)
		if err := h.WithGroup("pre").WithAttrs(attrs).WithGroup("rec").Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		line := out.Bytes()
		if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' || !utf8.Valid(line) {
			t.Fatalf("not one line of UTF-8: %q", line)
		}
		for _, c := range bytes.Runes(line[:len(line)-1]) {
			if c < 0x20 || c == 0x2028 || c == 0x2029 {
				t.Fatalf("raw %U in %q", c, line)
			}
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		pre, _ := doc["pre"].(map[string]any)
		rec, _ := pre["rec"].(map[string]any)
		for name, got := range map[string]map[string]any{"pre-encoded": pre, "record": rec} {
			checkValue(t, name, "vs", got["vs"], replaceEach(s))
			checkValue(t, name, "vi", got["vi"], json.Number(strconv.FormatInt(i, 10)))
			checkValue(t, name, "vu", got["vu"], json.Number(strconv.FormatUint(u, 10)))
			checkFloat(t, name, got["vf"], fl)
			checkValue(t, name, "vb", got["vb"], b)
			checkValue(t, name, "vd", got["vd"], json.Number(strconv.FormatInt(i, 10)))
			checkTime(t, name, got["vt"], tm)
			wantRaw := base64.StdEncoding.EncodeToString(raw)
			if utf8.Valid(raw) {
				wantRaw = string(raw)
			}
			checkValue(t, name, "vraw", got["vraw"], wantRaw)
			checkValue(t, name, "verr", got["verr"], replaceEach(s))
			m, _ := got["vm"].(map[string]any)
			checkValue(t, name, "vm.k", m["k"], replaceEach(s))
			checkValue(t, name, "vm.n", m["n"], json.Number(strconv.FormatInt(i, 10)))
			l, _ := got["vl"].([]any)
			if len(l) != 2 || l[0] != replaceEach(s) || l[1] != b {
				t.Fatalf("%s vl: got %v, want [%q %v]", name, got["vl"], s, b)
			}
		}
		if err := srv.Create("logs-fuzz-default", docs.last(t)); err != nil {
			t.Fatalf("document rejected: %v\n%s", err, docs.last(t))
		}
	})
}

func checkValue(t *testing.T, where, key string, got, want any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s %s: got %#v, want %#v", where, key, got, want)
	}
}

func checkFloat(t *testing.T, where string, got any, want float64) {
	t.Helper()
	switch {
	case math.IsNaN(want):
		checkValue(t, where, "vf", got, "NaN")
	case math.IsInf(want, 1):
		checkValue(t, where, "vf", got, "+Inf")
	case math.IsInf(want, -1):
		checkValue(t, where, "vf", got, "-Inf")
	default:
		n, _ := got.(json.Number)
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f != want {
			t.Fatalf("%s vf: got %#v, want %v", where, got, want)
		}
	}
}

func checkTime(t *testing.T, where string, got any, want time.Time) {
	t.Helper()
	s, _ := got.(string)
	if want.Year() < 1 || want.Year() > 9999 {
		if s == "" {
			t.Fatalf("%s vt: got %#v, want a string for %v", where, got, want)
		}
		return
	}
	back, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !back.Equal(want) {
		t.Fatalf("%s vt: got %#v (%v), want %v", where, got, err, want)
	}
}

// sensitiveKeys are query keys whose value a default Redactor must hide,
// written the ways a client may send them.
var sensitiveKeys = []string{"token", "password", "api_key", "apiKey", "access_token", "%74oken", "pass%77ord",
	"user[password]", "a[b][api_key]", "X-Amz-Signature", "x-amz-credential", "sig", "Signature", "X-Goog-Signature",
	"AWSAccessKeyId", "client_secret", "session", "auth+token"}

// FuzzRedactQuery puts a secret value under a sensitive key (see
// sensitiveKeys) between arbitrary query pairs, in a URL with user info
// and a fragment. Whatever the other pairs, RedactQuery and RedactURL
// write the key with "[REDACTED]" and never the secret, RedactURL keeps
// neither the password nor the fragment, both results are safe to record
// (valid UTF-8, no control character, at most max bytes), and pairs that
// are plain ASCII come out byte for byte.
func FuzzRedactQuery(f *testing.F) {
	f.Add("a=1&b", uint8(0), "s3cr3t-value", "c=d", "https", 1024)
	f.Add("", uint8(5), "%2Fslash%2F", "", "h", 16)
	f.Add("x=\x00\u2028&y=\xff", uint8(9), "ŝecret\x1bvalue", "&&=&", "", 64)
	r := gblog.NewRedactor()
	f.Fuzz(func(t *testing.T, before string, k uint8, secret, after, frag string, max int) {
		key := sensitiveKeys[int(k)%len(sensitiveKeys)]
		before = strings.ReplaceAll(before, "#", "")
		after = strings.ReplaceAll(after, "#", "")
		secret = strings.NewReplacer("&", "", "#", "").Replace(secret)
		max = 64 + abs(max)%4096
		q := before + "&" + key + "=" + secret + "&" + after
		u := "https://user:pa55w0rd@h.example/p?" + q + "#" + frag

		fullQ := r.RedactQuery(q, 1<<20)
		fullU := r.RedactURL(u, 1<<20)
		if !strings.Contains(fullQ, "&"+key+"="+gblog.Redacted+"&") || !strings.Contains(fullU, "&"+key+"="+gblog.Redacted+"&") {
			t.Fatalf("%q: got %q and %q, want %s=%s", q, fullQ, fullU, key, gblog.Redacted)
		}
		distinct := len(secret) >= 6 && !strings.Contains(before+after+key+gblog.Redacted+"https://h.example/p", secret)
		if distinct && (strings.Contains(fullQ, secret) || strings.Contains(fullU, secret)) {
			t.Fatalf("secret %q kept: %q, %q", secret, fullQ, fullU)
		}
		if strings.Contains(fullU, "pa55w0rd") || strings.Contains(fullU, "#") {
			t.Fatalf("user info or fragment kept: %q", fullU)
		}
		for _, s := range []string{r.RedactQuery(q, max), r.RedactURL(u, max)} {
			if len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 }) {
				t.Fatalf("unsafe or longer than %d: %q", max, s)
			}
		}
		for _, pair := range strings.Split(before+"&"+after, "&") {
			k, _, _ := strings.Cut(pair, "=")
			plain := !strings.ContainsFunc(pair, func(c rune) bool { return c < 0x20 || c >= 0x7f })
			if plain && !r.MatchQueryKey(k) && !strings.Contains(fullQ, pair) {
				t.Fatalf("plain pair %q lost from %q", pair, fullQ)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
