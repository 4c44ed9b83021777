package sentry

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

// maxFrames caps the frames of one stack trace (errors keep 32).
const maxFrames = 64

// framesOf turns program counters (innermost first, as runtime.Callers
// returns them) into Sentry frames, oldest first, without the runtime's
// and the testing package's own frames.
func framesOf(pcs []uintptr) []frame {
	if len(pcs) == 0 {
		return nil
	}
	out := make([]frame, 0, min(len(pcs), maxFrames))
	it := runtime.CallersFrames(pcs)
	for len(out) < maxFrames {
		f, more := it.Next()
		if fr := newFrame(f.Function, f.File, f.Line); !skipFrame(fr.Module) {
			out = append(out, fr)
		}
		if !more {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// skipFrame reports whether frames of the package are left out: the
// runtime's (goexit, panics) and the test runner's.
func skipFrame(module string) bool { return module == "runtime" || module == "testing" }

// newFrame builds a frame from a qualified function name
// ("example.com/shop/orders.(*Handler).load"), a file and a line.
func newFrame(qualified, file string, line int) frame {
	fr := frame{Lineno: line}
	fr.Module, fr.Function = splitFunc(qualified)
	switch {
	case file == "":
	case isAbsPath(file):
		fr.AbsPath = file
	default:
		fr.Filename = file // -trimpath builds: "example.com/shop@v1.2.0/x.go"
	}
	fr.InApp = gostack.InApp(gostack.Frame{Function: qualified, File: file, Line: line}, thisBuild())
	return fr
}

// splitFunc splits a qualified function name into the package path and
// the function: the package ends at the first '.' after the last '/'.
func splitFunc(name string) (pkg, fn string) {
	if strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "type:") {
		return "", name // compiler-generated
	}
	slash := strings.LastIndexByte(name, '/')
	if i := strings.IndexByte(name[slash+1:], '.'); i >= 0 {
		return name[:slash+1+i], name[slash+2+i:]
	}
	return "", name
}

func isAbsPath(p string) bool {
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) ||
		len(p) >= 3 && p[1] == ':' && (p[2] == '/' || p[2] == '\\')
}

// buildPaths are read once, on first use.
var buildPaths struct {
	once   sync.Once
	goRoot string // the GOROOT the binary was built with; "" with -trimpath
	main   string // the main module's path, or ""
}

func loadBuildPaths() {
	buildPaths.once.Do(func() {
		// The file of a standard-library function as the binary records
		// it: "<GOROOT>/src/strings/strings.go", or "strings/strings.go"
		// in a -trimpath build. No toolchain package is needed for it.
		var pc [1]uintptr
		runtime.Callers(0, pc[:]) // runtime.Callers itself
		f, _ := runtime.CallersFrames(pc[:]).Next()
		file := strings.ReplaceAll(f.File, `\`, "/")
		if root, ok := strings.CutSuffix(file, "/src/runtime/extern.go"); ok && isAbsPath(file) {
			buildPaths.goRoot = root
		}
		if bi, ok := debug.ReadBuildInfo(); ok {
			buildPaths.main = bi.Main.Path
		}
	})
}

// thisBuild is what gostack.InApp needs to know of this program.
func thisBuild() gostack.Build {
	loadBuildPaths()
	return gostack.Build{GOROOT: buildPaths.goRoot, MainModule: buildPaths.main}
}
