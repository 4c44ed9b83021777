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

	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// state is the per-call scratch space, pooled so that encoding a record
// allocates nothing.
type state struct {
	buf   []byte
	entry Entry
	marks []int
	// keys locate, in buf, every key written in the objects that are open;
	// keys[scope:] are those of the innermost one. They serve duplicate
	// detection (Elasticsearch rejects a document with a repeated key) on
	// the final escaped bytes, and hold no pointers, so the hot path pays
	// no GC write barriers for them.
	keys  []keyRef
	scope int
	seen  uint64 // keyBit of every key in keys[scope:]
	top   bool   // writing the document's top level
	err   error  // first error value seen anywhere in the record
	ecs   bool   // the error.* fields have been written
	tmp   []byte
}

// maxPooledBuf is the largest buffer returned to the pool; bigger ones are
// left to the garbage collector so one huge record does not pin memory.
const maxPooledBuf = 64 << 10

var statePool = sync.Pool{New: func() any {
	return &state{buf: make([]byte, 0, 1024), keys: make([]keyRef, 0, 32), marks: make([]int, 0, 4)}
}}

func getState() *state { return statePool.Get().(*state) }

func putState(st *state) {
	if cap(st.buf) > maxPooledBuf || cap(st.tmp) > maxPooledBuf {
		return
	}
	st.err, st.ecs = nil, false
	st.keys, st.scope, st.seen = st.keys[:0], 0, 0
	statePool.Put(st)
}

// appendAttr appends `,"key":value` (no comma directly after '{').
func (st *state) appendAttr(b []byte, c *core, a slog.Attr) []byte {
	v := a.Value
	if a.Key == "" && v.Kind() == slog.KindAny && v.Any() == nil {
		return b // the zero Attr, which slog says to ignore
	}
	if v.Kind() == slog.KindLogValuer {
		// Errors that are also LogValuers keep their error-ness; see below.
		if err, ok := v.Any().(error); ok {
			return st.appendError(b, c, a.Key, err)
		}
		v = v.Resolve()
	}
	if c.redactor != nil && a.Key != "" && c.redactor.Match(a.Key) {
		b = st.appendKey(b, a.Key)
		return append(b, `"`+Redacted+`"`...)
	}
	switch v.Kind() {
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
		mark, nkeys := len(b), len(st.keys)
		b = st.appendKey(b, a.Key)
		b = st.appendObject(b, c, attrs)
		if b[len(b)-1] == '{' {
			st.keys = st.keys[:nkeys]
			return b[:mark] // every member was empty
		}
		return append(b, '}')
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return st.appendError(b, c, a.Key, err)
		}
	}
	b = st.appendKey(b, a.Key)
	return st.appendValue(b, c, v)
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
	b = st.appendKey(b, "error.message")
	b = jsonenc.AppendString(b, safeError(err))
	b = st.appendKey(b, "error.type")
	b = jsonenc.AppendString(b, errtype.Name(err))
	if stack := stackOf(err); len(stack) > 0 {
		b = st.appendKey(b, "error.stack_trace")
		st.tmp = appendStack(st.tmp[:0], stack)
		b = jsonenc.AppendString(b, unsafeString(st.tmp))
	}
	if lv := findInChain[slog.LogValuer](err); lv != nil {
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

// stackOf returns the stack of the outermost error in err's chain that
// carries one.
func stackOf(err error) []uintptr {
	if st := findInChain[StackTracer](err); st != nil {
		return st.StackTrace()
	}
	return nil
}

// findInChain returns the outermost error in err's chain (depth-first
// through Unwrap() error and Unwrap() []error, like errors.As) that
// implements T, or the zero T. It walks the chain itself because errors.As
// with an interface target allocates on every call.
func findInChain[T any](err error) T {
	var zero T
	for depth := 0; err != nil && depth < 32; depth++ {
		if x, ok := err.(T); ok {
			return x
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if found, ok := any(findInChain[T](e)).(T); ok && any(found) != nil {
					return found
				}
			}
			return zero
		default:
			return zero
		}
	}
	return zero
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
	switch v.Kind() {
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
		return jsonenc.AppendTime(b, v.Time())
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
		return jsonenc.AppendTime(b, x)
	case json.Marshaler, encoding.TextMarshaler:
		// fall through to encoding/json below
	case fmt.Stringer:
		if isNil(x) {
			return append(b, "null"...)
		}
		return jsonenc.AppendString(b, safeString(x))
	}
	return appendJSON(b, x, c.redactor)
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
// arbitrary types (structs, maps, slices, protobuf messages). Object keys
// anywhere inside that match the redactor get "[REDACTED]" as their value,
// as a top-level attribute would. A value encoding/json cannot handle is
// written as a string with its %+v form (not redacted by key: it has
// none); a panic in a Marshal method is caught.
func appendJSON(b []byte, x any, r *Redactor) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			out = jsonenc.AppendString(b, fmt.Sprintf("!PANIC in MarshalJSON: %v", p))
		}
	}()
	// json.Marshal writes compact, valid UTF-8 JSON on one line, with
	// U+2028 and U+2029 escaped.
	j, err := json.Marshal(x)
	if err != nil {
		return jsonenc.AppendString(b, fmt.Sprintf("%+v", x))
	}
	if r == nil || bytes.IndexByte(j, '{') < 0 {
		return append(b, j...)
	}
	return redactJSON(b, j, r)
}

// redactJSON copies the compact JSON src to dst, replacing the value of
// every object member whose key r matches with "[REDACTED]".
func redactJSON(dst, src []byte, r *Redactor) []byte {
	var inObject []bool // per open container: is it an object?
	expectKey := false
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '{', '[':
			inObject = append(inObject, c == '{')
			expectKey = c == '{'
			dst = append(dst, c)
			i++
		case '}', ']':
			if len(inObject) > 0 {
				inObject = inObject[:len(inObject)-1]
			}
			expectKey = false
			dst = append(dst, c)
			i++
		case ',':
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			dst = append(dst, c)
			i++
		case '"':
			end := jsonValueEnd(src, i)
			dst = append(dst, src[i:end]...)
			if expectKey && end < len(src) && src[end] == ':' {
				var key string
				if json.Unmarshal(src[i:end], &key) == nil && r.Match(key) {
					dst = append(dst, `:"`+Redacted+`"`...)
					end = jsonValueEnd(src, end+1)
				}
			}
			expectKey = false
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// jsonValueEnd returns the index just past the JSON value that starts at
// src[i] (a string, object, array or scalar) in compact JSON.
func jsonValueEnd(src []byte, i int) int {
	if i >= len(src) {
		return i
	}
	switch src[i] {
	case '"':
		for j := i + 1; j < len(src); j++ {
			switch src[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(src)
	case '{', '[':
		depth := 0
		for j := i; j < len(src); j++ {
			switch src[j] {
			case '"':
				j = jsonValueEnd(src, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(src)
	}
	j := i
	for j < len(src) && src[j] != ',' && src[j] != '}' && src[j] != ']' {
		j++
	}
	return j
}

// appendObject writes '{' and attrs as the members of a new object, in a
// new key scope; the caller writes the closing '}'.
func (st *state) appendObject(b []byte, c *core, attrs []slog.Attr) []byte {
	b = append(b, '{')
	savedScope, savedTop, savedSeen := st.scope, st.top, st.seen
	st.scope, st.top, st.seen = len(st.keys), false, 0
	for _, ga := range attrs {
		b = st.appendAttr(b, c, ga)
	}
	st.keys = st.keys[:st.scope]
	st.scope, st.top, st.seen = savedScope, savedTop, savedSeen
	return b
}

// keyRef locates a written key (without quotes) in the output buffer.
type keyRef struct{ off, n int32 }

// appendKey writes the separator and `"key":`, making the key safe for
// Elasticsearch: empty keys and empty path segments ("a..b", ".a", "a.")
// get '_'; a key that repeats one of the current object, or that shadows a
// field the handler writes itself at the top level, gets a numeric suffix
// ("message" becomes "message_2" when user supplied).
func (st *state) appendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	start := len(b)
	b = appendSafeKey(b, key)
	// A numeric suffix never makes a reserved name, so the reserved check
	// is needed only for the key as given.
	if (st.top && reservedKey(key)) || st.repeats(b, start) {
		end := len(b)
		for i := int64(2); ; i++ {
			b = strconv.AppendInt(append(b[:end], '_'), i, 10)
			if !st.repeats(b, start) {
				break
			}
		}
	}
	k := b[start:]
	st.seen |= keyBit(k)
	st.keys = append(st.keys, keyRef{int32(start), int32(len(k))})
	return append(b, '"', ':')
}

// keyBit is a one-bit summary of a key (its length and last byte) for the
// per-object filter st.seen: keys with different bits cannot be equal.
func keyBit(k []byte) uint64 {
	h := uint(len(k))
	if len(k) > 0 {
		h = h*31 + uint(k[len(k)-1])
	}
	return 1 << (h & 63)
}

// repeats reports whether the key in b[start:] repeats a key of the
// current object.
func (st *state) repeats(b []byte, start int) bool {
	k := b[start:]
	if st.seen&keyBit(k) == 0 {
		return false
	}
	for _, r := range st.keys[st.scope:] {
		if int(r.n) == len(k) && bytes.Equal(b[r.off:r.off+r.n], k) {
			return true
		}
	}
	return false
}

// reservedKey reports whether the handler writes key at the top level
// itself, or Elasticsearch reserves it as a metadata field. error.* keys are written by appendError through appendKey and are
// handled by duplicate detection instead.
func reservedKey(k string) bool {
	// Every reserved key is 3 to 22 bytes long and starts with one of
	// "@_cdehlmst": reject the common case before the string switch.
	if len(k) < 3 || len(k) > 22 || !reservedFirst[k[0]] {
		return false
	}
	switch k {
	// Elasticsearch metadata fields: a document with one of these as a
	// top-level key is rejected whatever the mapping.
	case "_id", "_index", "_source", "_routing", "_version", "_seq_no", "_primary_term",
		"_ignored", "_ignored_source", "_field_names", "_tier", "_doc_count", "_nested_path",
		"_data_stream_timestamp", "_feature", "_size", "_meta", "_type", "_uid", "_parent":
		return true
	case "@timestamp", "log.level", "message", "ecs.version", "log.logger",
		"service.name", "service.version", "service.environment", "host.name",
		"event.dataset", "data_stream.type", "data_stream.dataset",
		"data_stream.namespace", "correlation.id", "trace.id", "span.id",
		"log.origin.file.name", "log.origin.file.line", "log.origin.function":
		return true
	}
	return false
}

// plainKey[c] is true for bytes that can be copied into a key as they
// are: printable ASCII other than '"', '\\' and '.'.
var plainKey = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '.'
	}
	return t
}()

var reservedFirst = func() (t [256]bool) {
	for _, c := range "@_cdehlmst" {
		t[c] = true
	}
	return t
}()

// appendSafeKey escapes key and replaces what Elasticsearch rejects in a
// field name: an empty name, and empty segments around dots.
func appendSafeKey(b []byte, key string) []byte {
	i := 0
	for i < len(key) && plainKey[key[i]] {
		i++
	}
	if i == len(key) {
		if i == 0 {
			return append(b, '_')
		}
		return append(b, key...) // the common case: one pass, one copy
	}
	start := len(b)
	b = jsonenc.AppendStringContent(b, key)
	out := b[start:]
	for i, ch := range out {
		if ch != '.' {
			continue
		}
		if i == 0 || i == len(out)-1 || out[i-1] == '.' || out[i-1] == '_' && i >= 2 && out[i-2] == '.' {
			out[i] = '_'
		}
	}
	return b
}
