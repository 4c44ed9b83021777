package instrument

import (
	"net"
	"net/netip"
	"strings"

	"go.opentelemetry.io/otel/baggage"
)

// PeerTrusted reports whether the peer at addr ("host:port" or "host") may
// set trace context, baggage and the correlation ID: always when the
// endpoint is not public, else when addr is in the trusted peers.
func (c *Config) PeerTrusted(addr string) bool {
	if !c.Public {
		return true
	}
	return InPrefixes(c.TrustedPeers, ParseAddr(HostOf(addr)))
}

// InPrefixes reports whether a is in one of ps.
func InPrefixes(ps []netip.Prefix, a netip.Addr) bool {
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

// HostOf returns the host part of a "host:port" address (brackets removed),
// or addr itself when it has no port.
func HostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// ParseAddr parses an IP address; the zero Addr when s is not one.
func ParseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
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
