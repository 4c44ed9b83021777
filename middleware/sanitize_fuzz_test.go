package middleware_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glassbox-obs/glassbox/middleware"
)

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "a\r\nb", "\x1b[0m", "\u2028", "\xff\xfe", "héllo", strings.Repeat("é", 600), "\u202e"} {
		f.Add(s, 16)
		f.Add(s, 1024)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		got := middleware.Sanitize(s, max)
		limit := max
		if limit < 4 {
			limit = 4
		}
		if len(got) > limit {
			t.Errorf("len %d > max %d", len(got), limit)
		}
		if !utf8.ValidString(got) {
			t.Errorf("invalid UTF-8: %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) {
				t.Errorf("unsafe rune %U in %q", r, got)
			}
		}
		if len(s) <= limit && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f }) && got != s {
			t.Errorf("clean ASCII changed: %q -> %q", s, got)
		}
	})
}
