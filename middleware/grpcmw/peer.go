package grpcmw

import (
	"net"
	"sync/atomic"
	"unsafe"

	"github.com/glassbox-obs/glassbox/middleware"
)

// peerCache remembers the formatted address of recent connections. grpc-go
// hands every call on a connection the same net.Addr, and formatting it
// (net.TCPAddr.String) costs two allocations per call otherwise.
//
// It is direct-mapped by the address's pointer: a slot holds the last
// address that hashed there, so a server with many connections still
// formats each address at most once per slot change. Only pointer address
// types are cached, because only they can be compared safely and cheaply.
type peerCache struct {
	slots [64]atomic.Pointer[peerEntry]
}

type peerEntry struct {
	addr      net.Addr
	raw       string // addr.String()
	sanitized string // raw, safe to record
}

// lookup returns addr.String() and its sanitised form.
func (pc *peerCache) lookup(addr net.Addr) (raw, sanitized string) {
	var key unsafe.Pointer
	switch a := addr.(type) {
	case *net.TCPAddr:
		key = unsafe.Pointer(a)
	case *net.UnixAddr:
		key = unsafe.Pointer(a)
	default:
		raw = addr.String()
		return raw, middleware.Sanitize(raw, 256)
	}
	slot := &pc.slots[(uintptr(key)>>4)%uintptr(len(pc.slots))]
	if e := slot.Load(); e != nil && e.addr == addr {
		return e.raw, e.sanitized
	}
	raw = addr.String()
	e := &peerEntry{addr: addr, raw: raw, sanitized: middleware.Sanitize(raw, 256)}
	slot.Store(e)
	return e.raw, e.sanitized
}
