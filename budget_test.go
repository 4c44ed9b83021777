package glassbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// What every user pays to adopt glassbox: the README's quickstart program
// may link at most 550 packages and build to at most 25 MB, and never the
// typed Elasticsearch API or the Go toolchain's own packages (README,
// "What it costs").
const (
	budgetPackages = 550
	budgetBytes    = 25_000_000
)

func TestQuickstartWithinBudget(t *testing.T) {
	root := testutil.ModuleRoot(t)
	out, err := testutil.GoCommand(t, root, nil, "list", "-deps", "./examples/quickstart").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	t.Logf("quickstart links %d packages", len(deps))
	if len(deps) > budgetPackages {
		t.Errorf("quickstart links %d packages, budget %d", len(deps), budgetPackages)
	}
	for _, p := range deps {
		switch {
		case strings.Contains(p, "go-elasticsearch/v8/typedapi"),
			p == "github.com/elastic/go-elasticsearch/v8",
			p == "go/build", p == "go/parser", p == "go/ast", p == "go/doc",
			p == "github.com/getsentry/sentry-go":
			t.Errorf("quickstart links %s", p)
		}
	}

	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := testutil.GoCommand(t, root, nil, "build", "-o", bin, "./examples/quickstart").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quickstart binary: %d bytes", fi.Size())
	if fi.Size() > budgetBytes {
		t.Errorf("quickstart binary is %d bytes, budget %d", fi.Size(), budgetBytes)
	}
}
