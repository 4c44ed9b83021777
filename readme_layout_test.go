package glassbox

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// TestREADMELayout: the README's "Layout" block matches the tree: every
// directory and Go file it names exists, and every top-level directory,
// example, internal package and file of the CLI (tests and
// platform-specific files aside) is named in it.
func TestREADMELayout(t *testing.T) {
	root := testutil.ModuleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Layout\n\n```\n")
	block, _, _ := strings.Cut(after, "```")
	if !ok || strings.TrimSpace(block) == "" {
		t.Fatal(`README.md has no block under "## Layout"`)
	}
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(root, p)); return err == nil }
	// A name is a path ending in "/" or ".go" (or .ci/run), relative to the
	// root or to the directory its entry is about: the first word of an
	// entry ("middleware/", "cmd/glassbox/"; "internal/" for the entries
	// indented by two spaces under it), which a continuation line (indented
	// further) keeps.
	token := regexp.MustCompile(`[A-Za-z0-9_.]+(?:/[A-Za-z0-9_.]+)*/?`)
	named := map[string]bool{}
	dir := ""
	for _, line := range strings.Split(block, "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 0 || strings.HasPrefix(line, "   "):
			// a continuation: the same directory
		case strings.HasPrefix(line, "  "):
			dir = "internal/"
		case strings.HasSuffix(f[0], "/"):
			dir = f[0]
		default:
			dir = ""
		}
		for _, name := range token.FindAllString(line, -1) {
			if !strings.HasSuffix(name, "/") && !strings.HasSuffix(name, ".go") && name != ".ci/run" {
				continue
			}
			switch {
			case exists(name):
				named[strings.TrimSuffix(name, "/")] = true
			case dir != "" && exists(dir+name):
				named[strings.TrimSuffix(dir+name, "/")] = true
			default:
				t.Errorf("the Layout names %s, which is not in the tree", name)
			}
		}
	}
	mustName := func(path string) {
		for n := range named {
			if n == path || strings.HasPrefix(n, path+"/") {
				return
			}
		}
		t.Errorf("the Layout does not name %s", path)
	}
	for _, glob := range []string{"*", "examples/*", "internal/*"} {
		paths, _ := filepath.Glob(filepath.Join(root, glob))
		for _, p := range paths {
			rel, _ := filepath.Rel(root, p)
			if st, err := os.Stat(p); err == nil && st.IsDir() && !strings.HasPrefix(rel, ".") {
				mustName(filepath.ToSlash(rel))
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "cmd", "glassbox", "*.go"))
	for _, f := range files {
		if base := filepath.Base(f); !strings.HasSuffix(base, "_test.go") && !strings.HasPrefix(base, "trace_term") {
			mustName("cmd/glassbox/" + base)
		}
	}
}
