package sentry

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	sentrygo "github.com/getsentry/sentry-go"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// Caps on the length (in bytes) of request-controlled strings in events.
// Sanitising also replaces control characters, U+2028/U+2029, bidi
// overrides and invalid UTF-8 (see middleware.Sanitize).
const (
	maxValueLen  = 1 << 10 // a header value, the query string, the cookies
	maxURLLen    = 2 << 10 // the request URL (the middleware's url.path cap)
	maxTagLen    = 200     // Sentry's limit on tag values and transaction names
	maxMethodLen = 64
	maxBodyLen   = 8 << 10 // a request body a user attached
	// maxScanLen bounds the work on one hostile value before it is cut:
	// redaction runs on at most this many bytes, then the result is capped.
	maxScanLen = 4 * maxValueLen
	// maxHeaderValues caps the values of one header that are joined.
	maxHeaderValues = 8
)

// defaultHeaders are the request headers events carry; WithRequestHeaders
// adds to them. Correlation headers are sent only when valid, sensitive
// headers only as a redaction marker, IP headers only with WithUserIP.
var defaultHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Length",
	"User-Agent", "Referer", "Origin", "Host", "X-Forwarded-Proto",
}

// urlHeaders carry URLs whose query strings are scrubbed like the request's.
var urlHeaders = map[string]bool{"Referer": true, "Origin": true}

// correlationHeaders carry correlation IDs: sent only when valid.
var correlationHeaders = map[string]bool{
	http.CanonicalHeaderKey(trace.HeaderCorrelationID): true,
	http.CanonicalHeaderKey(trace.HeaderRequestID):     true,
}

// sensitiveHeaders are sent as the redaction marker, whatever the
// redaction list: their presence helps triage, their value never leaves.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Set-Cookie": true,
	"X-Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true, "X-Xsrf-Token": true,
	"X-Amz-Security-Token": true, "X-Goog-Iap-Jwt-Assertion": true,
}

// ipHeaders carry the client's address; they are removed unless
// WithUserIP is on.
var ipHeaders = map[string]bool{
	"X-Forwarded-For": true, "X-Real-Ip": true, "Forwarded": true, "True-Client-Ip": true,
	"Cf-Connecting-Ip": true, "X-Client-Ip": true, "X-Cluster-Client-Ip": true, "Fastly-Client-Ip": true,
}

func sanitize(s string, max int) string {
	if len(s) > maxScanLen && max <= maxScanLen {
		s = s[:maxScanLen] // Sanitize cuts it anyway; spare it the scan
	}
	return middleware.Sanitize(s, max)
}

// requestData is the event's request interface, built from the inbound
// request without its secrets (beforeSend scrubs again).
func (r *Reporter) requestData(h *http.Request) *sentrygo.Request {
	u := *h.URL
	if u.Host == "" {
		u.Host = h.Host
	}
	if u.Scheme == "" {
		u.Scheme = "http"
		if h.TLS != nil {
			u.Scheme = "https"
		}
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	req := &sentrygo.Request{
		URL:         u.String(),
		Method:      h.Method,
		QueryString: h.URL.RawQuery,
		Headers:     map[string]string{},
	}
	for k, v := range h.Header {
		// Only names that can be sent are joined: a hostile request may
		// carry megabytes of others.
		if ck := http.CanonicalHeaderKey(k); ck == "Cookie" || r.headerKept(ck) {
			if len(v) > maxHeaderValues {
				v = v[:maxHeaderValues]
			}
			req.Headers[ck] = strings.Join(v, ", ")
		}
	}
	if h.Host != "" {
		req.Headers["Host"] = h.Host
	}
	if c := h.Header.Get("Cookie"); c != "" {
		req.Cookies = c
	}
	if r.cfg.sendUserIP {
		if ip := remoteIP(h); ip != "" {
			req.Env = map[string]string{"REMOTE_ADDR": ip}
		}
	}
	r.scrubRequest(req)
	return req
}

// headerKept reports whether a header with canonical name ck may appear
// in an event in some form.
func (r *Reporter) headerKept(ck string) bool {
	return r.cfg.headers[ck] || correlationHeaders[ck] || sensitiveHeaders[ck] ||
		(ipHeaders[ck] && r.cfg.sendUserIP)
}

// scrubRequest makes a request interface safe to send: the URL without
// user info, query or fragment; the query string and URL-carrying headers
// with listed parameters redacted; only allowed headers; every
// request-controlled string sanitised and capped.
func (r *Reporter) scrubRequest(req *sentrygo.Request) {
	base, q, hasQ := splitURL(req.URL)
	if hasQ && req.QueryString == "" {
		req.QueryString = q
	}
	req.URL = sanitize(base, maxURLLen)
	req.Method = sanitize(req.Method, maxMethodLen)
	req.QueryString = r.scrubQuery(req.QueryString)
	if req.Cookies != "" {
		req.Cookies = scrubCookies(req.Cookies)
	}
	headers := make(map[string]string, len(req.Headers))
	for k, v := range req.Headers {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case ck == "Cookie":
			headers[ck] = scrubCookies(v)
		case sensitiveHeaders[ck]:
			headers[ck] = log.Redacted
		case ipHeaders[ck]:
			if r.cfg.sendUserIP {
				headers[ck] = sanitize(v, maxValueLen)
			}
		case correlationHeaders[ck]:
			if ids := validIDs(v); ids != "" {
				headers[ck] = ids
			}
		case !r.cfg.headers[ck]:
			// Not on the allowlist: dropped.
		case r.cfg.redactor.Match(ck):
			headers[ck] = log.Redacted
		case urlHeaders[ck]:
			headers[ck] = r.scrubURL(v)
		default:
			headers[ck] = sanitize(v, maxValueLen)
		}
	}
	req.Headers = headers
	for k, v := range req.Env {
		if !r.cfg.sendUserIP && (k == "REMOTE_ADDR" || k == "REMOTE_PORT") {
			delete(req.Env, k)
			continue
		}
		req.Env[k] = sanitize(v, maxValueLen)
	}
	if req.Data != "" {
		req.Data = sanitize(r.scrubBody(req.Data), maxBodyLen)
	}
}

// validIDs keeps the valid correlation IDs of a header value (several
// values joined by commas), or returns "".
func validIDs(v string) string {
	if trace.ValidCorrelationID(v) {
		return v
	}
	if len(v) > maxScanLen {
		// A value cut short could look valid: keep whole values only.
		v = v[:maxScanLen]
		i := strings.LastIndexByte(v, ',')
		if i < 0 {
			return ""
		}
		v = v[:i]
	}
	var keep []string
	for part := range strings.SplitSeq(v, ",") {
		if len(keep) == maxHeaderValues {
			break
		}
		if p := strings.TrimSpace(part); trace.ValidCorrelationID(p) {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ", ")
}

// splitURL returns a URL without fragment, user info and query, and its
// query string.
func splitURL(s string) (base, query string, hasQuery bool) {
	s, _, _ = strings.Cut(s, "#")
	base, query, hasQuery = strings.Cut(s, "?")
	return stripUserinfo(base), query, hasQuery
}

// stripUserinfo removes "user:password@" from the authority of a URL
// (with a scheme or scheme-relative).
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
	if j := strings.IndexByte(s[start:], '/'); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
		return s[:start] + s[start+at+1:]
	}
	return s
}

// scrubURL returns a URL-valued header safe to send: no user info or
// fragment, listed query parameters redacted, sanitised and capped.
func (r *Reporter) scrubURL(v string) string {
	if len(v) > maxScanLen {
		v = v[:maxScanLen]
	}
	base, q, hasQ := splitURL(v)
	if hasQ {
		base += "?" + r.redactPairs(q)
	}
	return sanitize(base, maxValueLen)
}

// scrubQuery redacts the values of listed keys, keeping the rest as sent,
// and sanitises and caps the result, as the middleware does for url.query.
func (r *Reporter) scrubQuery(q string) string {
	if q == "" {
		return ""
	}
	if len(q) > maxScanLen {
		q = q[:maxScanLen] // a cut key has no value; a cut value is still redacted
	}
	return sanitize(r.redactPairs(q), maxValueLen)
}

// redactPairs replaces the values of listed keys in "k=v&k=v" with the
// literal redaction marker (as the middleware's url.query has it).
func (r *Reporter) redactPairs(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasVal := strings.Cut(p, "=")
		key := k
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				key = u
			}
		}
		if hasVal && r.cfg.redactor.Match(key) {
			parts[i] = k + "=" + log.Redacted
		}
	}
	return strings.Join(parts, "&")
}

// scrubCookies keeps cookie names and redacts every value: cookies are
// sessions and tokens far more often than anything else.
func scrubCookies(c string) string {
	if len(c) > maxScanLen {
		c = c[:maxScanLen]
	}
	parts := strings.Split(c, ";")
	for i, p := range parts {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[i] = name + "=" + log.Redacted
	}
	return sanitize(strings.Join(parts, "; "), maxValueLen)
}

// scrubBody redacts listed keys in JSON and form bodies; any other body is
// replaced, since it cannot be checked.
func (r *Reporter) scrubBody(data string) string {
	trimmed := strings.TrimSpace(data)
	if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		var v any
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			if b, err := json.Marshal(r.scrubCopy(v, 0)); err == nil {
				return string(b)
			}
		}
		return log.Redacted
	}
	if _, err := url.ParseQuery(trimmed); err == nil && strings.Contains(trimmed, "=") {
		return r.redactPairs(trimmed)
	}
	return log.Redacted
}
