package w3ctest

import (
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/baggage"
)

// Traceparent00 matches a version-00 traceparent; its groups are the
// trace ID and the parent ID.
var Traceparent00 = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

// BaggageLimits of the W3C Baggage specification that the middleware
// enforces on inbound headers: a longer header or one with more list
// members is dropped whole.
const (
	MaxBaggageBytes   = 8192
	MaxBaggageMembers = 64
)

// ExpectedBaggage is the baggage a service should see for the inbound
// header value h: what OTel parses of it, or nothing when h does not
// parse or is beyond the limits.
func ExpectedBaggage(h string) baggage.Baggage {
	b, err := baggage.Parse(h)
	members := 0
	for _, p := range strings.Split(h, ",") {
		if strings.TrimSpace(p) != "" {
			members++
		}
	}
	if err != nil || len(h) > MaxBaggageBytes || members > MaxBaggageMembers {
		return baggage.Baggage{}
	}
	return b
}

// SameBaggage reports whether a and b hold the same members: keys, values
// and properties.
func SameBaggage(a, b baggage.Baggage) bool {
	if a.Len() != b.Len() {
		return false
	}
	for _, m := range a.Members() {
		o := b.Member(m.Key())
		if o.Key() != m.Key() || o.Value() != m.Value() || len(o.Properties()) != len(m.Properties()) {
			return false
		}
		for i, p := range m.Properties() {
			if p.String() != o.Properties()[i].String() {
				return false
			}
		}
	}
	return true
}
