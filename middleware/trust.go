package middleware

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"go.opentelemetry.io/otel/baggage"
)

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hostOf returns the host part of a "host:port" address (brackets removed),
// or addr itself when it has no port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// PeerTrusted reports whether the peer at addr ("host:port" or "host") may
// set trace context, baggage and the correlation ID: always when the
// endpoint is not public, else when addr is in WithTrustedPeers.
func (c *Config) PeerTrusted(addr string) bool {
	if !c.public {
		return true
	}
	return inPrefixes(c.trustedPeers, parseAddr(hostOf(addr)))
}

// clientIP is the connection's address, or, when the connection comes from
// a trusted proxy, the rightmost X-Forwarded-For address that is not itself
// a trusted proxy.
func (c *Config) clientIP(r *http.Request) string {
	host := hostOf(r.RemoteAddr)
	if len(c.trustedProxies) == 0 || !inPrefixes(c.trustedProxies, parseAddr(host)) {
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
			a := parseAddr(part)
			if !a.IsValid() {
				return client // malformed: trust nothing further left
			}
			client = part
			if !inPrefixes(c.trustedProxies, a) {
				return client
			}
		}
	}
	return client
}

// W3C baggage limits: a baggage larger than these is dropped whole.
const (
	maxBaggageMembers = 64
	maxBaggageBytes   = 8192
)

// BaggageWithinLimits reports whether the values of a baggage header (all
// of its occurrences together) are valid W3C baggage of at most 64 members
// and 8192 bytes. Inbound baggage that is not is dropped whole rather than
// cut, so a handler never acts on a partial view.
func BaggageWithinLimits(vals []string) bool {
	size, members := 0, 0
	for i, v := range vals {
		if i > 0 {
			size++ // the ',' joining header lines
		}
		size += len(v)
		for _, m := range strings.Split(v, ",") {
			if strings.TrimSpace(m) != "" {
				members++
			}
		}
	}
	if size > maxBaggageBytes || members > maxBaggageMembers {
		return false
	}
	_, err := baggage.Parse(strings.Join(vals, ","))
	return err == nil
}
