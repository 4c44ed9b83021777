package log

import (
	"context"
	"encoding/binary"
	"unsafe"
)

// unsafeString views b as a string without copying; b must not change
// while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// sameContext reports whether a and b are the same context value: the
// same dynamic type and the same data word. Unlike a == b it cannot panic
// on a context type that is not comparable; two equal values boxed apart
// are reported different, which only costs a flight buffer a scope entry.
func sameContext(a, b context.Context) bool {
	type iface struct{ typ, data unsafe.Pointer }
	x, y := (*iface)(unsafe.Pointer(&a)), (*iface)(unsafe.Pointer(&b))
	return x.typ == y.typ && x.data == y.data
}

// load64 reads s[i:i+8] as a little-endian uint64; i+8 <= len(s).
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

// load32 reads s[i:i+4] as a little-endian uint32; i+4 <= len(s).
func load32(s string, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[i:]), 4))
}
