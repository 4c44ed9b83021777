package textsafe_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

func TestUnsafeRune(t *testing.T) {
	tests := []struct {
		name string
		r    rune
		want bool
	}{
		{"NUL", 0x00, true},
		{"TAB", '\t', true},
		{"LF", '\n', true},
		{"CR", '\r', true},
		{"ESC", 0x1b, true},
		{"US", 0x1f, true},
		{"space", ' ', false},
		{"tilde", '~', false},
		{"DEL", 0x7f, true},
		{"PAD (C1 first)", 0x80, true},
		{"NEL", 0x85, true},
		{"CSI", 0x9b, true},
		{"APC (C1 last)", 0x9f, true},
		{"NBSP", 0xa0, false},
		{"e acute", 'é', false},
		{"LRM", 0x200e, true},
		{"RLM", 0x200f, true},
		{"zero width joiner", 0x200d, false},
		{"LINE SEPARATOR", 0x2028, true},
		{"PARAGRAPH SEPARATOR", 0x2029, true},
		{"LRE", 0x202a, true},
		{"RLO", 0x202e, true},
		{"narrow NBSP", 0x202f, false},
		{"LRI", 0x2066, true},
		{"PDI", 0x2069, true},
		{"inhibit symmetric swapping", 0x206a, false},
		{"BOM", 0xfeff, true},
		{"replacement character", utf8.RuneError, false},
		{"CJK", '世', false},
		{"emoji", '😀', false},
		{"surrogate", 0xd800, true},
		{"above max", utf8.MaxRune + 1, true},
		{"negative", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textsafe.UnsafeRune(tt.r); got != tt.want {
				t.Errorf("UnsafeRune(%U): got %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"empty", "", 10, ""},
		{"clean ASCII", "GET /users/42", 64, "GET /users/42"},
		{"clean non-ASCII", "héllo wörld", 64, "héllo wörld"},
		{"CRLF injection", "a\r\nlevel=error", 64, "a\uFFFD\uFFFDlevel=error"},
		{"ANSI escape", "\x1b[31mred", 64, "\uFFFD[31mred"},
		{"DEL", "a\x7fb", 64, "a\uFFFDb"},
		{"C1 as UTF-8", "a\u0085b", 64, "a\uFFFDb"},
		{"line separator", "a\u2028b\u2029c", 64, "a\uFFFDb\uFFFDc"},
		{"bidi override", "user\u202egnp.exe", 64, "user\uFFFDgnp.exe"},
		{"bidi isolate", "\u2066x\u2069", 64, "\uFFFDx\uFFFD"},
		{"BOM", "\ufeffid", 64, "\uFFFDid"},
		{"invalid byte", "a\xffb", 64, "a\uFFFDb"},
		{"truncated sequence", "a\xe2\x82", 64, "a\uFFFD\uFFFD"},
		{"cut ASCII", "abcdefghij", 8, "abcde..."},
		{"exact fit", "abcdefgh", 8, "abcdefgh"},
		{"cut at rune boundary", "ééééé", 8, "éé..."},
		{"replacement grows past max", "\x01\x02\x03", 8, "\uFFFD..."},
		{"replacement fits exactly", "ab\x01", 5, "ab\uFFFD"},
		{"max below 4 counts as 4", "abcdef", 1, "a..."},
		{"max 0 short value kept", "abc", 0, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textsafe.Sanitize(tt.in, tt.max); got != tt.want {
				t.Errorf("Sanitize(%q, %d): got %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// Values that need no change are returned without a copy: the request path
// sanitises every URL path, user agent and header value it records.
func TestSanitizeCleanDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"/users/42", "Mozilla/5.0 (X11; Linux x86_64)", "naïve café 世界"} {
		if n := testing.AllocsPerRun(100, func() { _ = textsafe.Sanitize(s, 1024) }); n != 0 {
			t.Errorf("Sanitize(%q): got %v allocations, want 0", s, n)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "a\r\nb", "\x1b[0m", "\u2028", "\xff\xfe", "héllo", strings.Repeat("é", 600), "\u202e", "\ufeff", "\u2067"} {
		f.Add(s, 16)
		f.Add(s, 1024)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = min(n, 1<<16)
		got := textsafe.Sanitize(s, n)
		limit := max(n, 4)
		if len(got) > limit {
			t.Errorf("len %d > max %d", len(got), limit)
		}
		if !utf8.ValidString(got) {
			t.Errorf("invalid UTF-8: %q", got)
		}
		if i := strings.IndexFunc(got, textsafe.UnsafeRune); i >= 0 {
			t.Errorf("unsafe rune at byte %d in %q", i, got)
		}
		if len(s) <= limit && utf8.ValidString(s) && !strings.ContainsFunc(s, textsafe.UnsafeRune) && got != s {
			t.Errorf("clean value changed: %q -> %q", s, got)
		}
		if strings.HasSuffix(got, textsafe.Ellipsis) && got != s && !strings.HasPrefix(s, strings.TrimSuffix(got, textsafe.Ellipsis)) && utf8.ValidString(s) && !strings.ContainsFunc(s, textsafe.UnsafeRune) {
			t.Errorf("cut clean value is not a prefix: %q -> %q", s, got)
		}
	})
}
