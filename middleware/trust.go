package middleware

import (
	"net/http"
	"strings"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// clientIP is the connection's address, or, when the connection comes from
// a trusted proxy, the rightmost X-Forwarded-For address that is not itself
// a trusted proxy.
func clientIP(c *config, r *http.Request) string {
	host := instrument.HostOf(r.RemoteAddr)
	if len(c.TrustedProxies) == 0 || !instrument.InPrefixes(c.TrustedProxies, instrument.ParseAddr(host)) {
		return host
	}
	client := host
	vals := r.Header.Values("X-Forwarded-For")
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for v != "" {
			var part string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				part, v = v[j+1:], v[:j]
			} else {
				part, v = v, ""
			}
			part = strings.TrimSpace(part)
			a := instrument.ParseAddr(part)
			if !a.IsValid() {
				return client // malformed: trust nothing further left
			}
			client = part
			if !instrument.InPrefixes(c.TrustedProxies, a) {
				return client
			}
		}
	}
	return client
}
