package ecs

import (
	"bytes"
	"strconv"
)

// DocKind says which top-level names a document reserves.
type DocKind uint8

const (
	// LogDoc documents reserve LogFields and MetadataFields.
	LogDoc DocKind = iota
	// SpanDoc documents reserve SpanFields and MetadataFields.
	SpanDoc
)

// KeyRef locates a key written into a buffer: b[Off:Off+N], the key's
// escaped content without quotes.
type KeyRef struct{ Off, N int32 }

// Keys writes the keys of one JSON document being appended to a buffer,
// so that no object in it repeats a key: a key that repeats one of the
// same object, or that is reserved at the top level (see DocKind), gets
// the first free numeric suffix ("message" becomes "message_2", a second
// "a" becomes "a_2", a third "a_3"). Keys are compared as written, which
// is as JSON parsers compare them, jsonenc's encoding being canonical.
//
// It remembers where keys are (offsets into the buffer, no pointers, so
// the hot path pays no write barriers), so the buffer must only grow
// while a document is written. The zero Keys is a log document's; Keys is
// not safe for concurrent use.
type Keys struct {
	// Doc chooses the reserved top-level names.
	Doc DocKind

	refs  []KeyRef
	scope int    // refs[scope:] are the keys of the innermost open object
	seen  uint64 // keyBit of every key in refs[scope:]
}

// Scope is what Open saved of the enclosing object.
type Scope struct {
	scope int
	seen  uint64
}

// Reset forgets every key, for a new document.
func (k *Keys) Reset() { k.refs, k.scope, k.seen = k.refs[:0], 0, 0 }

// Open begins a nested object: the keys written until Close are checked
// against each other only.
func (k *Keys) Open() Scope {
	s := Scope{k.scope, k.seen}
	k.scope, k.seen = len(k.refs), 0
	return s
}

// Close ends the object Open began, forgetting its keys.
func (k *Keys) Close(s Scope) {
	k.refs = k.refs[:k.scope]
	k.scope, k.seen = s.scope, s.seen
}

// Len is the number of keys remembered, for Truncate.
func (k *Keys) Len() int { return len(k.refs) }

// Truncate forgets the keys written after Len returned n, when the caller
// takes back what it wrote (an object that stayed empty).
func (k *Keys) Truncate(n int) { k.refs = k.refs[:n] }

// Refs returns the keys remembered, oldest first; the slice is valid until
// the next call that writes or forgets keys.
func (k *Keys) Refs() []KeyRef { return k.refs }

// Add remembers, in the current object, a key already written at
// b[r.Off:r.Off+r.N] (by an earlier AppendKey into other bytes now copied
// into b).
func (k *Keys) Add(b []byte, r KeyRef) {
	k.refs = append(k.refs, r)
	k.seen |= keyBit(b[r.Off : r.Off+r.N])
}

// AppendKey appends a separating ',' (unless b ends with '{') and
// `"key":`, with key made safe by AppendSafeKey and unique in the current
// object; top says the current object is the document itself, where
// reserved names are renamed too.
func (k *Keys) AppendKey(b []byte, key string, top bool) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	start := len(b)
	b = AppendSafeKey(b, key)
	// AppendSafeKey changes a key only by escaping it or by writing "_"
	// for a segment, which never makes a reserved name; a numeric suffix
	// never makes one either. So the key as given is checked.
	if (top && k.reserved(key)) || k.repeats(b, start) {
		end := len(b)
		for i := int64(2); ; i++ {
			b = strconv.AppendInt(append(b[:end], '_'), i, 10)
			if !k.repeats(b, start) {
				break
			}
		}
	}
	kb := b[start:]
	k.seen |= keyBit(kb)
	k.refs = append(k.refs, KeyRef{int32(start), int32(len(kb))})
	return append(b, '"', ':')
}

func (k *Keys) reserved(key string) bool {
	if k.Doc == SpanDoc {
		return reservedSpan(key)
	}
	return reservedLog(key)
}

// keyBit is a one-bit summary of a key (its length and last byte) for the
// per-object filter seen: keys with different bits cannot be equal.
func keyBit(kb []byte) uint64 {
	h := uint(len(kb))
	if len(kb) > 0 {
		h = h*31 + uint(kb[len(kb)-1])
	}
	return 1 << (h & 63)
}

// repeats reports whether the key in b[start:] repeats a key of the
// current object.
func (k *Keys) repeats(b []byte, start int) bool {
	kb := b[start:]
	if k.seen&keyBit(kb) == 0 {
		return false
	}
	for _, r := range k.refs[k.scope:] {
		if int(r.N) == len(kb) && bytes.Equal(b[r.Off:r.Off+r.N], kb) {
			return true
		}
	}
	return false
}
