package log

import (
	"net/url"
	"strings"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

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

// MatchQueryKey reports whether the value of the query parameter with the
// raw (still escaped) key must be redacted. The key is unescaped first
// ("%74oken" is "token"; a malformed escape is matched as written). It
// matches when Match matches it, when it is one of the keys that carry the
// credentials of a presigned URL (below), or when it is a nested key as
// Rails, PHP and qs write it ("user[password]", "a[b][api_key]") and one
// of its parts matches either way.
//
// The presigned-URL keys, matched whole and ignoring case, are always
// redacted, whatever the list: AWS's X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, AWSAccessKeyId and Signature; Google Cloud
// Storage's X-Goog-Signature, X-Goog-Credential, GoogleAccessId and
// Signature; Azure SAS's sig. Azure's other SAS parameters (sv, ss, srt,
// sp, se, st, spr, sip, sr, and skoid, sktid, skt, ske, sks, skv of a user
// delegation key) state the permissions, validity and signing identity:
// without sig the token cannot be used, so they are kept for triage.
// These are the keys the OpenTelemetry semantic conventions say to redact
// from url.query and url.full, plus the credential and session-token keys
// of the same schemes. "signature_version" or "sigma" do not match.
//
// A nil Redactor matches no key.
func (r *Redactor) MatchQueryKey(raw string) bool {
	if r == nil || raw == "" {
		return false
	}
	k := raw
	if strings.ContainsAny(k, "%+") {
		if u, err := url.QueryUnescape(k); err == nil {
			k = u
		}
	}
	if r.Match(k) || presignedKey(k) {
		return true
	}
	if strings.IndexAny(k, "[]") < 0 {
		return false
	}
	for k != "" {
		i := strings.IndexAny(k, "[]")
		if i < 0 {
			i = len(k)
		}
		if part := k[:i]; part != "" && (r.Match(part) || presignedKey(part)) {
			return true
		}
		if i == len(k) {
			break
		}
		k = k[i+1:]
	}
	return false
}

// presignedKey reports whether k carries a presigned URL's credentials
// (see MatchQueryKey).
func presignedKey(k string) bool {
	switch len(k) {
	case 3:
		return strings.EqualFold(k, "sig")
	case 9:
		return strings.EqualFold(k, "Signature")
	case 14:
		return strings.EqualFold(k, "AWSAccessKeyId") || strings.EqualFold(k, "GoogleAccessId")
	case 15:
		return strings.EqualFold(k, "X-Amz-Signature")
	case 16:
		return strings.EqualFold(k, "X-Goog-Signature") || strings.EqualFold(k, "X-Amz-Credential")
	case 17:
		return strings.EqualFold(k, "X-Goog-Credential")
	case 20:
		return strings.EqualFold(k, "X-Amz-Security-Token")
	}
	return false
}

// RedactQuery returns the raw query string q (without the '?') as it may
// be recorded: the value of every parameter whose key MatchQueryKey
// matches is replaced by Redacted ("k=[REDACTED]"; a key without '=' has
// no value and is kept), everything else is kept byte for byte as sent,
// and the result is sanitised like every request-controlled log value
// (control characters, U+2028/U+2029, bidi controls and invalid UTF-8
// become U+FFFD) and cut to at most max bytes, ending in "..." where it
// was cut.
//
// Every output that records a query string (the access log's url.query,
// the server span's url.query, Sentry's query_string) gets it from here,
// so they agree byte for byte. A nil Redactor redacts no value; the
// result is still sanitised and cut.
func (r *Redactor) RedactQuery(q string, max int) string {
	return textsafe.Sanitize(r.redactQuery(q), max)
}

// redactQuery is RedactQuery without sanitising. It reads q once and
// copies it only when a value is redacted.
func (r *Redactor) redactQuery(q string) string {
	if r == nil || q == "" {
		return q
	}
	var b []byte // nil until the first redaction
	for start := 0; start <= len(q); {
		end := strings.IndexByte(q[start:], '&')
		if end < 0 {
			end = len(q)
		} else {
			end += start
		}
		pair := q[start:end]
		if key, _, hasVal := strings.Cut(pair, "="); hasVal && r.MatchQueryKey(key) {
			if b == nil {
				b = append(make([]byte, 0, len(q)+len(Redacted)), q[:start]...)
			}
			b = append(b, key...)
			b = append(b, '=')
			b = append(b, Redacted...)
		} else if b != nil {
			b = append(b, pair...)
		}
		if end < len(q) && b != nil {
			b = append(b, '&')
		}
		start = end + 1
	}
	if b == nil {
		return q
	}
	return string(b)
}

// RedactURL returns the URL u as it may be recorded: without the user
// info of its authority ("https://user:password@host" becomes
// "https://host") and without its fragment (which carries OAuth tokens in
// the implicit flow), its query redacted as RedactQuery does, sanitised
// and cut to at most max bytes. u may be absolute, scheme-relative
// ("//host/p?q") or a reference ("/p?q"); it is read as text, never
// re-encoded, so what is kept is byte for byte what was sent.
//
// Every output that records a URL (the client span's url.full, Sentry's
// request.url, the Referer, Origin and Location headers wherever they are
// captured) gets it from here. A nil Redactor redacts no query value but
// still drops the user info and the fragment.
func (r *Redactor) RedactURL(u string, max int) string {
	return textsafe.Sanitize(r.redactURL(u), max)
}

func (r *Redactor) redactURL(u string) string {
	u, _, _ = strings.Cut(u, "#")
	base, q, hasQ := strings.Cut(u, "?")
	base = stripUserinfo(base)
	if !hasQ {
		return base
	}
	return base + "?" + r.redactQuery(q)
}

// stripUserinfo removes "user:password@" from the authority of a URL
// without query and fragment: after "scheme://" or a leading "//", up to
// the first '/' or '\' (which browsers read as '/').
func stripUserinfo(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	} else if strings.HasPrefix(s, "//") {
		start = 2
	} else {
		return s
	}
	end := len(s)
	if j := strings.IndexAny(s[start:], "/\\"); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
		return s[:start] + s[start+at+1:]
	}
	return s
}

// urlHeaders are the HTTP headers whose value is a URL.
var urlHeaders = [...]string{"Referer", "Origin", "Location", "Content-Location"}

// RedactHeader returns the value of the HTTP header (or gRPC metadata key)
// name as it may be recorded: Redacted when Match matches the name; for
// the headers that carry a URL (Referer, Origin, Location,
// Content-Location, any case) the value as RedactURL returns it; any
// other value sanitised and cut to at most max bytes. A break-glass
// debug token (X-Glassbox-Debug) is always Redacted, whatever the list.
// The middleware's captured headers and Sentry's request headers get
// their values from here. A nil Redactor redacts no name (but the debug
// token's).
func (r *Redactor) RedactHeader(name, value string, max int) string {
	if r.Match(name) || strings.EqualFold(name, debugtoken.Header) {
		return Redacted
	}
	for _, h := range urlHeaders {
		if strings.EqualFold(name, h) {
			return r.RedactURL(value, max)
		}
	}
	return textsafe.Sanitize(value, max)
}
