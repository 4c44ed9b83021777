package slo

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   SLO
		budget float64
		str    string
	}{
		{"availability=99.9", SLO{Kind: Availability, Objective: 99.9}, 0.001, "availability=99.9"},
		{" Availability=99.95% ", SLO{Kind: Availability, Objective: 99.95}, 0.0005, "availability=99.95"},
		{"latency=250ms@99", SLO{Kind: Latency, Objective: 99, Threshold: 250 * time.Millisecond}, 0.01, "latency=0.25s@99"},
		{"latency=0.25s@99.5", SLO{Kind: Latency, Objective: 99.5, Threshold: 250 * time.Millisecond}, 0.005, "latency=0.25s@99.5"},
		{"latency=1@99", SLO{Kind: Latency, Objective: 99, Threshold: time.Second}, 0.01, "latency=1s@99"},
		{"latency=7.5s@95", SLO{Kind: Latency, Objective: 95, Threshold: 7500 * time.Millisecond}, 0.05, "latency=7.5s@95"},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q): got %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.Budget() != tc.budget || got.String() != tc.str {
			t.Errorf("Parse(%q): budget %v, string %q; want %v, %q", tc.in, got.Budget(), got.String(), tc.budget, tc.str)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q.String()): got %+v, %v", tc.in, again, err)
		}
	}
	for _, bad := range []string{"", "availability", "availability=", "availability=abc", "availability=0",
		"availability=100", "availability=93", "latency=@99", "latency=0.3s@99", "latency=-1s@99",
		"latency=1s", "latency=1s@", "latency=NaN@99", "availability=NaN", "errors=1"} {
		if got, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): got %+v, want an error", bad, got)
		}
	}
}

func TestBurnWindowsAreTheWorkbooks(t *testing.T) {
	got := BurnWindows()
	if len(got) != len(workbook) {
		t.Fatalf("got %d windows, want %d", len(got), len(workbook))
	}
	for i := range got {
		if got[i] != workbook[i] {
			t.Errorf("window %d: got %+v, want %+v", i, got[i], workbook[i])
		}
	}
}

// TestPromtoolRequiredInCI runs this package's promtool test in a child
// process with CI=true and no promtool on PATH: it must fail, not skip.
func TestPromtoolRequiredInCI(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPromtoolCheckRules$", "-test.v")
	cmd.Env = append(os.Environ(), "CI=true", "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "promtool not found") || strings.Contains(string(out), "SKIP") {
		t.Errorf("with CI=true and no promtool: got err=%v\n%s", err, out)
	}
}
