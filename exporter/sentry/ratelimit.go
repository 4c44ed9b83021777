package sentry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns until when error events must not be sent according to
// resp, or the zero time. X-Sentry-Rate-Limits wins over Retry-After, as
// in Sentry's protocol; a 429 without either means 60 seconds.
func backoff(resp *http.Response, now time.Time) time.Time {
	if h := resp.Header.Get("X-Sentry-Rate-Limits"); h != "" {
		return rateLimits(h, now)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return time.Time{}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 {
			return now.Add(time.Duration(secs * float64(time.Second)))
		}
		if t, err := http.ParseTime(ra); err == nil {
			return t
		}
	}
	return now.Add(60 * time.Second)
}

// rateLimits reads X-Sentry-Rate-Limits ("60:error;default:project,
// 30::organization") and returns until when the error category is
// limited.
func rateLimits(h string, now time.Time) time.Time {
	var until time.Time
	for limit := range strings.SplitSeq(h, ",") {
		parts := strings.Split(strings.TrimSpace(limit), ":")
		secs, err := strconv.ParseFloat(parts[0], 64)
		if err != nil || secs < 0 {
			continue
		}
		applies := len(parts) < 2 || parts[1] == ""
		if !applies {
			for cat := range strings.SplitSeq(parts[1], ";") {
				if cat == "error" || cat == "default" {
					applies = true
				}
			}
		}
		if applies {
			if u := now.Add(time.Duration(secs * float64(time.Second))); u.After(until) {
				until = u
			}
		}
	}
	return until
}
