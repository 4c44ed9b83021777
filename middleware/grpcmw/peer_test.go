package grpcmw

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// unixish is a net.Addr of a value type, as bufconn's is: never cached.
type unixish struct{ name string }

func (u unixish) Network() string { return "test" }
func (u unixish) String() string  { return u.name }

func TestPeerCacheReturnsEachAddressItsOwnString(t *testing.T) {
	var pc peerCache
	// More addresses than slots, so that slots are shared and replaced.
	addrs := make([]net.Addr, 3*len(pc.slots))
	for i := range addrs {
		addrs[i] = &net.TCPAddr{IP: net.IPv4(10, 0, byte(i>>8), byte(i)), Port: 1000 + i}
	}
	addrs = append(addrs, &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, unixish{"bufconn"},
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 443, Zone: "lo\x1b[31m"})
	for round := 0; round < 3; round++ {
		for _, a := range addrs {
			raw, safe := pc.lookup(a)
			if raw != a.String() {
				t.Fatalf("round %d: raw = %q, want %q", round, raw, a.String())
			}
			if strings.ContainsRune(raw, 0x1b) {
				if strings.ContainsRune(safe, 0x1b) || !strings.Contains(safe, "::1") {
					t.Fatalf("round %d: sanitized = %q still has the escape or lost the address", round, safe)
				}
			} else if safe != raw {
				t.Fatalf("round %d: sanitized = %q, want it unchanged: %q", round, safe, raw)
			}
		}
	}
}

func TestPeerCacheIsSafeForConcurrentUse(t *testing.T) {
	var pc peerCache
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				a := &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(i)), Port: g*1000 + i}
				if raw, _ := pc.lookup(a); raw != a.String() {
					panic(fmt.Sprintf("lookup(%v) = %q", a, raw))
				}
			}
		}()
	}
	wg.Wait()
}
