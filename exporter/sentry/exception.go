package sentry

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// maxChain caps the exceptions of one event; maxMessageLen the bytes of
// an exception's message.
const (
	maxChain      = 32
	maxMessageLen = 4 << 10
)

// panicError is the exception of a panic whose value is not an error.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprint(p.value) }

// statusError is the exception of a failing status without an error.
type statusError struct {
	msg  string
	grpc bool
}

func (s *statusError) Error() string { return s.msg }

// stackTracer is implemented by errors that carry the stack they were
// created on: glassbox's errors, and any error with the same method.
type stackTracer interface{ StackTrace() []uintptr }

// exceptionsOf returns the exception chain of err, root cause first and
// the outermost error last, as Sentry lists it. Every error keeps the
// stack it carries. Attribute carriers (errors.With) are not a link of
// their own: the error they wrap takes their place. Mechanisms link the
// chain when it has more than one error. Each message goes through scrub
// (the request's Scrub: a message may quote the request's token) before
// it is sanitised and cut.
func exceptionsOf(err error, scrub func(string) string) []exception {
	c := chain{seen: map[uintptr]bool{}, scrub: scrub}
	c.visit(err, nil, "")
	out := c.out
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) == 1 {
		out[0].Mechanism = nil
	}
	return out
}

type chain struct {
	out   []exception
	seen  map[uintptr]bool // pointer errors already in the chain
	scrub func(string) string
}

func (c *chain) visit(err error, parent *int, source string) {
	for i := 0; i < maxChain && err != nil; i++ {
		cr, ok := err.(errtype.Carrier)
		if !ok {
			break
		}
		err = cr.Unwrap()
	}
	if err == nil || len(c.out) >= maxChain || c.repeated(err) {
		return
	}
	id := len(c.out)
	_, group := err.(interface{ Unwrap() []error })
	m := &mechanism{Type: mechanismChained, ExceptionID: id, ParentID: parent, Source: source, IsExceptionGroup: group}
	if parent == nil {
		m.Type, m.Source = mechanismGeneric, ""
	}
	e := exception{Type: exceptionType(err), Value: textsafe.Sanitize(c.scrub(safeError(err)), maxMessageLen), Mechanism: m}
	if st, ok := err.(stackTracer); ok {
		if frames := framesOf(st.StackTrace()); len(frames) > 0 {
			e.Stacktrace = &stacktrace{Frames: frames}
		}
	}
	c.out = append(c.out, e)
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for i, child := range x.Unwrap() {
			c.visit(child, &id, "errors["+strconv.Itoa(i)+"]")
		}
	case interface{ Unwrap() error }:
		c.visit(x.Unwrap(), &id, sourceUnwrap)
	case interface{ Cause() error }:
		c.visit(x.Cause(), &id, sourceCause)
	}
}

// repeated reports whether err, a pointer, is already in the chain (a
// cycle, or an error joined twice).
func (c *chain) repeated(err error) bool {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	p := v.Pointer()
	if c.seen[p] {
		return true
	}
	c.seen[p] = true
	return false
}

// exceptionType is the Go type of err, or what glassbox's own
// placeholders stand for.
func exceptionType(err error) string {
	switch x := err.(type) {
	case *panicError:
		return "panic"
	case *statusError:
		if x.grpc {
			return "GRPCStatus"
		}
		return "HTTPStatus"
	}
	return reflect.TypeOf(err).String()
}

// safeError returns err.Error(), or a description when Error panics.
func safeError(err error) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("!PANIC in Error(): %v", p)
		}
	}()
	return err.Error()
}

// hasStack reports whether an exception of the chain has frames.
func hasStack(exc []exception) bool {
	for i := range exc {
		if exc[i].Stacktrace != nil {
			return true
		}
	}
	return false
}
