package glassbox

import (
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// TestREADMEProgramsBuild builds every complete program README.md shows
// (a code block whose first line is "// README: main.go") as a user who
// pastes it would, against this checkout: the README cannot drift from
// the API.
func TestREADMEProgramsBuild(t *testing.T) {
	t.Parallel()
	progs := testutil.READMEPrograms(t)
	if len(progs) == 0 {
		t.Fatal("README.md shows no complete program (a ```go block starting with // README: main.go); want at least the quickstart")
	}
	for _, p := range progs {
		if !strings.HasSuffix(p.File, ".go") {
			t.Errorf("README.md:%d: marker names %q, want a .go file name", p.Line, p.File)
			continue
		}
		testutil.BuildProgram(t, map[string]string{p.File: p.Source})
	}
}
