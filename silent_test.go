package glassbox

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// TestImportingEveryPackageIsSilent builds a program that imports every
// public glassbox package (listed with go list at test time, so new ones
// are covered) and does nothing else, runs it with an empty environment
// and expects no output at all: nothing runs at package initialisation.
// (It printed an "invalid compression type" warning on stderr when the
// OTLP exporter built SDK options in package-level variables.)
func TestImportingEveryPackageIsSilent(t *testing.T) {
	t.Parallel()
	pkgs := testutil.PublicPackages(t)
	if len(pkgs) < 5 {
		t.Fatalf("go list found %d public packages (%v), want all of them", len(pkgs), pkgs)
	}
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		src.WriteString("\t_ \"" + p + "\"\n")
	}
	src.WriteString(")\n\nfunc main() {}\n")
	bin := testutil.BuildProgram(t, map[string]string{"main.go": src.String()})

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("program importing %v: %v\nstderr: %s", pkgs, err, stderr.Bytes())
	}
	if stdout.Len() > 0 || stderr.Len() > 0 {
		t.Errorf("program importing every package wrote stdout %q, stderr %q; want nothing", stdout.Bytes(), stderr.Bytes())
	}
}
