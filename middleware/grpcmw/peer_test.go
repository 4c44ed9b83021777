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

func TestPeerCacheSplitsEachAddress(t *testing.T) {
	var pc peerCache
	type want struct {
		host string
		port int
		ip   bool
	}
	// More addresses than slots, so that slots are shared and replaced.
	var addrs []net.Addr
	var wants []want
	for i := range 3 * len(pc.slots) {
		ip := net.IPv4(10, 0, byte(i>>8), byte(i))
		addrs = append(addrs, &net.TCPAddr{IP: ip, Port: 1000 + i})
		wants = append(wants, want{ip.String(), 1000 + i, true})
	}
	addrs = append(addrs,
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8443, Zone: "eth0"},
		&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7)}, // port 0: none recorded
		&net.UnixAddr{Name: "/run/app.sock", Net: "unix"},
		&net.UnixAddr{Name: "/run/odd:name", Net: "unix"},
		unixish{"bufconn"},
		unixish{"198.51.100.4:9000"}, // an IP address of another type is split too
		unixish{"db.internal:5432"},  // a host name is not an IP address: kept whole
	)
	wants = append(wants,
		want{"2001:db8::1", 443, true},
		want{"fe80::1%eth0", 8443, false}, // split, but no value for client.ip
		want{"192.0.2.7", 0, true},
		want{"/run/app.sock", 0, false},
		want{"/run/odd:name", 0, false},
		want{"bufconn", 0, false},
		want{"198.51.100.4", 9000, true},
		want{"db.internal:5432", 0, false},
	)
	for round := range 3 {
		for i, a := range addrs {
			got, w := pc.lookup(a), wants[i]
			if got.raw != a.String() || got.host != w.host || got.port != w.port || got.ip != w.ip {
				t.Fatalf("round %d: lookup(%v) = %+v, want raw %q host %q port %d ip %v", round, a, got, a.String(), w.host, w.port, w.ip)
			}
		}
	}
}

func TestPeerCacheSanitisesTheHost(t *testing.T) {
	var pc peerCache
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 443, Zone: "lo\x1b[31m"},
		&net.UnixAddr{Name: "/tmp/s\r\nock", Net: "unix"},
	} {
		got := pc.lookup(a)
		if got.raw != a.String() {
			t.Errorf("raw: got %q, want %q", got.raw, a.String())
		}
		if strings.ContainsAny(got.host, "\x1b\r\n") || got.host == "" {
			t.Errorf("host of %q: got %q, want it sanitised", a.String(), got.host)
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
				a := &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(i)), Port: g*1000 + i + 1}
				if p := pc.lookup(a); p.raw != a.String() || p.port != a.Port || p.host != a.IP.String() {
					panic(fmt.Sprintf("lookup(%v) = %+v", a, p))
				}
			}
		}()
	}
	wg.Wait()
}

// A cached address costs nothing per call.
func TestPeerCacheLookupDoesNotAllocate(t *testing.T) {
	var pc peerCache
	tcp := net.Addr(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 38738})
	buf := net.Addr(unixish{"bufconn"})
	pc.lookup(tcp)
	for name, a := range map[string]net.Addr{"tcp": tcp, "bufconn": buf} {
		if n := testing.AllocsPerRun(100, func() { _ = pc.lookup(a) }); n != 0 {
			t.Errorf("%s: got %v allocations per lookup, want 0", name, n)
		}
	}
}
