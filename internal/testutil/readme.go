package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// READMEMarker begins the first line of every complete program in
// README.md, followed by the program's file name: "// README: main.go".
const READMEMarker = "// README: "

// Program is a complete Go program README.md shows.
type Program struct {
	// File is the file name the marker gives.
	File string
	// Line is the README line the program starts on (its marker).
	Line int
	// Source is the code block, marker included.
	Source string
}

// READMEPrograms returns the complete programs of the checkout's
// README.md: the ```go blocks whose first line is the marker.
func READMEPrograms(t testing.TB) []Program {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		progs []Program
		cur   *Program
		body  strings.Builder
	)
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		switch {
		case cur == nil && line == "```go" && i+1 < len(lines) && strings.HasPrefix(lines[i+1], READMEMarker):
			cur = &Program{File: strings.TrimSpace(strings.TrimPrefix(lines[i+1], READMEMarker)), Line: i + 2}
			body.Reset()
		case cur != nil && line == "```":
			cur.Source = body.String()
			progs = append(progs, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: the program's code block is not closed", cur.Line)
	}
	return progs
}
