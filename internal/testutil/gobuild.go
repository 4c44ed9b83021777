package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ModulePath is the glassbox module's import path.
const ModulePath = "github.com/glassbox-obs/glassbox"

// ModuleRoot returns the directory of the glassbox checkout under test:
// the nearest parent of the working directory with glassbox's go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module "+ModulePath+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// GoCommand returns an exec.Cmd running the go command with args in dir,
// in the test's environment plus env, with no module download (only the
// module cache) and no workspace.
func GoCommand(t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// BuildProgram builds a main package made of files (name to source) in a
// temporary module that requires the glassbox checkout through a replace
// directive, as a user's program would, and returns the binary's path.
// When the tests run with -race, the program is built with -race too: the
// packages are then already in the build cache.
func BuildProgram(t testing.TB, files map[string]string) string {
	t.Helper()
	root := ModuleRoot(t)
	dir := t.TempDir()
	gomod := "module example.com/program\n\ngo 1.26\n\nrequire " + ModulePath + " v0.0.0\n\nreplace " + ModulePath + " => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte(gomod))
	write("go.sum", sum)
	for name, src := range files {
		write(name, []byte(src))
	}
	bin := filepath.Join(dir, "program")
	args := []string{"build", "-o", bin}
	if RaceEnabled {
		args = append(args, "-race")
	}
	out, err := GoCommand(t, dir, nil, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// PublicPackages lists the import paths of the module's packages a user
// can import: every package of the checkout but commands (package main)
// and internal ones.
func PublicPackages(t testing.TB) []string {
	t.Helper()
	out, err := GoCommand(t, ModuleRoot(t), nil, "list", "-f", "{{.Name}} {{len .GoFiles}} {{.ImportPath}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, rest, _ := strings.Cut(line, " ")
		files, path, _ := strings.Cut(rest, " ")
		// A directory of tests only (examples/compose) is not a package
		// a program can import.
		if name == "main" || files == "0" || strings.Contains(path+"/", "/internal/") {
			continue
		}
		pkgs = append(pkgs, path)
	}
	return pkgs
}
