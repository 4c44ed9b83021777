package credential

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/log"
)

// MinLen is the length, in bytes, below which a value is not a credential
// Values reports: a shorter one (a cookie "lang=en") is more likely a
// common word than a secret, and scrubbing it would mangle messages.
const MinLen = 8

// urlHeaders are the headers whose value is a URL (log.Redactor.RedactHeader
// redacts the query values of these).
var urlHeaders = [...]string{"Referer", "Origin", "Location", "Content-Location"}

// Values returns the credentials of a request with the given headers (or
// gRPC metadata) and raw query string, as the redaction list of r decides
// them, longest first and without repeats, each at least MinLen bytes:
//
//   - the value of every header whose name r matches (Authorization,
//     Cookie, X-Api-Key, ...), and of the break-glass debug token header;
//     besides, the credentials of an "<scheme> <credentials>" value
//     (Bearer, ApiKey, Basic; for Basic also the decoded "user:password"
//     and the password), and each cookie's value of a Cookie header;
//   - the value, raw and unescaped, of every query parameter whose key
//     r.MatchQueryKey matches (api_key, user[password], X-Amz-Signature,
//     sig, ...), in the query string and in the query of a URL header
//     (Referer, Origin, Location, Content-Location), and the password of
//     a URL header's user info.
//
// A nil r matches no name (but the debug token's) and no query key.
func Values(r *log.Redactor, header map[string][]string, rawQuery string) []string {
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= MinLen {
			out = append(out, v)
		}
	}
	for name, vals := range header {
		if r.Match(name) || strings.EqualFold(name, debugtoken.Header) {
			for _, v := range vals {
				add(v)
				if strings.EqualFold(name, "Cookie") {
					addCookies(v, add)
				} else {
					addSchemeCredentials(v, add)
				}
			}
			continue
		}
		for _, h := range urlHeaders {
			if strings.EqualFold(name, h) {
				for _, v := range vals {
					addURL(r, v, add)
				}
			}
		}
	}
	addQuery(r, rawQuery, add)
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// addCookies adds each cookie value of a Cookie header ("a=1; b=2"),
// quoted or not.
func addCookies(v string, add func(string)) {
	for part := range strings.SplitSeq(v, ";") {
		if _, val, ok := strings.Cut(part, "="); ok {
			val = strings.TrimSpace(val)
			add(val)
			add(strings.Trim(val, `"`))
		}
	}
}

// addSchemeCredentials adds the credentials of "<scheme> <credentials>";
// for Basic, also what they decode to and the password in it.
func addSchemeCredentials(v string, add func(string)) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	add(cred)
	if !strings.EqualFold(scheme, "Basic") {
		return
	}
	if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
		add(string(dec))
		if _, pass, ok := strings.Cut(string(dec), ":"); ok {
			add(pass)
		}
	}
}

// addURL adds the redacted query values and the user-info password of a
// URL header's value.
func addURL(r *log.Redactor, v string, add func(string)) {
	v, _, _ = strings.Cut(v, "#")
	base, q, _ := strings.Cut(v, "?")
	if i := strings.Index(base, "//"); i >= 0 {
		auth := base[i+2:]
		if j := strings.IndexAny(auth, "/\\"); j >= 0 {
			auth = auth[:j]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if _, pass, ok := strings.Cut(auth[:at], ":"); ok {
				add(pass)
				if u, err := url.PathUnescape(pass); err == nil {
					add(u)
				}
			}
		}
	}
	addQuery(r, q, add)
}

// addQuery adds the value, raw and unescaped, of every parameter of the
// raw query q whose key r.MatchQueryKey matches.
func addQuery(r *log.Redactor, q string, add func(string)) {
	if r == nil {
		return
	}
	for pair := range strings.SplitSeq(q, "&") {
		key, val, ok := strings.Cut(pair, "=")
		if !ok || !r.MatchQueryKey(key) {
			continue
		}
		add(val)
		if u, err := url.QueryUnescape(val); err == nil {
			add(u)
		}
	}
}

// Scrub returns s with every occurrence of each of vals (longest first,
// as Values orders them) replaced by log.Redacted. It returns s itself
// when none occurs.
func Scrub(s string, vals []string) string {
	for _, v := range vals {
		if v != "" && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, log.Redacted)
		}
	}
	return s
}
