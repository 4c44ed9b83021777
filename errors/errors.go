package errors

import (
	stderrors "errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"

	"github.com/glassbox-obs/glassbox/internal/errtype"
)

// maxDepth is the number of frames a stack keeps.
const maxDepth = 32

// stack holds the program counters of a stack. It is embedded by value so
// that creating an error is a single allocation.
type stack struct {
	pcs [maxDepth]uintptr
	n   int
}

// capture records the stack of its caller's caller's caller: skip counts
// the frames of this package between the user and capture.
func (s *stack) capture(skip int) {
	s.n = runtime.Callers(skip+2, s.pcs[:])
}

// StackTrace returns the program counters of the stack the error was
// created on, innermost first, as runtime.Callers returns them (pass them
// to runtime.CallersFrames). The slice must not be modified.
//
// The glassbox log handler writes it as error.stack_trace, and sentry-go
// finds it by its name and turns it into the exception's frames.
func (s *stack) StackTrace() []uintptr { return s.pcs[:s.n:s.n] }

// Error is an error created by New, Errorf or Wrap: a message, an optional
// cause, the stack it was created on and attributes.
//
// Errors are immutable: With returns a new error instead of changing one,
// so sentinel errors can be shared safely.
type Error struct {
	msg   string
	cause error // nil for New
	// wrapped is fmt.Errorf's error when Errorf was used; Error() and
	// Unwrap() defer to it.
	wrapped error
	attrs   []slog.Attr
	stack
}

// New returns an error with the message text and the stack of the caller.
func New(text string) error {
	e := &Error{msg: text}
	e.capture(1)
	return e
}

// Errorf formats like fmt.Errorf, including %w to wrap one or more errors,
// and records the stack of the caller.
func Errorf(format string, args ...any) error {
	w := fmt.Errorf(format, args...)
	if m, ok := w.(interface{ Unwrap() []error }); ok {
		e := &multiError{wrapped: w, errs: m.Unwrap()}
		e.capture(1)
		return e
	}
	e := &Error{wrapped: w, cause: stderrors.Unwrap(w)}
	e.capture(1)
	return e
}

// Wrap returns an error whose message is msg followed by ": " and err's
// message, which unwraps to err, and which records the stack of the caller.
// Wrap returns nil when err is nil.
func Wrap(err error, msg string) error {
	if err == nil {
		return nil
	}
	e := &Error{msg: msg, cause: err}
	e.capture(1)
	return e
}

// Error returns the message, followed by the cause's message for Wrap.
func (e *Error) Error() string {
	switch {
	case e.wrapped != nil:
		return e.wrapped.Error()
	case e.cause == nil:
		return e.msg
	case e.msg == "":
		return e.cause.Error()
	}
	return e.msg + ": " + e.cause.Error()
}

// Unwrap returns the wrapped error, or nil.
func (e *Error) Unwrap() error { return e.cause }

// LogValue returns a group of the attributes attached to the error and to
// the errors it wraps, outer ones winning on duplicate keys. The glassbox
// log handler writes error.message, error.type and error.stack_trace
// itself and then these attributes.
func (e *Error) LogValue() slog.Value { return attrsValue(e) }

// Format prints the message for %s and %v, and the message followed by
// the stack for %+v.
func (e *Error) Format(f fmt.State, verb rune) { format(e, &e.stack, f, verb) }

// multiError is what Errorf returns when the format wraps several errors.
type multiError struct {
	wrapped error
	errs    []error
	stack
}

func (e *multiError) Error() string              { return e.wrapped.Error() }
func (e *multiError) Unwrap() []error            { return e.errs }
func (e *multiError) LogValue() slog.Value       { return attrsValue(e) }
func (e *multiError) Format(f fmt.State, v rune) { format(e, &e.stack, f, v) }

// attrError is what With returns: the same error with attributes. It has
// no stack of its own; the stack of the error it wraps is found through
// Unwrap (errors.As for the log handler, the exception chain for Sentry).
// It is an errtype.Carrier: error.type and the Sentry exception chain look
// through it to the error it wraps.
type attrError struct {
	err   error
	attrs []slog.Attr
}

var _ errtype.Carrier = (*attrError)(nil)

// With returns err with the attributes given as alternating keys and
// values, or as slog.Attr values, like slog.Logger.Info's args. The result
// unwraps to err, has err's message, and logs the attributes as top-level
// fields; in Sentry events they appear in the "error" context.
// With returns nil when err is nil.
func With(err error, args ...any) error {
	if err == nil {
		return nil
	}
	return &attrError{err: err, attrs: argsToAttrs(args)}
}

func (e *attrError) Error() string        { return e.err.Error() }
func (e *attrError) Unwrap() error        { return e.err }
func (e *attrError) AttrCarrier()         {}
func (e *attrError) LogValue() slog.Value { return attrsValue(e) }
func (e *attrError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "%+v", e.err)
		return
	}
	_, _ = io.WriteString(f, e.Error())
}

const badKey = "!BADKEY"

// argsToAttrs converts slog-style arguments, the way slog does.
func argsToAttrs(args []any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(args)/2+1)
	for len(args) > 0 {
		switch x := args[0].(type) {
		case string:
			if len(args) == 1 {
				attrs = append(attrs, slog.String(badKey, x))
				args = nil
				continue
			}
			attrs = append(attrs, slog.Any(x, args[1]))
			args = args[2:]
		case slog.Attr:
			attrs = append(attrs, x)
			args = args[1:]
		default:
			attrs = append(attrs, slog.Any(badKey, x))
			args = args[1:]
		}
	}
	return attrs
}

// Attrs returns the attributes attached to err and to every error it wraps,
// outer ones first and winning on duplicate keys. It returns nil when there
// are none.
func Attrs(err error) []slog.Attr {
	var out []slog.Attr
	seen := map[string]bool{}
	walk(err, func(e error) {
		var attrs []slog.Attr
		switch x := e.(type) {
		case *Error:
			attrs = x.attrs
		case *attrError:
			attrs = x.attrs
		}
		for _, a := range attrs {
			if seen[a.Key] {
				continue
			}
			seen[a.Key] = true
			out = append(out, a)
		}
	})
	return out
}

// walk calls f for err and every error in its tree, depth first, outer
// first. It stops after a bounded number of errors so that a cyclic or
// absurdly deep chain cannot hang it.
func walk(err error, f func(error)) {
	budget := 100
	var rec func(error)
	rec = func(e error) {
		for e != nil && budget > 0 {
			budget--
			f(e)
			switch x := e.(type) {
			case interface{ Unwrap() error }:
				e = x.Unwrap()
			case interface{ Unwrap() []error }:
				for _, c := range x.Unwrap() {
					rec(c)
				}
				return
			default:
				return
			}
		}
	}
	rec(err)
}

func attrsValue(err error) slog.Value { return slog.GroupValue(Attrs(err)...) }

func format(err error, s *stack, f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('+') {
			_, _ = io.WriteString(f, err.Error())
			frames := runtime.CallersFrames(s.StackTrace())
			for {
				fr, more := frames.Next()
				if fr.Function != "" {
					_, _ = io.WriteString(f, "\n"+fr.Function+"\n\t"+fr.File+":"+strconv.Itoa(fr.Line))
				}
				if !more {
					break
				}
			}
			return
		}
		fallthrough
	case 's':
		_, _ = io.WriteString(f, err.Error())
	case 'q':
		_, _ = io.WriteString(f, strconv.Quote(err.Error()))
	}
}

// Is reports whether any error in err's tree matches target; it is the
// standard errors.Is.
func Is(err, target error) bool { return stderrors.Is(err, target) }

// As finds the first error in err's tree that matches target and sets
// target to it; it is the standard errors.As.
func As(err error, target any) bool { return stderrors.As(err, target) }

// AsType finds the first error in err's tree of type E; it is the standard
// errors.AsType.
func AsType[E error](err error) (E, bool) { return stderrors.AsType[E](err) }

// Unwrap returns the result of err's Unwrap() error method, or nil; it is
// the standard errors.Unwrap.
func Unwrap(err error) error { return stderrors.Unwrap(err) }

// Join returns an error that wraps the given errors, ignoring nils; it is
// the standard errors.Join.
func Join(errs ...error) error { return stderrors.Join(errs...) }
