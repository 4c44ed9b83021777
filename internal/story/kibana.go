package story

import (
	"fmt"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/trace"
)

// DiscoverURL returns a Kibana Discover link to the documents of one
// correlation ID from a minute before from to a minute after to, or "" when
// base is empty or the ID is not a valid correlation ID.
//
// It is the one place the CLI builds Kibana links; internal/kibana (shared
// with the Sentry reporter) replaces it when it lands.
func DiscoverURL(base, correlationID string, from, to time.Time) string {
	base = strings.TrimRight(base, "/")
	if base == "" || !trace.ValidCorrelationID(correlationID) {
		return ""
	}
	g := "(time:(from:'" + from.Add(-time.Minute).UTC().Format(time.RFC3339) + "',to:'" + to.Add(time.Minute).UTC().Format(time.RFC3339) + "'))"
	a := "(query:(language:kuery,query:'correlation.id:\"" + correlationID + "\"'))"
	return base + "/app/discover#/?_g=" + risonEscape(g) + "&_a=" + risonEscape(a)
}

// risonEscape percent-encodes what may not appear raw in a URL fragment,
// keeping rison's punctuation readable.
func risonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~()':,!*", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
