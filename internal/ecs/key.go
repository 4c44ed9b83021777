package ecs

import (
	"strings"
	"unicode"

	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// keyClass sorts the bytes a key can be copied with as they are: printable
// ASCII other than '"' and '\\' (1), of which ' ' (2) and '.' (3) need a
// look at the segment they are in. 0: the key takes the slow path.
var keyClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		if c != '"' && c != '\\' {
			t[c] = 1
		}
	}
	t[' '], t['.'] = 2, 3
	return t
}()

// AppendSafeKey appends key as the content of a JSON string (escaped as
// jsonenc does, without the quotes), made safe as an Elasticsearch field
// name: the key is split at its dots and every segment that is empty or
// blank (only whitespace) becomes "_". So "" and " " become "_", "a..b"
// and "a. .b" become "a._.b", ".a" becomes "_.a", "a." becomes "a._".
//
// Blank means every rune is white space to Java's Character.isWhitespace,
// which Elasticsearch applies (U+001C to U+001F included), or to Go's
// unicode.IsSpace (the no-break spaces included): the union, so that no
// blank name reaches Elasticsearch whichever definition it uses.
func AppendSafeKey(b []byte, key string) []byte {
	if plainKey(key) {
		return append(b, key...)
	}
	return appendSafeKeySlow(b, key)
}

// plainKey reports whether AppendSafeKey can copy key as it is: printable
// ASCII, every segment with a byte other than ' '. (Other keys may come
// out unchanged too; they take the slow path to find out.)
func plainKey(key string) bool {
	seg := false // the current segment has a byte other than ' '
	for i := 0; i < len(key); i++ {
		switch keyClass[key[i]] {
		case 0:
			return false
		case 1:
			seg = true
		case 3:
			if !seg {
				return false
			}
			seg = false
		}
	}
	return seg
}

func appendSafeKeySlow(b []byte, key string) []byte {
	for first := true; ; first = false {
		seg, rest, more := strings.Cut(key, ".")
		if !first {
			b = append(b, '.')
		}
		if blank(seg) {
			b = append(b, '_')
		} else {
			b = jsonenc.AppendStringContent(b, seg)
		}
		if !more {
			return b
		}
		key = rest
	}
}

// blank reports whether s is empty or only white space (see AppendSafeKey).
func blank(s string) bool {
	for _, r := range s {
		if !isSpace(r) {
			return false
		}
	}
	return true
}

// isSpace is Java's Character.isWhitespace or Go's unicode.IsSpace.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}
