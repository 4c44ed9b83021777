package log

import "strings"

// Redacted is the value written in place of a redacted one.
const Redacted = "[REDACTED]"

// DefaultRedactKeys returns the keys redacted by default. It returns a new
// slice on every call.
func DefaultRedactKeys() []string {
	return []string{
		"password", "passwd", "pwd", "secret", "token", "api_key", "apikey",
		"authorization", "cookie", "set-cookie", "session", "credit_card",
		"card_number",
	}
}

// Redactor decides whether the value under a key must be redacted. A key
// matches a listed name when, ignoring case and treating '-', '_', '.' and
// ' ' alike, the name is the whole key, or a prefix or suffix of it that
// ends or starts at a word boundary (a separator, a lower-to-upper case
// change, or the end of an acronym): with "password" listed, "Password",
// "db_password", "userPassword", "DBPassword" and "password-hash" match;
// "passwords" does not.
//
// A nil *Redactor redacts nothing. It is safe for concurrent use.
type Redactor struct {
	names []string // normalised: lowercase, separators as '_'
	// byFirst and byLast index names by their first and last byte.
	byFirst [256][]string
	byLast  [256][]string
}

// NewRedactor returns a Redactor for DefaultRedactKeys plus extra.
func NewRedactor(extra ...string) *Redactor {
	return newRedactor(append(DefaultRedactKeys(), extra...))
}

// NewRedactorOnly returns a Redactor for exactly the given names, without
// the defaults.
func NewRedactorOnly(names ...string) *Redactor { return newRedactor(names) }

func newRedactor(names []string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, n := range names {
		n = normalise(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		r.names = append(r.names, n)
		r.byFirst[n[0]] = append(r.byFirst[n[0]], n)
		r.byLast[n[len(n)-1]] = append(r.byLast[n[len(n)-1]], n)
	}
	return r
}

// Names returns the normalised names the Redactor matches.
func (r *Redactor) Names() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.names...)
}

func normalise(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if isSep(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func isSep(c byte) bool { return c == '_' || c == '-' || c == '.' || c == ' ' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// eqFold compares key bytes against a normalised name.
func eqFold(key, name string) bool {
	for i := 0; i < len(name); i++ {
		c := key[i]
		if isSep(c) {
			c = '_'
		}
		if lower(c) != name[i] {
			return false
		}
	}
	return true
}

// Match reports whether the value under key must be redacted.
func (r *Redactor) Match(key string) bool {
	if r == nil || len(key) == 0 {
		return false
	}
	for _, n := range r.byFirst[lower(key[0])] {
		if len(n) > len(key) || !eqFold(key[:len(n)], n) {
			continue
		}
		if len(n) == len(key) || isSep(key[len(n)]) ||
			(isUpper(key[len(n)]) && !isUpper(key[len(n)-1])) {
			return true
		}
	}
	last := lower(key[len(key)-1])
	for _, n := range r.byLast[last] {
		if len(n) >= len(key) {
			continue
		}
		i := len(key) - len(n)
		if !eqFold(key[i:], n) {
			continue
		}
		// A word starts at a separator, at a lower-to-upper change
		// ("userToken"), or where an acronym ends ("APIToken").
		if isSep(key[i-1]) || (isUpper(key[i]) && (!isUpper(key[i-1]) || i+1 < len(key) && !isUpper(key[i+1]))) {
			return true
		}
	}
	return false
}
