package middleware

import (
	"net/url"
	"strings"

	"github.com/glassbox-obs/glassbox/log"
)

// redactQuery replaces the values of query parameters whose names are on
// the redaction list, or are one of the presigned-URL keys (see
// presignedKey), then sanitises the result. Keys are matched unescaped
// ("%74oken" is "token"), and a nested key matches when one of its parts
// does ("user[password]"). It reads the query once and copies it only when
// a value is redacted. A nil redactor redacts nothing.
func redactQuery(c *config, q string) string {
	if c.Redactor == nil {
		return sanitize(q, maxValueLen)
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
		if key, _, hasVal := strings.Cut(pair, "="); hasVal && redactQueryKey(c, key) {
			if b == nil {
				b = append(make([]byte, 0, len(q)+len(log.Redacted)), q[:start]...)
			}
			b = append(b, key...)
			b = append(b, '=')
			b = append(b, log.Redacted...)
		} else if b != nil {
			b = append(b, pair...)
		}
		if end < len(q) && b != nil {
			b = append(b, '&')
		}
		start = end + 1
	}
	if b == nil {
		return sanitize(q, maxValueLen)
	}
	return sanitize(string(b), maxValueLen)
}

// redactQueryKey reports whether the value of the raw query key must be
// redacted.
func redactQueryKey(c *config, raw string) bool {
	k := unescapeKey(raw)
	if c.Redactor.Match(k) || presignedKey(k) {
		return true
	}
	if strings.IndexByte(k, '[') < 0 {
		return false
	}
	// A nested key as Rails, PHP and qs write it: user[password],
	// a[b][token]. Each part is a name of its own.
	for k != "" {
		i := strings.IndexAny(k, "[]")
		if i < 0 {
			i = len(k)
		}
		if part := k[:i]; part != "" && (c.Redactor.Match(part) || presignedKey(part)) {
			return true
		}
		if i == len(k) {
			break
		}
		k = k[i+1:]
	}
	return false
}

// presignedKey reports whether k is one of the query keys that carry the
// credentials of a presigned URL, which the OpenTelemetry semantic
// conventions (url.query, url.full) say to redact by default:
// AWSAccessKeyId, Signature, sig, X-Goog-Signature; and the AWS SigV4
// equivalents X-Amz-Signature and X-Amz-Credential. Case is ignored; the
// key must match whole ("signature_version" does not).
func presignedKey(k string) bool {
	switch len(k) {
	case 3:
		return strings.EqualFold(k, "sig")
	case 9:
		return strings.EqualFold(k, "Signature")
	case 14:
		return strings.EqualFold(k, "AWSAccessKeyId")
	case 15:
		return strings.EqualFold(k, "X-Amz-Signature")
	case 16:
		return strings.EqualFold(k, "X-Goog-Signature") || strings.EqualFold(k, "X-Amz-Credential")
	}
	return false
}

// unescapeKey returns the query key k unescaped, or k itself when it is
// not a valid escape.
func unescapeKey(k string) string {
	if strings.ContainsAny(k, "%+") {
		if u, err := url.QueryUnescape(k); err == nil {
			return u
		}
	}
	return k
}
