package sentry

import (
	"fmt"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/trace"
)

// kibanaLink returns a Discover URL showing the logs of the correlation ID
// from an hour before t to fifteen minutes after, or "".
func (r *Reporter) kibanaLink(id string, t time.Time) string {
	base := strings.TrimRight(r.cfg.kibanaURL.val, "/")
	if base == "" || !trace.ValidCorrelationID(id) {
		return ""
	}
	from := t.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := t.Add(15 * time.Minute).UTC().Format(time.RFC3339)
	g := "(time:(from:'" + from + "',to:'" + to + "'))"
	a := "(query:(language:kuery,query:'correlation.id:\"" + id + "\"'))"
	return base + "/app/discover#/?_g=" + risonEscape(g) + "&_a=" + risonEscape(a)
}

// risonEscape percent-encodes what may not appear raw in a URL fragment,
// keeping rison's punctuation readable.
func risonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~()':,!*", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
