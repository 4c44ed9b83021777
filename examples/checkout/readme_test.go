package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// TestREADMECommands: the README's "two commands" are this demo and
// exactly the test command CI runs (.ci/run's last command).
func TestREADMECommands(t *testing.T) {
	root := testutil.ModuleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## The two commands\n\n```sh\n")
	block, _, _ := strings.Cut(after, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if !ok || len(lines) != 2 {
		t.Fatalf("README.md has no block of two commands under \"## The two commands\": %q", block)
	}
	command := func(line string) string {
		cmd, _, _ := strings.Cut(line, " #")
		return strings.TrimSpace(cmd)
	}
	if got := command(lines[0]); got != "go run ./examples/checkout" {
		t.Errorf("the demo command is %q, want go run ./examples/checkout", got)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	ciLines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if got, want := command(lines[1]), strings.TrimSpace(ciLines[len(ciLines)-1]); got != want {
		t.Errorf("the README's test command\n  %s\nis not what .ci/run runs\n  %s", got, want)
	}
}
