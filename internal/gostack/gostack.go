package gostack

import (
	"strconv"
	"strings"
)

// Frame is one frame of a stack trace.
type Frame struct {
	// Function is the qualified function name without its arguments
	// ("main.(*payments).charge", "net/http.HandlerFunc.ServeHTTP").
	Function string
	// File and Line locate the call; Line is 0 when the trace has none.
	File string
	Line int
}

// Location is "file:line", or the file alone when the line is unknown.
func (f Frame) Location() string {
	if f.Line <= 0 {
		return f.File
	}
	return f.File + ":" + strconv.Itoa(f.Line)
}

// Package is the import path of the frame's function: what precedes the
// first '.' after the last '/' ("main", "net/http",
// "github.com/acme/shop/orders"); "" for compiler-generated names.
func (f Frame) Package() string {
	name := f.Function
	if strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "type:") {
		return ""
	}
	slash := strings.LastIndexByte(name, '/')
	if i := strings.IndexByte(name[slash+1:], '.'); i >= 0 {
		return name[:slash+1+i]
	}
	return ""
}

// Parse reads the frames of a stack trace, innermost first. It takes
// runtime/debug.Stack output and glassbox's "function\n\tfile:line" form
// alike: a function line followed by a tab-indented location line, the
// function's arguments and the location's "+0x…" offset dropped. The
// frames of a recovered panic start below it: what the trace shows
// above the panic (runtime/debug.Stack, the recovering deferred call) is
// left out. Parsing stops at "created by" (the goroutine's creator).
// Lines of another shape are skipped; Parse never fails.
func Parse(trace string) []Frame {
	lines := strings.Split(strings.ReplaceAll(trace, "\r\n", "\n"), "\n")
	var frames []Frame
	for i := 0; i+1 < len(lines); i++ {
		fn := strings.TrimSpace(lines[i])
		if fn == "" || strings.HasPrefix(lines[i], "\t") || strings.HasPrefix(fn, "goroutine ") {
			continue
		}
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		i++
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		f := Frame{Function: stripArgs(fn), File: loc}
		if j := strings.LastIndexByte(loc, ':'); j >= 0 {
			if n, err := strconv.Atoi(loc[j+1:]); err == nil {
				f.File, f.Line = loc[:j], n
			}
		}
		if f.Function == "panic" || f.Function == "runtime.gopanic" {
			frames = frames[:0] // what came before is the recovery machinery
			continue
		}
		frames = append(frames, f)
	}
	return frames
}

// stripArgs drops the argument list runtime/debug.Stack writes after a
// function name ("main.f(0xc000012345, {0x1, 0x2})" -> "main.f").
func stripArgs(fn string) string {
	if !strings.HasSuffix(fn, ")") {
		return fn
	}
	depth := 0
	for i := len(fn) - 1; i >= 0; i-- {
		switch fn[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if i > 0 && fn[i-1] != '.' { // "(*T)" of a method is part of the name
					return fn[:i]
				}
				return fn
			}
		}
	}
	return fn
}

// CrashSite returns the first frame of trace (see Parse) that is the
// application's own code (see InApp, with the GOROOT the trace's own
// runtime frames show): where the error was created or the panic
// happened, as its author would look for it. ok is false when no frame
// is.
func CrashSite(trace string) (f Frame, ok bool) {
	frames := Parse(trace)
	b := Build{GOROOT: GOROOT(trace)}
	for _, f := range frames {
		if InApp(f, b) {
			return f, true
		}
	}
	return Frame{}, false
}

// Build is what is known of the program a stack trace comes from. Its
// zero value knows nothing.
type Build struct {
	// GOROOT is the Go root the program was built with, as its frames'
	// files show it ("/usr/local/go"); "" when unknown or built with
	// -trimpath.
	GOROOT string
	// MainModule is the path of the program's main module, or "".
	MainModule string
}

// GOROOT returns the Go root a stack trace shows: the directory above
// "src/runtime/" in the location of a runtime frame (runtime.goexit,
// runtime/debug.Stack, a panic; Parse leaves the latter two out), or ""
// when no frame tells.
func GOROOT(trace string) string {
	for line := range strings.Lines(trace) {
		if !strings.HasPrefix(line, "\t") {
			continue
		}
		loc := strings.ReplaceAll(strings.TrimSpace(line), `\`, "/")
		if i := strings.LastIndex(loc, "/src/runtime/"); i > 0 && isAbs(loc) {
			return loc[:i]
		}
	}
	return ""
}

// libraries are the import paths whose frames are never the
// application's: the RPC framework and its middleware, OpenTelemetry's
// instrumentation, and glassbox's SDK (the packages a service imports;
// glassbox's programs, cmd/ and examples/, are applications).
var libraries = []string{
	"google.golang.org/grpc",
	"github.com/grpc-ecosystem/go-grpc-middleware",
	"go.opentelemetry.io",
	glassbox + "/errors",
	glassbox + "/exporter",
	glassbox + "/internal",
	glassbox + "/log",
	glassbox + "/middleware",
	glassbox + "/trace",
}

const glassbox = "github.com/glassbox-obs/glassbox"

// InApp reports whether a frame is the application's own code. It is
// not when its function's package is
//   - glassbox's SDK (the root package, errors, exporter, internal, log,
//     middleware and trace, with the packages below them), gRPC
//     (google.golang.org/grpc/...), go-grpc-middleware or OpenTelemetry
//     (go.opentelemetry.io/...), but not their external test packages
//     ("…/sentry_test"), which are their authors' code;
//   - the Go standard library: an import path whose first element has no
//     dot ("runtime", "net/http"), except package main, the packages of
//     b.MainModule, and, when b.GOROOT is known, a package whose file
//     lies outside it (a module named without a dot, "myapp/orders");
//
// or when its file is a dependency's: in a module cache ("/pkg/mod/"), a
// vendor directory, or a -trimpath path with a module version
// ("example.com/lib@v1.2.0/x.go"). Everything else is: package main and
// the packages of the program's own modules.
func InApp(f Frame, b Build) bool {
	pkg := f.Package()
	if pkg == "" || pkg == glassbox {
		return false
	}
	// An external test package ("…/orders_test") is its author's code,
	// whoever's package it tests.
	for _, m := range libraries {
		if (pkg == m || strings.HasPrefix(pkg, m+"/")) && !strings.HasSuffix(pkg, "_test") {
			return false
		}
	}
	file := strings.ReplaceAll(f.File, `\`, "/")
	if strings.Contains(file, "/pkg/mod/") || strings.Contains(file, "/vendor/") || versionedPath(file) {
		return false
	}
	if pkg == "main" || b.MainModule != "" && (pkg == b.MainModule || strings.HasPrefix(pkg, b.MainModule+"/")) {
		return true
	}
	if first, _, _ := strings.Cut(pkg, "/"); strings.Contains(first, ".") {
		return true
	}
	// No dot: the standard library, unless its file shows otherwise.
	return b.GOROOT != "" && isAbs(file) && !strings.HasPrefix(file, b.GOROOT+"/")
}

// isAbs reports whether path is absolute (Unix or Windows); -trimpath
// builds record relative ones.
func isAbs(path string) bool {
	return strings.HasPrefix(path, "/") || len(path) >= 3 && path[1] == ':' && path[2] == '/'
}

// versionedPath reports whether path holds "@v<digit>", the mark of a
// dependency's file in a -trimpath build.
func versionedPath(path string) bool {
	for rest := path; ; {
		i := strings.Index(rest, "@v")
		if i < 0 {
			return false
		}
		if i+2 < len(rest) && rest[i+2] >= '0' && rest[i+2] <= '9' {
			return true
		}
		rest = rest[i+2:]
	}
}
