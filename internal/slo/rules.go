package slo

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// BurnWindow is one multi-window, multi-burn-rate alert of the Google SRE
// workbook: it fires when the error ratio over both the long and the short
// window exceeds Burn times the error budget.
type BurnWindow struct {
	Long, Short time.Duration
	Burn        float64
	Severity    string // "page" or "ticket"
}

// BurnWindows returns the SRE workbook's three pairs: 2% of a 30-day
// budget spent in 1 hour (14.4x, page), 5% in 6 hours (6x, page), 10% in
// 3 days (1x, ticket).
func BurnWindows() []BurnWindow {
	return []BurnWindow{
		{Long: time.Hour, Short: 5 * time.Minute, Burn: 14.4, Severity: "page"},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Burn: 6, Severity: "page"},
		{Long: 3 * 24 * time.Hour, Short: 6 * time.Hour, Burn: 1, Severity: "ticket"},
	}
}

// windows returns every window a rule needs, shortest first.
func windows() []time.Duration {
	seen := map[time.Duration]bool{}
	var out []time.Duration
	for _, w := range BurnWindows() {
		for _, d := range []time.Duration{w.Short, w.Long} {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// promDuration writes d as a PromQL duration: 5m, 1h, 3d.
func promDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Names of the recorded series, per window suffix ("5m", "1h", ...).
const (
	recRequests     = "glassbox:slo_requests:rate"
	recAvailability = "glassbox:slo_availability_errors:ratio_rate"
	recLatency      = "glassbox:slo_latency_errors:ratio_rate"
)

// AlertName returns the name of the alert of an SLO kind and a burn
// window: GlassboxAvailabilityBurn1h, GlassboxLatencyBurn3d, ...
func AlertName(k Kind, w BurnWindow) string {
	return "Glassbox" + strings.ToUpper(string(k[:1])) + string(k[1:]) + "Burn" + promDuration(w.Long)
}

// Options selects what Rules generates.
type Options struct {
	// Services limits the rules to these service names (service.name);
	// empty means every service, each evaluated on its own.
	Services []string
}

// selector returns the label matchers of opts as "a=b," (with a trailing
// comma when not empty).
func (opts Options) selector() string {
	switch len(opts.Services) {
	case 0:
		return ""
	case 1:
		return LabelService + "=" + promString(opts.Services[0]) + ","
	}
	q := make([]string, len(opts.Services))
	for i, s := range opts.Services {
		q[i] = regexp.QuoteMeta(s)
	}
	return LabelService + "=~" + promString(strings.Join(q, "|")) + ","
}

// groupSuffix names rule groups after the services they cover.
func (opts Options) groupSuffix() string {
	if len(opts.Services) == 0 {
		return ""
	}
	var b strings.Builder
	for _, s := range opts.Services {
		b.WriteByte('-')
		for _, r := range s {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// promString quotes s as a PromQL string literal.
func promString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// braces wraps matchers (which may end in a comma) in {} or returns "".
func braces(m string) string {
	m = strings.TrimSuffix(m, ",")
	if m == "" {
		return ""
	}
	return "{" + m + "}"
}

// leMatcher matches a bucket bound as Prometheus 2 ("1") and 3 ("1.0")
// write it.
func leMatcher(d time.Duration) string {
	s := secondsString(d)
	if !strings.Contains(s, ".") {
		return `le=~"` + s + `|` + s + `\\.0"`
	}
	return `le="` + s + `"`
}
