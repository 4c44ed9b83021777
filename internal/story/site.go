package story

import (
	"strings"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

// A log line that carries error.stack_trace shows its crash site: the
// first frame of the application's own code (gostack.CrashSite: not the
// standard library, gRPC, go-grpc-middleware, OpenTelemetry, glassbox, nor
// a dependency), where the error was created or the panic happened.

// siteText is "at <function> (<file>:<line>)" in full.
func siteText(f *gostack.Frame) string {
	return "at " + clean(f.Function) + " (" + clean(f.Location()) + ")"
}

// siteLines fits a crash site into room columns: on one line in full
// when it fits; else with the file's directories shortened from the left
// ("…/checkout/payments.go:68"); else also without the function's package
// path ("orders.(*Store).Save"); else on two lines, the function cut to
// room. The file's base name and line number are never cut: that line
// may be wider than room (the caller moves it left).
func siteLines(f *gostack.Frame, room int) []string {
	fn, loc := clean(f.Function), clean(f.Location())
	one := func(fn, loc string) string { return "at " + fn + " (" + loc + ")" }
	if s := one(fn, loc); width(s) <= room {
		return []string{s}
	}
	for _, name := range []string{fn, shortFunc(fn)} {
		if avail := room - width(one(name, "")); avail > 0 {
			if s := one(name, shortPath(loc, avail)); width(s) <= room {
				return []string{s}
			}
		}
	}
	name := shortFunc(fn)
	return []string{cut("at "+name, room), "   (" + shortPath(loc, max(room-5, 1)) + ")"}
}

// shortFunc drops the directories of a function's package path:
// "github.com/acme/shop/orders.(*Store).Save" -> "orders.(*Store).Save".
func shortFunc(fn string) string {
	pkg := gostack.Frame{Function: fn}.Package()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 && strings.HasPrefix(fn, pkg) {
		return fn[i+1:]
	}
	return fn
}

// shortPath shortens a file path to w columns by replacing leading
// directories with "…/", keeping as many trailing elements as fit (at
// least the base name).
func shortPath(p string, w int) string {
	if width(p) <= w {
		return p
	}
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	for k := len(parts) - 1; k >= 1; k-- {
		if s := "…/" + strings.Join(parts[len(parts)-k:], "/"); width(s) <= w {
			return s
		}
	}
	if len(parts) > 0 {
		return parts[len(parts)-1]
	}
	return p
}
