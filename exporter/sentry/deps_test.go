package sentry_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoToolchainPackages: a program that imports the Sentry exporter
// links no toolchain package (go/build and what it drags in: go/parser,
// go/ast, go/doc, ...) and not sentry-go's root package, which imports
// go/build to find GOROOT.
func TestNoToolchainPackages(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/glassbox-obs/glassbox/exporter/sentry").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("got %d packages from go list -deps, want the package's dependencies", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "go/") || p == "github.com/getsentry/sentry-go" {
			t.Errorf("exporter/sentry links %s", p)
		}
	}
}
