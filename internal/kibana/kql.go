package kibana

import "strings"

// QuoteKQL returns s as a KQL quoted string: in double quotes, with
// backslash and double quote escaped by a backslash, so that
// `field:` + QuoteKQL(v) matches the exact value v whatever it contains
// (KQL's wildcards, operators and whitespace have no meaning inside
// quotes).
func QuoteKQL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// unquoteKQL reverses QuoteKQL; ok is false when q is not one quoted
// string.
func unquoteKQL(q string) (s string, ok bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(q)-1; i++ {
		c := q[i]
		switch c {
		case '\\':
			if i+1 >= len(q)-1 {
				return "", false
			}
			i++
			b.WriteByte(q[i])
		case '"':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
