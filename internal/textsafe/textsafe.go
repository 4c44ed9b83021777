package textsafe

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks where Sanitize cut a value.
const Ellipsis = "..."

// minMax is the smallest max Sanitize honours: room for one character and
// the ellipsis would not fit in less.
const minMax = len(Ellipsis) + 1

// UnsafeRune reports whether r must not be written raw to a log line,
// span attribute or terminal:
//
//   - C0 controls (U+0000–U+001F, including TAB, CR, LF and ESC), DEL
//     (U+007F) and C1 controls (U+0080–U+009F), which forge lines or drive
//     terminals;
//   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which break
//     lines in JavaScript and some viewers;
//   - the bidirectional controls U+200E, U+200F, U+202A–U+202E and
//     U+2066–U+2069, which reorder what a reader sees;
//   - U+FEFF (byte-order mark, zero-width no-break space);
//   - values that are not Unicode scalar values (negative, surrogates,
//     above U+10FFFF).
//
// utf8.RuneError (U+FFFD) itself is safe: it is the replacement. Code that
// decodes bytes must treat (utf8.RuneError, size 1), an invalid byte, as
// unsafe as well.
func UnsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0xfeff:
		return true
	}
	return !utf8.ValidRune(r)
}

// Sanitize returns s made safe for a log field or span attribute: invalid
// UTF-8 and every rune UnsafeRune reports are replaced by U+FFFD, and the
// result is cut to at most max bytes at a character boundary, ending in
// "..." where it was cut. A max below 4 counts as 4. A clean value that
// fits is returned as it is, without allocating.
func Sanitize(s string, max int) string {
	if max < minMax {
		max = minMax
	}
	if len(s) <= max && (cleanASCII(s) || clean(s)) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	limit := max - len(Ellipsis)
	fits := false // the rest is known to fit without a cut
	for i := 0; i < len(s); {
		r, size := decode(s[i:])
		if !fits && b.Len()+utf8.RuneLen(r) > limit {
			if b.Len()+sanitizedLen(s[i:]) > max {
				b.WriteString(Ellipsis)
				return b.String()
			}
			fits = true
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// cleanASCII reports whether s is printable ASCII only.
func cleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// clean reports whether s is valid UTF-8 without unsafe runes.
func clean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || UnsafeRune(r) {
			return false
		}
		i += size
	}
	return true
}

// decode returns the first rune of s as Sanitize writes it, and how many
// bytes of s it consumed (at least 1).
func decode(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if size < 1 {
		return utf8.RuneError, 1
	}
	if (r == utf8.RuneError && size == 1) || UnsafeRune(r) {
		return utf8.RuneError, size
	}
	return r, size
}

// sanitizedLen is the length of s once sanitised, uncut.
func sanitizedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := decode(s[i:])
		n += utf8.RuneLen(r)
		i += size
	}
	return n
}
