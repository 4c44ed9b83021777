package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/doctor"
)

// The README's doctor section shows output of the current doctor: the
// pasted report has one line per check, in order, with a status doctor
// writes and a last line that counts them; its table describes every
// check and no other.
func TestReadmeDoctorSection(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## When nothing arrives: glassbox doctor\n")
	if i < 0 {
		t.Fatal(`README has no "When nothing arrives: glassbox doctor" section`)
	}
	s = s[i+1:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	start := strings.Index(s, "```\n$ glassbox doctor\n")
	if start < 0 {
		t.Fatal("the section pastes no glassbox doctor run")
	}
	report := s[start+len("```\n$ glassbox doctor\n"):]
	report = report[:strings.Index(report, "```")]

	var names []string
	count := map[string]int{}
	lines := strings.Split(strings.TrimSpace(report), "\n")
	for _, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(l, " ") || l == "" {
			continue
		}
		f := strings.Fields(l)
		switch f[0] {
		case "PASS", "WARN", "FAIL", "SKIP":
		default:
			t.Errorf("line %q: not a status doctor writes", l)
		}
		count[strings.ToLower(f[0])]++
		names = append(names, f[1])
	}
	if !slices.Equal(names, doctor.Names()) {
		t.Errorf("the pasted report has checks %v, doctor has %v", names, doctor.Names())
	}
	var parts []string
	for _, st := range []struct{ key, verb string }{{"fail", "failed"}, {"warn", "warned"}, {"pass", "passed"}, {"skip", "skipped"}} {
		if count[st.key] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st.key], st.verb))
		}
	}
	if last := lines[len(lines)-1]; last != strings.Join(parts, ", ") {
		t.Errorf("the pasted report ends %q, its lines count %q", last, strings.Join(parts, ", "))
	}

	var described []string
	for _, m := range regexp.MustCompile("(?m)^\\| (`[^|]+`) \\|").FindAllStringSubmatch(s, -1) {
		for _, n := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[1], -1) {
			described = append(described, n[1])
		}
	}
	if !slices.Equal(described, doctor.Names()) {
		t.Errorf("the README's table describes %v, doctor has %v", described, doctor.Names())
	}
}
