package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for a person: one line per check (status,
// name, what was found), its details and what to do indented below, and a
// last line counting the outcomes.
func (r *Report) WriteText(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	indent := strings.Repeat(" ", 6+width+2)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Name, c.Summary)
		for _, d := range c.Details {
			fmt.Fprintf(&b, "%s%s\n", indent, d)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, c.Fix)
		}
	}
	var counts []string
	for _, s := range []struct {
		st   Status
		verb string
	}{{Fail, "failed"}, {Warn, "warned"}, {Pass, "passed"}, {Skip, "skipped"}} {
		if n := r.Count(s.st); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, s.verb))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", strings.Join(counts, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport is the --json document. Its field names are stable.
type jsonReport struct {
	Healthy bool           `json:"healthy"`
	Counts  map[Status]int `json:"counts"`
	Checks  []Result       `json:"checks"`
}

// WriteJSON writes the report as one JSON document: {"healthy": bool,
// "counts": {"pass": n, "warn": n, "fail": n, "skip": n}, "checks":
// [Result...]}.
func (r *Report) WriteJSON(w io.Writer) error {
	doc := jsonReport{Healthy: r.Healthy(), Counts: map[Status]int{}, Checks: r.Checks}
	for _, s := range []Status{Pass, Warn, Fail, Skip} {
		doc.Counts[s] = r.Count(s)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
