package errtype

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// Carrier is implemented by errors that only carry attributes for the
// error they wrap: they have its message, no stack and no type worth
// naming (glassbox's errors.With returns one). error.type and the Sentry
// exception chain look through them to the error they wrap.
type Carrier interface {
	error
	Unwrap() error
	// AttrCarrier marks the error as an attribute carrier; it does
	// nothing.
	AttrCarrier()
}

// maxChain bounds the walk down a chain, so that a cyclic or absurdly
// deep chain cannot hang it.
const maxChain = 100

// Name returns error.type for err: the Go type ("*os.PathError") of the
// first error in err's chain (through Unwrap() error) that is neither a
// Carrier nor fmt.Errorf's single-%w wrapper, which says nothing about
// what failed; the last error of the chain when all are. Name(nil) is
// "<nil>", as fmt's %T has it.
func Name(err error) string {
	if err == nil {
		return "<nil>"
	}
	for range maxChain {
		if !skipped(err) {
			break
		}
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return reflect.TypeOf(err).String()
}

// OfValue returns error.type for a value recovered from a panic (or any
// value): Name for an error, else the value's Go type ("string").
func OfValue(v any) string {
	if err, ok := v.(error); ok {
		return Name(err)
	}
	if v == nil {
		return "<nil>"
	}
	return reflect.TypeOf(v).String()
}

// skipped reports whether err is a layer error.type looks through: a Carrier
// or fmt.Errorf's single-%w wrapper.
func skipped(err error) bool {
	if _, ok := err.(Carrier); ok {
		return true
	}
	return reflect.TypeOf(err) == fmtWrapType()
}

// fmtWrap is the type of fmt.Errorf("%w", err), found on first use (the
// type is unexported: it is compared, never named).
var fmtWrap struct {
	once sync.Once
	t    reflect.Type
}

func fmtWrapType() reflect.Type {
	fmtWrap.once.Do(func() { fmtWrap.t = reflect.TypeOf(fmt.Errorf("%w", errors.ErrUnsupported)) })
	return fmtWrap.t
}
