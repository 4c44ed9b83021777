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
// escaped content without quotes. Bits, when not zero, is the key's
// filter summary as Keys computed it (see Keys.Refs); Add computes it when
// it is zero.
type KeyRef struct {
	Off, N int32
	Bits   uint64
}

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
	seen  uint64 // keyBits of every key in refs[scope:]
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
	if r.Bits == 0 {
		r.Bits = keyBits(b[r.Off : r.Off+r.N])
	}
	k.refs = append(k.refs, r)
	k.seen |= r.Bits
}

// KeyInfo is what AppendKey works out from a key alone: whether
// AppendSafeKey writes it unchanged, and whether it is reserved at the top
// level of each kind of document. A caller that writes the same keys over
// and over (a log handler's attribute keys) can compute it once per key
// with InspectKey, keep it, and pass it to AppendKeyInfo, which then
// writes exactly what AppendKey writes, for less.
type KeyInfo struct {
	plain    bool              // AppendSafeKey copies the key as it is
	bits     uint64            // keyBits of the key, when plain
	reserved [SpanDoc + 1]bool // by DocKind
}

// InspectKey returns the KeyInfo of key.
func InspectKey(key string) KeyInfo {
	ki := KeyInfo{plain: plainKey(key)}
	if ki.plain {
		ki.bits = keyBits([]byte(key))
	}
	ki.reserved[LogDoc] = reservedLog(key)
	ki.reserved[SpanDoc] = reservedSpan(key)
	return ki
}

// AppendKey appends a separating ',' (unless b ends with '{') and
// `"key":`, with key made safe by AppendSafeKey and unique in the current
// object; top says the current object is the document itself, where
// reserved names are renamed too.
func (k *Keys) AppendKey(b []byte, key string, top bool) []byte {
	b = appendKeyStart(b)
	start := len(b)
	b = AppendSafeKey(b, key)
	// AppendSafeKey changes a key only by escaping it or by writing "_"
	// for a segment, which never makes a reserved name; a numeric suffix
	// never makes one either. So the key as given is checked.
	return k.appendKeyEnd(b, start, keyBits(b[start:]), top && k.reserved(key))
}

// AppendKeyInfo is AppendKey for a key whose KeyInfo is ki (from
// InspectKey(key)).
func (k *Keys) AppendKeyInfo(b []byte, key string, ki *KeyInfo, top bool) []byte {
	if !ki.plain || (top && ki.reserved[k.Doc]) || k.seen&ki.bits == ki.bits {
		// To be escaped, renamed, or maybe a repeat: the general path.
		b = appendKeyStart(b)
		start := len(b)
		b = AppendSafeKey(b, key)
		return k.appendKeyEnd(b, start, keyBits(b[start:]), top && ki.reserved[k.Doc])
	}
	// Written as it is, and new in its object: no check is left to make.
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	k.refs = append(k.refs, KeyRef{int32(len(b)), int32(len(key)), ki.bits})
	k.seen |= ki.bits
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendKeyStart(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		return append(b, ',', '"')
	}
	return append(b, '"')
}

// appendKeyEnd gives the key just written at b[start:] (bits is its
// keyBits) its numeric suffix when it is to be renamed or repeats one of
// the current object, remembers it, and closes it with `":`.
func (k *Keys) appendKeyEnd(b []byte, start int, bits uint64, rename bool) []byte {
	if rename || k.repeats(b, start, bits) {
		end := len(b)
		for i := int64(2); ; i++ {
			b = strconv.AppendInt(append(b[:end], '_'), i, 10)
			bits = keyBits(b[start:])
			if !k.repeats(b, start, bits) {
				break
			}
		}
	}
	k.seen |= bits
	k.refs = append(k.refs, KeyRef{int32(start), int32(len(b) - start), bits})
	return append(b, '"', ':')
}

func (k *Keys) reserved(key string) bool {
	if k.Doc == SpanDoc {
		return reservedSpan(key)
	}
	return reservedLog(key)
}

// keyBits summarises a key in two bits (from its length and three of its
// bytes) for the per-object filter seen: keys whose bits are not all in
// seen repeat none of the object's. It reads at most three bytes, so it
// costs the same for every key.
func keyBits(kb []byte) uint64 {
	n := len(kb)
	h := uint64(n)
	if n > 0 {
		h |= uint64(kb[0])<<8 | uint64(kb[n/2])<<16 | uint64(kb[n-1])<<24
	}
	h *= 0x9e3779b97f4a7c15
	return 1<<(h>>58) | 1<<(h>>52&63)
}

// repeats reports whether the key in b[start:], whose keyBits are bits,
// repeats a key of the current object.
func (k *Keys) repeats(b []byte, start int, bits uint64) bool {
	if k.seen&bits != bits {
		return false
	}
	kb := b[start:]
	for _, r := range k.refs[k.scope:] {
		if int(r.N) == len(kb) && r.Bits == bits && bytes.Equal(b[r.Off:r.Off+r.N], kb) {
			return true
		}
	}
	return false
}
