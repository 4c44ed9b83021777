package story

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// FormatDuration writes d short and readable: 850µs, 12.3ms, 1.25s, 2m05s.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// offset is a time relative to the story's start: "+12.3ms".
func offset(s *Story, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return "+" + FormatDuration(t.Sub(s.Start))
}

// clean makes a value from a document safe to print: no control
// characters, bidirectional overrides or invalid UTF-8 (they could drive
// the terminal or fake lines), and at most 2000 bytes.
func clean(s string) string { return textsafe.Sanitize(s, 2000) }

// width is the number of terminal columns s takes (one per rune).
func width(s string) int { return utf8.RuneCountInString(s) }

// fit cuts s to w columns with "…", or pads it with spaces to w.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := width(s)
	if n <= w {
		return s + strings.Repeat(" ", w-n)
	}
	return cut(s, w)
}

// cut shortens s to at most w columns, ending in "…" when it had to.
func cut(s string, w int) string {
	if width(s) <= w {
		return s
	}
	if w <= 1 {
		return strings.Repeat("…", max(w, 0))
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}

// rfit right-aligns s in w columns.
func rfit(s string, w int) string {
	if n := width(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return cut(s, w)
}
