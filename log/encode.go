package log

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// state is the per-call scratch space, pooled so that encoding a record
// allocates nothing.
type state struct {
	c     *core // the handler's core, while a record is encoded
	buf   []byte
	entry Entry
	marks []int
	// keys makes every key written unique in its object and safe for
	// Elasticsearch (see ecs.Keys).
	keys ecs.Keys
	kv   keyVerdict // a verdict worked out for a key the cache lacks
	top  bool       // writing the document's top level
	err  error      // first error value seen anywhere in the record
	ecs  bool       // the error.* fields have been written
	tmp  []byte
	// ts writes @timestamp, reusing the text of the last second it wrote
	// (records come in the same second, and a state serves one P); tv
	// does the same for the time values of attributes, apart, so that
	// neither evicts the other.
	ts, tv jsonenc.TimeCache
}

// maxPooledBuf is the largest buffer returned to the pool; bigger ones are
// left to the garbage collector so one huge record does not pin memory.
const maxPooledBuf = 64 << 10

var statePool = sync.Pool{New: func() any {
	return &state{buf: make([]byte, 0, 1024), marks: make([]int, 0, 4)}
}}

func getState(c *core) *state {
	st := statePool.Get().(*state)
	st.c = c
	return st
}

func putState(st *state) {
	if cap(st.buf) > maxPooledBuf || cap(st.tmp) > maxPooledBuf {
		return
	}
	st.c, st.err, st.ecs, st.kv = nil, nil, false, keyVerdict{}
	st.keys.Reset()
	statePool.Put(st)
}

// appendAttr appends `,"key":value` (no comma directly after '{').
func (st *state) appendAttr(b []byte, c *core, a slog.Attr) []byte {
	v := a.Value
	kind := v.Kind()
	switch {
	case kind == slog.KindAny && a.Key == "" && v.Any() == nil:
		return b // the zero Attr, which slog says to ignore
	case kind == slog.KindLogValuer:
		// Errors that are also LogValuers keep their error-ness; see below.
		if err, ok := v.Any().(error); ok {
			return st.appendError(b, c, a.Key, err)
		}
		v = v.Resolve()
		kind = v.Kind()
	}
	// kv may be st.kv, which the next key overwrites: it is used before
	// any nested attribute is written.
	kv := c.keys.verdict(a.Key, c.redactor, &st.kv)
	if kv.redact {
		b = st.appendKeyVerdict(b, kv)
		return append(b, `"`+Redacted+`"`...)
	}
	switch kind {
	case slog.KindGroup:
		attrs := v.Group()
		if len(attrs) == 0 {
			return b
		}
		if a.Key == "" {
			for _, ga := range attrs {
				b = st.appendAttr(b, c, ga)
			}
			return b
		}
		mark, nkeys := len(b), st.keys.Len()
		b = st.appendKeyVerdict(b, kv)
		b = st.appendObject(b, c, attrs)
		if b[len(b)-1] == '{' {
			st.keys.Truncate(nkeys)
			return b[:mark] // every member was empty
		}
		return append(b, '}')
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return st.appendError(b, c, a.Key, err)
		}
	}
	b = st.appendKeyVerdict(b, kv)
	return st.appendKindValue(b, c, v, kind)
}

// appendError writes the first top-level error as the ECS fields
// error.message, error.type and error.stack_trace (when the error carries
// a stack), plus the error's attributes (when it implements slog.LogValuer
// resolving to a group). Other errors are written as their message.
func (st *state) appendError(b []byte, c *core, key string, err error) []byte {
	if isNil(err) {
		b = st.appendKey(b, key)
		return append(b, "null"...)
	}
	if st.err == nil {
		st.err = err
	}
	if !st.top || st.ecs {
		b = st.appendKey(b, key)
		return jsonenc.AppendString(b, safeError(err))
	}
	st.ecs = true
	b = st.appendKey(b, ecs.ErrorMessage)
	b = jsonenc.AppendString(b, safeError(err))
	b = st.appendKey(b, ecs.ErrorType)
	b = jsonenc.AppendString(b, errtype.Name(err))
	stacker, lv := errorParts(err)
	if stacker != nil {
		if stack := stacker.StackTrace(); len(stack) > 0 {
			b = st.appendKey(b, ecs.ErrorStackTrace)
			st.tmp = appendStack(st.tmp[:0], stack)
			b = jsonenc.AppendString(b, unsafeString(st.tmp))
		}
	}
	if lv != nil {
		v := safeLogValue(lv)
		if v.Kind() == slog.KindGroup {
			for _, ga := range v.Group() {
				b = st.appendAttr(b, c, ga)
			}
		}
	}
	return b
}

// StackTracer is implemented by errors that carry the program counters of
// the stack they were created on (glassbox's errors package does). The log
// handler writes the stack as error.stack_trace.
type StackTracer interface {
	StackTrace() []uintptr
}

// errorParts returns the outermost error in err's chain (depth-first
// through Unwrap() error and Unwrap() []error, like errors.As) that carries
// a stack, and the outermost that is a slog.LogValuer; nil when there is
// none. It walks the chain itself, once, because errors.As with an
// interface target allocates on every call.
func errorParts(err error) (st StackTracer, lv slog.LogValuer) {
	findParts(err, &st, &lv)
	return st, lv
}

func findParts(err error, st *StackTracer, lv *slog.LogValuer) {
	for depth := 0; err != nil && depth < 32; depth++ {
		if *st == nil {
			*st, _ = err.(StackTracer)
		}
		if *lv == nil {
			*lv, _ = err.(slog.LogValuer)
		}
		if *st != nil && *lv != nil {
			return
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if findParts(e, st, lv); *st != nil && *lv != nil {
					return
				}
			}
			return
		default:
			return
		}
	}
}

// appendStack formats pcs like a Go panic: "function\n\tfile:line\n".
func appendStack(b []byte, pcs []uintptr) []byte {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "" || f.File != "" {
			b = append(b, f.Function...)
			b = append(b, "\n\t"...)
			b = append(b, f.File...)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(f.Line), 10)
			b = append(b, '\n')
		}
		if !more {
			return b
		}
	}
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// safeError returns err.Error(), or a description when Error panics.
func safeError(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in Error(): %v", r)
		}
	}()
	return err.Error()
}

func safeLogValue(lv slog.LogValuer) (v slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			v = slog.StringValue(fmt.Sprintf("!PANIC in LogValue(): %v", r))
		}
	}()
	return slog.AnyValue(lv.LogValue()).Resolve()
}

// appendValue writes a resolved, non-group value.
func (st *state) appendValue(b []byte, c *core, v slog.Value) []byte {
	return st.appendKindValue(b, c, v, v.Kind())
}

// appendKindValue is appendValue for a value of the given kind.
func (st *state) appendKindValue(b []byte, c *core, v slog.Value, kind slog.Kind) []byte {
	switch kind {
	case slog.KindString:
		return jsonenc.AppendString(b, v.String())
	case slog.KindInt64:
		return jsonenc.AppendInt(b, v.Int64())
	case slog.KindUint64:
		return jsonenc.AppendUint(b, v.Uint64())
	case slog.KindFloat64:
		return jsonenc.AppendFloat(b, v.Float64())
	case slog.KindBool:
		return jsonenc.AppendBool(b, v.Bool())
	case slog.KindDuration:
		// Nanoseconds as an integer, like ECS event.duration.
		return jsonenc.AppendInt(b, int64(v.Duration()))
	case slog.KindTime:
		return st.appendTime(b, v.Time())
	case slog.KindGroup:
		// Only reached for a LogValuer resolving to a group; write it nested.
		return append(st.appendObject(b, c, v.Group()), '}')
	case slog.KindLogValuer:
		return st.appendValue(b, c, v.Resolve())
	}
	return st.appendAny(b, c, v.Any())
}

func (st *state) appendAny(b []byte, c *core, x any) []byte {
	switch x := x.(type) {
	case nil:
		return append(b, "null"...)
	case []byte:
		return jsonenc.AppendBytesAsString(b, x)
	case error:
		return jsonenc.AppendString(b, safeError(x))
	case time.Time:
		return st.appendTime(b, x)
	case json.Marshaler, encoding.TextMarshaler:
		// fall through to encoding/json below
	case fmt.Stringer:
		if isNil(x) {
			return append(b, "null"...)
		}
		return jsonenc.AppendString(b, safeString(x))
	}
	return st.appendJSON(b, x, c.redactor)
}

// appendTime writes a time value as jsonenc.AppendTime does.
func (st *state) appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	return append(st.tv.AppendTimeContent(b, t), '"')
}

func safeString(s fmt.Stringer) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("!PANIC in String(): %v", r)
		}
	}()
	return s.String()
}

// appendJSON writes x with encoding/json, the slow path for values of
// arbitrary types (structs, maps, slices, protobuf messages). Keys inside
// are made safe and unique like top-level ones (see ecs.Keys.AppendJSON),
// and object keys anywhere inside that match the redactor get
// "[REDACTED]" as their value, as a top-level attribute would. A value
// encoding/json cannot handle is written as a string with its %+v form
// (not redacted by key: it has none); a panic in a Marshal method is
// caught.
func (st *state) appendJSON(b []byte, x any, r *Redactor) []byte {
	j, err := safeMarshal(x)
	switch {
	case err != nil:
		return jsonenc.AppendString(b, err.Error())
	case bytes.IndexByte(j, '{') < 0:
		return append(b, j...)
	}
	var match func(string) bool
	if r != nil {
		match = r.Match
	}
	return st.keys.AppendJSON(b, j, match, Redacted)
}

// safeMarshal is json.Marshal, whose output is compact, valid UTF-8 JSON
// on one line, with U+2028 and U+2029 escaped. Its error, or a panic in a
// Marshal method, comes back as the text to write instead.
func safeMarshal(x any) (j []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			j, err = nil, fmt.Errorf("!PANIC in MarshalJSON: %v", p)
		}
	}()
	if j, err = json.Marshal(x); err != nil {
		return nil, fmt.Errorf("%+v", x)
	}
	return j, nil
}

// appendObject writes '{' and attrs as the members of a new object, in a
// new key scope; the caller writes the closing '}'.
func (st *state) appendObject(b []byte, c *core, attrs []slog.Attr) []byte {
	b = append(b, '{')
	saved, savedTop := st.keys.Open(), st.top
	st.top = false
	for _, ga := range attrs {
		b = st.appendAttr(b, c, ga)
	}
	st.keys.Close(saved)
	st.top = savedTop
	return b
}

// appendKey writes the separator and `"key":`, the key made safe for
// Elasticsearch and unique in its object by ecs.Keys: empty and blank
// keys and segments get '_'; a key that repeats one of the current
// object, or that shadows a field the handler writes itself at the top
// level, gets a numeric suffix ("message" becomes "message_2" when user
// supplied).
func (st *state) appendKey(b []byte, key string) []byte {
	return st.appendKeyVerdict(b, st.c.keys.verdict(key, st.c.redactor, &st.kv))
}

// appendKeyVerdict is appendKey for a key whose verdict is known.
func (st *state) appendKeyVerdict(b []byte, kv *keyVerdict) []byte {
	return st.keys.AppendKeyInfo(b, kv.key, &kv.info, st.top)
}
