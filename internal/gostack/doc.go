// Package gostack reads Go stack traces written as text, as glassbox
// stores them in error.stack_trace: runtime/debug.Stack output (a
// recovered panic) and the "function\n\tfile:line" lines the log handler
// writes for an error that carries its stack. It finds the crash site: the
// first frame of the application's own code, below the panic machinery,
// the runtime, the libraries and glassbox's instrumentation.
//
// The one call:
//
//	if f, ok := gostack.CrashSite(doc["error.stack_trace"]); ok {
//		fmt.Println("at", f.Function, f.Location())
//	}
package gostack
