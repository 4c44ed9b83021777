package sentry

import (
	"net"
	"net/http"
	"strings"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// Caps on the length (in bytes) of request-controlled strings in events;
// the query string and the URL have the caps of the middleware's url.query
// and url.full, so that they agree byte for byte.
const (
	maxValueLen  = 1 << 10 // a header value, the query string, the cookies
	maxURLLen    = 2 << 10 // the request URL
	maxTagLen    = 200     // Sentry's limit on tag values and transaction names
	maxMethodLen = 64
	// maxHeaderValues caps the values of one header that are joined.
	maxHeaderValues = 8
)

// defaultHeaders are the request headers events carry; WithRequestHeaders
// adds to them. Correlation headers are sent only when they hold the ID
// in force, sensitive headers only as a redaction marker, IP headers only
// with WithUserIP.
var defaultHeaders = [...]string{
	"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Length",
	"User-Agent", "Referer", "Origin", "Host", "X-Forwarded-Proto",
}

// sensitiveHeaders are sent as the redaction marker, whatever the
// redaction list: their presence helps triage, their value never leaves.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Set-Cookie": true,
	"X-Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true, "X-Xsrf-Token": true,
	"X-Amz-Security-Token": true, "X-Goog-Iap-Jwt-Assertion": true,
}

// ipHeaders carry the client's address; they are left out unless
// WithUserIP is on.
var ipHeaders = map[string]bool{
	"X-Forwarded-For": true, "X-Real-Ip": true, "Forwarded": true, "True-Client-Ip": true,
	"Cf-Connecting-Ip": true, "X-Client-Ip": true, "X-Cluster-Client-Ip": true, "Fastly-Client-Ip": true,
}

func sanitize(s string, max int) string { return textsafe.Sanitize(s, max) }

// requestData is the event's request interface, built from the inbound
// request without its secrets. corrID is the correlation ID in force.
func (r *Reporter) requestData(h *http.Request, corrID string) *request {
	rd := r.cfg.redactor
	scheme := "http"
	if h.TLS != nil {
		scheme = "https"
	}
	host := h.Host
	if host == "" && h.URL != nil {
		host = h.URL.Host
	}
	req := &request{Method: sanitize(h.Method, maxMethodLen), Headers: map[string]string{}}
	if h.URL != nil {
		req.URL = rd.RedactURL(scheme+"://"+host+h.URL.EscapedPath(), maxURLLen)
		if h.URL.RawQuery != "" {
			req.QueryString = rd.RedactQuery(h.URL.RawQuery, maxValueLen)
		}
	}
	for k, vals := range h.Header {
		ck := http.CanonicalHeaderKey(k)
		if v, ok := r.headerValue(ck, vals, corrID); ok {
			req.Headers[ck] = v
		}
	}
	if host != "" {
		req.Headers["Host"] = sanitize(host, maxValueLen)
	}
	if c := req.Headers["Cookie"]; c != "" {
		req.Cookies = c
	}
	if r.cfg.sendUserIP {
		if ip := remoteIP(h); ip != "" {
			req.Env = map[string]string{"REMOTE_ADDR": ip}
		}
	}
	return req
}

// headerValue returns the value a header of the request has in the
// event, and whether it is there at all. Only names that can be sent are
// read: a hostile request may carry megabytes of others.
func (r *Reporter) headerValue(ck string, vals []string, corrID string) (string, bool) {
	if len(vals) > maxHeaderValues {
		vals = vals[:maxHeaderValues]
	}
	switch {
	case ck == "Cookie":
		return scrubCookies(vals), true
	case sensitiveHeaders[ck]:
		return log.Redacted, true
	case ipHeaders[ck]:
		if !r.cfg.sendUserIP {
			return "", false
		}
		return sanitize(strings.Join(vals, ", "), maxValueLen), true
	case isCorrelationHeader(ck):
		// Exactly the ID the request runs with, or nothing: a header that
		// was rejected, or that lost to another one, never shows.
		if len(vals) == 1 && vals[0] == corrID && trace.ValidCorrelationID(corrID) {
			return corrID, true
		}
		return "", false
	case !r.cfg.headers[ck]:
		return "", false
	}
	// What the middleware's captured headers record, value by value.
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = r.cfg.redactor.RedactHeader(ck, v, maxValueLen)
	}
	return sanitize(strings.Join(parts, ", "), maxValueLen), true
}

func isCorrelationHeader(ck string) bool {
	return strings.EqualFold(ck, trace.HeaderCorrelationID) || strings.EqualFold(ck, trace.HeaderRequestID)
}

// scrubCookies keeps cookie names and redacts every value: cookies are
// sessions and tokens far more often than anything else.
func scrubCookies(vals []string) string {
	var names []string
	for _, v := range vals {
		if len(v) > 4*maxValueLen {
			v = v[:4*maxValueLen] // the result is cut to maxValueLen anyway
		}
		for p := range strings.SplitSeq(v, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
			names = append(names, name+"="+log.Redacted)
		}
	}
	return sanitize(strings.Join(names, "; "), maxValueLen)
}

func remoteIP(h *http.Request) string {
	host, _, err := net.SplitHostPort(h.RemoteAddr)
	if err != nil {
		host = h.RemoteAddr
	}
	if net.ParseIP(host) == nil {
		return ""
	}
	return host
}
