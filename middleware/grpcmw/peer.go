package grpcmw

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// peerInfo is a connection's peer address, split and sanitised once.
type peerInfo struct {
	raw  string // addr.String(), for the trust decision
	host string // sanitised: the IP address of an IP peer, else raw
	port int    // 0 when the address has none
	ip   bool   // host is an IP address without a zone
}

// peerCache remembers the split address of recent connections. grpc-go
// hands every call on a connection the same net.Addr, and formatting and
// splitting it (net.TCPAddr.String) costs two allocations per call
// otherwise.
//
// It is direct-mapped by the address's pointer: a slot holds the last
// address that hashed there, so a server with many connections still
// formats each address at most once per slot change. Only pointer address
// types are cached, because only they can be compared safely and cheaply.
type peerCache struct {
	slots [64]atomic.Pointer[peerEntry]
}

type peerEntry struct {
	addr net.Addr
	info peerInfo
}

// lookup returns addr split into host and port.
func (pc *peerCache) lookup(addr net.Addr) peerInfo {
	var key unsafe.Pointer
	switch a := addr.(type) {
	case *net.TCPAddr:
		key = unsafe.Pointer(a)
	case *net.UnixAddr:
		key = unsafe.Pointer(a)
	default:
		return newPeerInfo(addr.String())
	}
	slot := &pc.slots[(uintptr(key)>>4)%uintptr(len(pc.slots))]
	if e := slot.Load(); e != nil && e.addr == addr {
		return e.info
	}
	e := &peerEntry{addr: addr, info: newPeerInfo(addr.String())}
	slot.Store(e)
	return e.info
}

// newPeerInfo splits an "ip:port" address; any other address (a unix
// socket's path, bufconn's name) is kept whole, without a port. An IP
// address or a name without a colon costs no allocation unless it needs
// sanitising.
func newPeerInfo(raw string) peerInfo {
	p := peerInfo{raw: raw, host: raw}
	// net.SplitHostPort allocates its error: only addresses with a colon
	// get that far.
	if strings.IndexByte(raw, ':') >= 0 {
		if host, port, err := net.SplitHostPort(raw); err == nil {
			if n, err := strconv.Atoi(port); err == nil && n >= 0 && n <= 65535 {
				if a, err := netip.ParseAddr(host); err == nil {
					// A zoned address (fe80::1%eth0) is no value for an
					// ECS ip field: it is recorded as a plain address.
					p.host, p.port, p.ip = host, n, a.Zone() == ""
				}
			}
		}
	}
	p.host = textsafe.Sanitize(p.host, 256)
	return p
}
