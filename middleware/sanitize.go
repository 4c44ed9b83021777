package middleware

import (
	"strings"
	"unicode/utf8"
)

// Caps on the length (in bytes) of request-controlled values written to
// span attributes and log fields.
const (
	maxValueLen = 1024
	maxPathLen  = 2048
)

// Sanitize returns s made safe for a log field or span attribute: invalid
// UTF-8, control characters (C0, DEL, C1), U+2028/U+2029 and bidirectional
// overrides are replaced by U+FFFD, and the result is cut to at most max
// bytes at a character boundary, with "..." marking the cut. Clean values
// are returned as they are, without allocating.
func Sanitize(s string, max int) string { return sanitize(s, max) }

func sanitize(s string, max int) string {
	if max < 4 {
		max = 4
	}
	clean := len(s) <= max
	if clean {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	limit := max - 3
	n := len(s)
	if n > max {
		n = max
	}
	b.Grow(n)
	fits := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unsafeRune(r) {
			r, size = utf8.RuneError, max1(size)
		}
		if !fits && b.Len()+utf8.RuneLen(r) > limit {
			if b.Len()+restLen(s[i:]) > max {
				b.WriteString("...")
				return b.String()
			}
			fits = true
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// restLen is the sanitised length of s.
func restLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unsafeRune(r) {
			n += 3
		} else {
			n += size
		}
		i += max1(size)
	}
	return n
}

// unsafeRune reports runes that must not reach a log line or attribute raw.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true // bidi overrides and isolates
	case r == 0xfeff:
		return true
	}
	return false
}
